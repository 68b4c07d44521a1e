//! The built Worker in workerd, driven through tests/harness.mjs (Miniflare's API).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use otlp2parquet_testkit::{Reply, free_port, http, repo_root};

/// The crate directory.
pub fn crate_dir() -> PathBuf {
    repo_root().join("crates/otlp2parquet-cloudflare")
}

/// Builds build/index.js + build/index_bg.wasm once per test run with scripts/wasm.sh (the same
/// offline worker-build as `make wasm-full`).
pub fn build() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Command::new(repo_root().join("scripts/wasm.sh"))
                .arg("full")
                .output()
                .expect("run scripts/wasm.sh full");
            assert!(
                out.status.success(),
                "scripts/wasm.sh full failed (`make deps` installs worker-build, wasm-bindgen-cli, \
                 binaryen and wrangler):\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            crate_dir().join("build")
        })
        .clone()
}

/// Held while something may rewrite or load build/: `wrangler dev` reruns worker-build into it,
/// which must not overlap another test's workerd reading it.
pub fn build_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub use otlp2parquet_testkit::TempDir;

/// A fresh directory under target/ (beside the Worker's build), removed on drop.
pub fn temp_dir(name: &str) -> TempDir {
    TempDir::under(&repo_root().join("target/e2e-worker"), name)
}

/// The Worker running in workerd on a free 127.0.0.1 port, its R2 bucket persisted to a temp
/// directory; stopped (by PID) on drop.
pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// The harness's answers, read from its stdout by a thread that drains it all the time
    /// (a full pipe would stall workerd's logging and with it the requests).
    answers: Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
    pub port: u16,
    owned_state: Option<TempDir>,
}

impl Worker {
    /// Starts the built Worker with `bindings` as its vars and secrets, without the spool's
    /// Durable Object binding (so it writes each request's files, as before batching).
    pub fn start(bindings: &[(&str, &str)]) -> Worker {
        let state = temp_dir("r2");
        let mut worker = Worker::launch(bindings, &state.0, false);
        worker.owned_state = Some(state);
        worker
    }

    /// Starts the built Worker with its spool binding, R2 and Durable Object state in `state`
    /// (a second start on the same directory is the same Worker restarted).
    pub fn start_spooled(bindings: &[(&str, &str)], state: &Path) -> Worker {
        Worker::launch(bindings, state, true)
    }

    fn launch(bindings: &[(&str, &str)], state: &Path, spool: bool) -> Worker {
        let build = build();
        let _loading = build_lock();
        let port = free_port();
        let bindings: serde_json::Map<String, serde_json::Value> = bindings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).into()))
            .collect();
        let opts = serde_json::json!({
            "build": build,
            "persist": state,
            "port": port,
            "bindings": bindings,
            "spool": spool,
        });
        let node_modules = crate_dir().join("node_modules");
        assert!(
            node_modules.join("miniflare").exists(),
            "{} has no miniflare: run `make deps` (npm ci in crates/otlp2parquet-cloudflare)",
            node_modules.display()
        );
        let mut child = Command::new("node")
            .arg(crate_dir().join("tests/harness.mjs"))
            .arg(opts.to_string())
            .current_dir(crate_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // workerd's errors (console.error among them) come on stderr.
            .stderr(Stdio::piped())
            .spawn()
            .expect("node not found: run `make deps`");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, answers) = std::sync::mpsc::channel();
        let lines = log.clone();
        let errors = log.clone();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let tx_err = tx.clone();
        std::thread::spawn(move || drain(stdout, &tx, &lines));
        std::thread::spawn(move || drain(stderr, &tx_err, &errors));
        let mut worker = Worker {
            child,
            stdin,
            answers,
            log,
            port,
            owned_state: None,
        };
        let line = worker.line();
        assert_eq!(line, format!("ready {port}"), "harness did not start");
        worker
    }

    /// The harness's next answer.
    fn line(&mut self) -> String {
        self.answers
            .recv_timeout(Duration::from_secs(120))
            .expect("the harness exited or did not answer")
    }

    /// The Worker's log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// One request to the Worker.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        http(self.port, method, path, headers, body)
    }

    /// Kills workerd (SIGKILL, no shutdown of any kind) and then the harness: a crash.
    pub fn crash(mut self) {
        let harness = self.child.id();
        for pid in children(harness) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A round trip through the harness: what the Worker logged before is in [`Worker::log`]
    /// afterwards.
    pub fn ping(&mut self) {
        writeln!(self.stdin, "ping").unwrap();
        self.stdin.flush().unwrap();
        assert_eq!(self.line(), "pong");
    }

    /// Moves every R2 object into `dir/<key>` (the bucket is empty afterwards); returns the keys.
    pub fn take_objects(&mut self, dir: &Path) -> Vec<String> {
        std::fs::create_dir_all(dir).unwrap();
        writeln!(self.stdin, "dump {}", dir.display()).unwrap();
        self.stdin.flush().unwrap();
        let line = self.line();
        let count: usize = line
            .strip_prefix("dumped ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("harness answered {line:?}"));
        let mut keys = Vec::new();
        collect_keys(dir, dir, &mut keys);
        assert_eq!(keys.len(), count, "{keys:?}");
        keys.sort();
        keys
    }
}

/// The PIDs of the processes whose parent is `parent` (from /proc).
fn children(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the comm may hold spaces, so split after its ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

/// Reads one of the harness's outputs to its end: answers to `answers`, the Worker's own log lines to
/// stderr and to `log`.
fn drain(out: impl BufRead, answers: &Sender<String>, log: &Mutex<Vec<String>>) {
    for line in out.lines() {
        let Ok(line) = line else { return };
        match line.trim().strip_prefix("#harness ") {
            Some(answer) => {
                let _ = answers.send(answer.to_owned());
            }
            None => {
                eprintln!("worker: {line}");
                log.lock().unwrap().push(line);
            }
        }
    }
}

fn collect_keys(root: &Path, dir: &Path, keys: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_keys(root, &path, keys);
        } else {
            let rel = path.strip_prefix(root).unwrap();
            keys.push(rel.to_string_lossy().into_owned());
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The signal path of a fixture, from its file name.
pub fn signal_path(name: &str) -> &'static str {
    if name.starts_with("log") {
        "/v1/logs"
    } else if name.starts_with("trace") {
        "/v1/traces"
    } else {
        "/v1/metrics"
    }
}

/// The Content-Type of a fixture, from its extension.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".pb") {
        "application/x-protobuf"
    } else if name.ends_with(".jsonl") {
        "application/x-ndjson"
    } else {
        "application/json"
    }
}

/// Every valid request fixture (testdata/otlp, not invalid/).
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("testdata/otlp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pb") || n.ends_with(".json") || n.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

/// The `otlp2parquet` CLI, built by `cargo build -p otlp2parquet` (another package's binary, so
/// no `CARGO_BIN_EXE_*`); its path comes from cargo's JSON messages, so `CARGO_TARGET_DIR` holds.
pub fn otlp2parquet_cli() -> PathBuf {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "otlp2parquet",
                "--bin",
                "otlp2parquet",
                "--message-format=json",
            ])
            .current_dir(repo_root())
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "cargo build -p otlp2parquet failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|m| {
                let is_cli =
                    m["reason"] == "compiler-artifact" && m["target"]["name"] == "otlp2parquet";
                m["executable"]
                    .as_str()
                    .filter(|_| is_cli)
                    .map(PathBuf::from)
            })
            .expect("cargo named no otlp2parquet executable")
    })
    .clone()
}

/// `wrangler dev --local` on a free 127.0.0.1 port with a given config, its state in
/// `persist`; the whole process group (wrangler's node processes and workerd) is stopped by
/// its PID on drop.
pub struct WranglerDev {
    child: Child,
    log: PathBuf,
    pub port: u16,
}

impl WranglerDev {
    /// Starts wrangler (which runs the config's `[build]` first, with the offline worker-build
    /// tools in its environment) and waits up to `timeout` for /health to answer 200.
    pub fn start(config: &Path, persist: &Path, timeout: Duration) -> WranglerDev {
        use std::os::unix::process::CommandExt;
        let krate = crate_dir();
        let modules = krate.join("node_modules");
        let wrangler = modules.join(".bin/wrangler");
        assert!(
            wrangler.exists(),
            "{} missing: run `make deps`",
            wrangler.display()
        );
        let cargo_bin = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap()
            .join("bin");
        let path = std::env::join_paths(std::iter::once(cargo_bin.clone()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let port = free_port();
        let log = config.with_file_name("wrangler-dev.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new(&wrangler)
            .args(["dev", "--local", "--ip", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("-c")
            .arg(config)
            .arg("--persist-to")
            .arg(persist)
            .current_dir(config.parent().unwrap())
            .env("PATH", path)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .env("WASM_BINDGEN_BIN", cargo_bin.join("wasm-bindgen"))
            .env("WASM_OPT_BIN", modules.join(".bin/wasm-opt"))
            .env(
                "ESBUILD_BIN",
                modules.join("@esbuild/linux-x64/bin/esbuild"),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            // Its own process group, so drop can stop wrangler's children with it.
            .process_group(0)
            .spawn()
            .expect("start wrangler");
        let mut dev = WranglerDev { child, log, port };
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = dev.child.try_wait() {
                panic!("wrangler dev exited ({status}):\n{}", dev.log_tail());
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && dev.send("GET", "/health", &[], b"").status == 200
            {
                return dev;
            }
            assert!(
                Instant::now() < deadline,
                "wrangler dev did not answer /health within {timeout:?}:\n{}",
                dev.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The last 40 lines wrangler (and the build it ran) printed.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// One request to the Worker.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        http(self.port, method, path, headers, body)
    }
}

impl Drop for WranglerDev {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever ignored SIGTERM (or outlived its parent) in the group goes now.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
