//! `otlp2parquet compact`: the compactor of `otlp2parquet_batch::compact` over the configured
//! storage, run again and again until it has nothing left, with a line per stored file on a
//! terminal and a summary line at the end.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use otlp2parquet_batch::compact::{self, Env, Mode, Observer, Settings, Step, Totals, Written};
use otlp2parquet_common::config::Config;
use otlp2parquet_handlers::{KeyTokens, parquet_options};
use otlp2parquet_writer::OpendalStorage;
use otlp2parquet_writer::key::hour_label;

use crate::clock;

const MS_PER_HOUR: i64 = 3_600_000;

/// Runs the compactor in `mode` over `config`'s storage until no input is left (or another
/// compactor holds the lease), printing progress and a summary to stdout.
///
/// Exit codes: 0 when done or when another compactor is at work, 1 when a run failed, 2 when
/// the storage cannot be set up as configured.
pub fn main(config: &Config, mode: Mode) -> ExitCode {
    let store = match OpendalStorage::from_config(&config.storage) {
        Ok(s) => s,
        Err(e) => {
            print_error(&e.message);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            print_error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let settings = Settings::from_config(config, parquet_options(config));
    let owner = owner_id();
    let tokens = KeyTokens::default();
    let progress = Progress {
        terminal: std::io::stdout().is_terminal(),
    };
    let env = Env {
        now_ms: &|| clock::now_ns().div_euclid(1_000_000),
        token: &|| tokens.next(clock::now_ns()),
        owner: &owner,
        observer: &progress,
    };
    tracing::debug!(
        storage = store.describe(),
        prefix = %config.storage.prefix,
        mode = ?mode,
        owner = %owner,
        "compacting"
    );
    let drained = runtime.block_on(compact::drain(&store, &settings, mode, &env, &|| true));
    if let Some(e) = drained.error {
        print_error(&e.to_string());
        return ExitCode::FAILURE;
    }
    let totals = drained.totals;
    if let Some((holder, expires_ms)) = &totals.busy {
        print_line(&busy_line(holder, *expires_ms, clock::now_ns() / 1_000_000));
    }
    print_line(&summary_line(&totals));
    ExitCode::SUCCESS
}

/// `compacted: runs=… inputs=… (… bytes) outputs=… rows=… quarantined=… recovered=…`.
fn summary_line(t: &Totals) -> String {
    format!(
        "compacted: runs={} inputs={} ({} bytes) outputs={} rows={} quarantined={} recovered={}",
        t.runs, t.inputs, t.input_bytes, t.outputs, t.rows, t.quarantined, t.recovered
    )
}

/// Prints a line per stored output, on a terminal only: a pipe or a log gets the summary alone.
struct Progress {
    terminal: bool,
}

impl Observer for Progress {
    fn step(&self, step: Step<'_>) {
        if let Step::OutputStored { output, .. } = step {
            tracing::debug!(
                key = output.key,
                rows = output.rows,
                "compacted file stored"
            );
            if self.terminal {
                print_line(&output_line(output));
            }
        }
    }
}

/// `table/service/hour: inputs=N rows=N bytes=N`.
fn output_line(w: &Written) -> String {
    format!(
        "{}/{}/{}: inputs={} rows={} bytes={}",
        w.table.key_path(),
        w.service,
        hour_label(w.hour),
        w.inputs,
        w.rows,
        w.bytes
    )
}

fn busy_line(owner: &str, expires_ms: i64, now_ms: i64) -> String {
    let owner = if owner.is_empty() { "unknown" } else { owner };
    let left = expires_ms.saturating_sub(now_ms).max(0) / 1_000;
    format!(
        "another compactor holds the lease (owner {owner}, until {}, in {left} s); nothing done",
        utc(expires_ms)
    )
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc(ms: i64) -> String {
    let within = ms.rem_euclid(MS_PER_HOUR);
    format!(
        "{}:{:02}:{:02}Z",
        hour_label(ms.div_euclid(MS_PER_HOUR)),
        within / 60_000,
        within % 60_000 / 1_000
    )
}

/// `cli:{host}:{pid}`: who holds the lease, readable by an operator who finds it held. The host
/// is kept to characters that cannot break the lease object's tab-separated lines.
fn owner_id() -> String {
    let pid = std::process::id();
    let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect::<String>()
        })
        .find(|h| !h.is_empty())
        .unwrap_or_else(|| pid.to_string());
    format!("cli:{host}:{pid}")
}

/// Writes one line of command output to stdout. A closed stdout (`| head`) must not turn a
/// finished compaction into a failure, so write errors are ignored.
fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn print_error(message: &str) {
    let _ = writeln!(std::io::stderr(), "otlp2parquet compact: {message}");
}

#[cfg(test)]
mod tests {
    use otlp2parquet_writer::Table;

    use super::*;

    #[test]
    fn lines_name_the_partition_and_the_time() {
        let w = Written {
            key: "logs/checkout/year=2025/month=01/day=15/hour=10/x.parquet".to_owned(),
            table: Table::Logs,
            service: "checkout".to_owned(),
            hour: 482_482,
            inputs: 4,
            rows: 400,
            bytes: 12_345,
        };
        assert_eq!(
            output_line(&w),
            "logs/checkout/2025-01-15T10: inputs=4 rows=400 bytes=12345"
        );
        // 2025-01-15T10:00:00Z plus 1 min 5 s.
        let expires = 1_736_935_200_000 + 65_000;
        assert_eq!(utc(expires), "2025-01-15T10:01:05Z");
        assert_eq!(
            busy_line("lambda:x", expires, expires - 30_500),
            "another compactor holds the lease (owner lambda:x, until 2025-01-15T10:01:05Z, \
             in 30 s); nothing done"
        );
        assert!(busy_line("", expires, expires + 5).contains("owner unknown, "));
    }

    #[test]
    fn totals_add_up_and_owner_is_tab_free() {
        use otlp2parquet_batch::compact::{Outcome, Report};
        let mut t = Totals::default();
        let report = Report {
            outcome: Outcome::Done,
            recovered: true,
            inputs: 3,
            input_bytes: 900,
            rows: 30,
            outputs: Vec::new(),
            quarantined: 1,
            more: false,
        };
        t.add(&report);
        t.add(&Report {
            recovered: false,
            ..report
        });
        assert_eq!(
            summary_line(&t),
            "compacted: runs=2 inputs=6 (1800 bytes) outputs=0 rows=60 quarantined=2 recovered=true"
        );
        let owner = owner_id();
        assert!(owner.starts_with("cli:"), "{owner}");
        assert!(
            owner.ends_with(&format!(":{}", std::process::id())),
            "{owner}"
        );
        assert!(!owner.contains(['\t', '\n']), "{owner}");
    }
}
