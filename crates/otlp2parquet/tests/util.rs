//! The test harness: the `otlp2parquet` binary as a real process on a free 127.0.0.1 port,
//! with a hermetic environment, its log captured in the test directory, stopped by PID.
//!
//! The server batches rows in memory and writes them on flush (rows, bytes, age, or SIGTERM), so
//! tests read files only after [`Server::stop`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to flush and exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    pub port: u16,
    /// The OTLP/gRPC port.
    pub grpc_port: u16,
    /// The test's own directory: `data/` (the output) and `server.log` live here.
    pub dir: PathBuf,
    stopped: bool,
    args: Vec<String>,
    env: Vec<(String, String)>,
    launch: Launch,
}

/// How the harness reaches a server, and under which limits it runs.
#[derive(Clone, Default)]
pub struct Launch {
    /// The server has `server.tls` on: `/health` goes over HTTPS trusting this CA (PEM).
    pub tls_ca: Option<PathBuf>,
    /// The client certificate and key `/health` presents (mutual TLS).
    pub tls_client: Option<(PathBuf, PathBuf)>,
    /// `ulimit -n` of the server process.
    pub open_files: Option<u32>,
}

impl Server {
    /// Starts the server writing under `<CARGO_TARGET_TMPDIR>/<name>/data`.
    pub fn start(name: &str) -> Server {
        Server::start_with(name, &[])
    }

    /// Like [`Server::start`], with extra environment variables (e.g. batch limits).
    pub fn start_with(name: &str, env: &[(&str, &str)]) -> Server {
        let data = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(name)
            .join("data");
        let data = data.to_string_lossy();
        Server::start_args(name, &["serve", "--output", &data], env)
    }

    /// Runs `otlp2parquet <args>` (no `--output` unless given, so `env` may choose the storage
    /// backend), with the same hermetic environment and test directory as [`Server::start_with`].
    pub fn start_args(name: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::launch(name, args, env, Launch::default())
    }

    /// [`Server::start_with`] reached and limited as `launch` says.
    pub fn start_launch(name: &str, env: &[(&str, &str)], launch: Launch) -> Server {
        let data = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(name)
            .join("data");
        let data = data.to_string_lossy();
        Server::launch(name, &["serve", "--output", &data], env, launch)
    }

    fn launch(name: &str, args: &[&str], env: &[(&str, &str)], launch: Launch) -> Server {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (child, port, grpc_port) = spawn(&dir, &args, &env, launch.open_files);
        let mut server = Server {
            child,
            port,
            grpc_port,
            dir,
            stopped: false,
            args,
            env,
            launch,
        };
        server.wait_healthy();
        server
    }

    /// Returns once `/health` answers; fails when the process exits or takes over 20 s.
    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.healthy() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.stopped = true;
                panic!("server exited at start ({status}):\n{}", self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "server did not come up:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn healthy(&self) -> bool {
        let Some(ca) = &self.launch.tls_ca else {
            return self.request("GET", "/health", &[], b"").0 == 200;
        };
        let mut curl = Command::new("curl");
        curl.args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
        ])
        .arg("--cacert")
        .arg(ca);
        if let Some((cert, key)) = &self.launch.tls_client {
            curl.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let out = curl.arg(format!("{}/health", self.endpoint())).output();
        out.is_ok_and(|o| o.stdout == b"200")
    }

    /// SIGKILL by PID: the process dies at once, flushing nothing.
    pub fn kill9(&mut self) {
        assert!(!self.stopped, "server already stopped");
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(sent.success(), "kill -KILL {pid} failed");
        let status = self.wait_exit(Duration::from_secs(10));
        assert!(status.is_some(), "the server outlived SIGKILL");
        self.stopped = true;
    }

    /// Starts the server again after [`Server::kill9`] or [`Server::stop`], keeping its data
    /// (and write-ahead log); new ports.
    pub fn restart(&mut self) {
        assert!(self.stopped, "the server is still running");
        let (child, port, grpc_port) =
            spawn(&self.dir, &self.args, &self.env, self.launch.open_files);
        (self.child, self.port, self.grpc_port) = (child, port, grpc_port);
        self.stopped = false;
        self.wait_healthy();
    }

    /// The server process's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:<port>` (`https` with TLS on), the base URL OTLP exporters take.
    pub fn endpoint(&self) -> String {
        let scheme = if self.launch.tls_ca.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// One HTTP/1.1 request; (status, body). Status 0 when the connection failed.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let reply = otlp2parquet_testkit::http(self.port, method, path, headers, body);
        (reply.status, reply.body)
    }

    /// SIGTERM by PID, then waits for the exit (the server flushes its batches first) and asserts
    /// it was clean. SIGKILL and a failure when it takes longer than [`STOP_TIMEOUT`].
    pub fn stop(&mut self) {
        assert!(!self.stopped, "server already stopped");
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = self.wait_exit(STOP_TIMEOUT);
        self.stopped = true;
        let Some(status) = status else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "server did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed:\n{}",
                self.log_tail()
            );
        };
        assert!(
            status.success(),
            "server exited uncleanly after SIGTERM ({status}):\n{}",
            self.log_tail()
        );
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Every file under the output directory, sorted. Call after [`Server::stop`].
    pub fn files(&self) -> Vec<PathBuf> {
        assert!(
            self.stopped,
            "read files after stop(): the server batches in memory"
        );
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir(), &mut out);
        out.sort();
        out
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "--- {} (last {} lines) ---\n{}",
            self.dir.join("server.log").display(),
            lines.len() - from,
            lines[from..].join("\n")
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        // A test that panicked before stop(): do not leave the process behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}

/// Starts `otlp2parquet <args>` in `dir` on new free ports, with a hermetic environment plus
/// `env`, its output appended to `dir/server.log`; under `ulimit -n open_files` when given (the
/// shell execs the server, so the pid is the server's).
fn spawn(
    dir: &Path,
    args: &[String],
    env: &[(String, String)],
    open_files: Option<u32>,
) -> (Child, u16, u16) {
    let port = free_port();
    let grpc_port = free_port();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_otlp2parquet");
    let mut cmd = match open_files {
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(bin);
            sh
        }
        None => Command::new(bin),
    };
    let child = cmd
        .args(args)
        // A hermetic environment: no OTLP2PARQUET_* or RUST_LOG of the caller's leaks in.
        .env_clear()
        .env("OTLP2PARQUET_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "OTLP2PARQUET_GRPC_LISTEN_ADDR",
            format!("127.0.0.1:{grpc_port}"),
        )
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    (child, port, grpc_port)
}

/// Runs `otlp2parquet <args>` to completion in `dir`, with the same hermetic environment as the
/// server plus `env`; stdout and stderr captured.
pub fn run_once(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    Command::new(env!("CARGO_BIN_EXE_otlp2parquet"))
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs the Python script `script` with `args` to completion; fails the test with its output and
/// `context` (server logs) when it exits non-zero. Returns what it printed, which is echoed.
pub fn run_python<S: AsRef<std::ffi::OsStr>>(script: &Path, args: &[S], context: &str) -> String {
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{stdout}\n{}\n{context}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The write-ahead log segment files in `dir` (none when it does not exist).
pub fn wal_segments(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect()
}

pub use otlp2parquet_testkit::{fixture, free_port, python, repo_root};
