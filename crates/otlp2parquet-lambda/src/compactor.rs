//! The scheduled compactor (docs/adr/0013-lambda-spool.md): one invocation runs
//! [`otlp2parquet_batch::compact::run`] over the spool again and again while input is left and
//! the invocation has time for another run, and answers with a summary.

use std::time::Instant;

use otlp2parquet_batch::compact::{self, CompactError, Env, Mode, Settings, Totals};

use crate::app::elapsed_ms;
use otlp2parquet_writer::ObjectStore;
use serde_json::{Value, json};

/// Time an invocation keeps in hand: no new run starts with less than this left before the
/// deadline, so that a run (bounded by `compact.max_run_bytes`) ends before Lambda stops the
/// function. A run that is stopped anyway leaves its intent, and the next one finishes it.
pub const RESERVE_MS: i64 = 60_000;

/// What one compactor invocation did, over all its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The runs' work.
    pub totals: Totals,
    /// How long the invocation took.
    pub ms: f64,
}

impl Summary {
    /// `"busy"` or `"done"`.
    pub fn outcome(&self) -> &'static str {
        if self.totals.busy.is_some() {
            "busy"
        } else {
            "done"
        }
    }

    /// Runs started, the one that found the lease held included.
    pub fn runs(&self) -> usize {
        self.totals.runs + usize::from(self.totals.busy.is_some())
    }

    /// The invocation's answer: `{"outcome", "runs", "recovered", "inputs", "outputs", "rows",
    /// "quarantined", "more", "ms"}`.
    pub fn to_json(&self) -> Value {
        let t = &self.totals;
        json!({
            "outcome": self.outcome(),
            "runs": self.runs(),
            "recovered": t.recovered,
            "inputs": t.inputs,
            "outputs": t.outputs,
            "rows": t.rows,
            "quarantined": t.quarantined,
            "more": t.more,
            "ms": self.ms,
        })
    }
}

/// Compacts the spool of `store` until it is empty, another compactor holds the lease, or less
/// than [`RESERVE_MS`] is left before `deadline_ms` (ms since the epoch, as `env.now_ms`).
/// Logs one line with the summary, or the error.
pub async fn run_until<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    env: &Env<'_>,
    deadline_ms: i64,
) -> Result<Summary, CompactError> {
    let begun = Instant::now();
    let time_left = || deadline_ms.saturating_sub((env.now_ms)()) > RESERVE_MS;
    let drained = compact::drain(store, settings, Mode::Spool, env, &time_left).await;
    let summary = Summary {
        totals: drained.totals,
        ms: elapsed_ms(begun),
    };
    let t = &summary.totals;
    if let Some(e) = drained.error {
        // What earlier runs of this invocation did stays done; the failed run is finished by
        // the next one (its intent is stored).
        tracing::error!(
            error = %e,
            runs = summary.runs(),
            inputs = t.inputs,
            outputs = t.outputs,
            rows = t.rows,
            ms = summary.ms,
            "compaction failed"
        );
        return Err(e);
    }
    if let Some((owner, expires_ms)) = &t.busy {
        // Not an error: a long run of an earlier invocation (or a manual one) is still going,
        // or crashed and its lease has not expired yet.
        tracing::debug!(owner, expires_ms, "another compactor holds the lease");
    }
    tracing::info!(
        outcome = summary.outcome(),
        runs = summary.runs(),
        recovered = t.recovered,
        inputs = t.inputs,
        outputs = t.outputs,
        rows = t.rows,
        quarantined = t.quarantined,
        more = t.more,
        ms = summary.ms,
        "compaction"
    );
    Ok(summary)
}

/// The observer of a run: fault injection in end-to-end test builds, nothing otherwise.
#[cfg(not(feature = "e2e"))]
pub fn observer() -> compact::Quiet {
    compact::Quiet
}

/// The observer of a run: fault injection in end-to-end test builds, nothing otherwise.
#[cfg(feature = "e2e")]
pub fn observer() -> fault::Faults {
    fault::Faults::from_env(&|name| std::env::var(name).ok())
}

/// Fault injection for the end-to-end tests (built with the `e2e` feature only): a compactor
/// that dies or stalls at a chosen step, so the tests can check that the next run finishes the
/// interrupted one and that a second compactor waits for the lease.
#[cfg(feature = "e2e")]
pub mod fault {
    use otlp2parquet_batch::compact::{Observer, Step};

    /// `intent` | `output` | `outputs` | `delete`: the step after which the process aborts.
    pub const CRASH_AT_VAR: &str = "OTLP2PARQUET_FAULT_CRASH_AT";
    /// Milliseconds to stall after the intent is stored (the lease is held meanwhile).
    pub const PAUSE_MS_VAR: &str = "OTLP2PARQUET_FAULT_PAUSE_MS";

    /// Where a run is made to crash.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CrashAt {
        /// Once the intent is stored, before any output.
        Intent,
        /// Once the first output is stored.
        Output,
        /// Once every output is stored, before the deletes.
        Outputs,
        /// Once the first input is deleted.
        Delete,
    }

    impl CrashAt {
        /// The value of [`CRASH_AT_VAR`] that selects it.
        pub fn parse(value: &str) -> Option<CrashAt> {
            match value.trim() {
                "intent" => Some(CrashAt::Intent),
                "output" => Some(CrashAt::Output),
                "outputs" => Some(CrashAt::Outputs),
                "delete" => Some(CrashAt::Delete),
                _ => None,
            }
        }

        /// Whether `step` is the one to crash at.
        pub fn matches(self, step: &Step<'_>) -> bool {
            matches!(
                (self, step),
                (CrashAt::Intent, Step::IntentStored { .. })
                    | (CrashAt::Output, Step::OutputStored { index: 0, .. })
                    | (CrashAt::Outputs, Step::OutputsStored)
                    | (CrashAt::Delete, Step::InputDeleted { index: 0 })
            )
        }
    }

    /// The faults the environment asks for.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Faults {
        /// Where to abort, if anywhere.
        pub crash_at: Option<CrashAt>,
        /// How long to stall after the intent is stored.
        pub pause_ms: u64,
    }

    impl Faults {
        /// Reads [`CRASH_AT_VAR`] and [`PAUSE_MS_VAR`] through `var`; a value that does not
        /// parse is logged and ignored.
        pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Faults {
            let crash_at = var(CRASH_AT_VAR)
                .filter(|v| !v.trim().is_empty())
                .and_then(|v| {
                    let parsed = CrashAt::parse(&v);
                    if parsed.is_none() {
                        tracing::warn!(value = v, "unknown {CRASH_AT_VAR}, ignored");
                    }
                    parsed
                });
            let pause_ms = var(PAUSE_MS_VAR)
                .filter(|v| !v.trim().is_empty())
                .map_or(0, |v| {
                    v.trim().parse().unwrap_or_else(|_| {
                        tracing::warn!(value = v, "unknown {PAUSE_MS_VAR}, ignored");
                        0
                    })
                });
            Faults { crash_at, pause_ms }
        }
    }

    impl Observer for Faults {
        fn step(&self, step: Step<'_>) {
            if self.pause_ms > 0 && matches!(step, Step::IntentStored { .. }) {
                tracing::warn!(pause_ms = self.pause_ms, "fault injection: pausing");
                // The Lambda runtime is current-thread and nothing else runs meanwhile: a
                // blocking sleep is what a stalled compactor looks like.
                std::thread::sleep(std::time::Duration::from_millis(self.pause_ms));
            }
            if let Some(at) = self.crash_at
                && at.matches(&step)
            {
                tracing::error!(step = ?step, "fault injection: aborting the compactor");
                // The log line must reach stdout before the process dies.
                let _ = std::io::Write::flush(&mut std::io::stdout());
                std::process::abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_render_every_field() {
        let summary = Summary {
            totals: Totals {
                runs: 1,
                recovered: true,
                inputs: 3,
                input_bytes: 300,
                outputs: 1,
                rows: 40,
                quarantined: 0,
                more: false,
                busy: Some(("other".to_owned(), 7)),
            },
            ms: 1.5,
        };
        assert_eq!(
            summary.to_json(),
            json!({"outcome": "busy", "runs": 2, "recovered": true, "inputs": 3, "outputs": 1,
                   "rows": 40, "quarantined": 0, "more": false, "ms": 1.5})
        );
    }

    #[cfg(feature = "e2e")]
    #[test]
    fn faults_come_from_the_environment() {
        use fault::{CrashAt, Faults};
        let env = |crash: &'static str, pause: &'static str| {
            move |name: &str| match name {
                fault::CRASH_AT_VAR => Some(crash.to_owned()),
                fault::PAUSE_MS_VAR => Some(pause.to_owned()),
                _ => None,
            }
        };
        assert_eq!(Faults::from_env(&|_| None), Faults::default());
        assert_eq!(
            Faults::from_env(&env("outputs", "250")),
            Faults {
                crash_at: Some(CrashAt::Outputs),
                pause_ms: 250
            }
        );
        assert_eq!(Faults::from_env(&env("later", "soon")), Faults::default());
        use otlp2parquet_batch::compact::Step;
        assert!(CrashAt::Delete.matches(&Step::InputDeleted { index: 0 }));
        assert!(!CrashAt::Delete.matches(&Step::InputDeleted { index: 1 }));
        assert!(CrashAt::Intent.matches(&Step::IntentStored {
            inputs: 1,
            outputs: 1
        }));
        assert!(!CrashAt::Output.matches(&Step::OutputsStored));
    }
}
