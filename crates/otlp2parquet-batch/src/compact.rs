//! The compactor (docs/adr/0013-lambda-spool.md): merges the spool the Lambda leaves under
//! `{prefix}_spool/` — or, `--sealed`, the small files of hours that have ended — into one
//! time-ordered file per (table, service, hour), split at the `[batch]` size bounds.
//!
//! One run: take the lease, finish an interrupted run if its intent is there, read at most
//! `compact.max_run_bytes` of input (the oldest first), plan the outputs, store the intent
//! (every input and every output key with the inputs it takes), write the outputs, delete the
//! inputs, delete the intent, release the lease.
//!
//! **Exactly once.** Outputs are written under keys fixed in the intent, and inputs are deleted
//! only after every output is stored. A run that stops anywhere leaves the intent behind, and
//! the next run finishes it before anything else: if every input is still there, no delete had
//! begun, so it writes every output again under the same keys (replacing any that landed) and
//! then deletes; if some input is gone, the deletes had begun, so every output is stored and
//! only the deletes are left. Either way each input row ends up in exactly one file.
//!
//! **One at a time.** The lease `{prefix}_compactor/lease` is created with a create-only PUT
//! and taken over, once expired, with a PUT conditional on the version read; a run renews it as
//! it goes and stops if it was lost. A compactor that finds the lease held returns
//! [`Outcome::Busy`] without touching anything.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use arrow_array::RecordBatch;
use bytes::Bytes;
use otlp2parquet_common::config::Config;
use otlp2parquet_writer::key::hour_bucket;
use otlp2parquet_writer::part::decode_part;
use otlp2parquet_writer::read::{file_stats, read_file};
use otlp2parquet_writer::{
    ObjectStore, ParquetOptions, PutNew, StorageError, Table, WriterError, encode_merged,
    object_key,
};

use crate::spool::{SPOOL_DIR, decode_object};

/// The directory, under the storage prefix, of the compactor's own objects.
pub const COMPACTOR_DIR: &str = "_compactor/";
/// Where spool objects that cannot be read are moved (they are never deleted).
pub const QUARANTINE_DIR: &str = "_compactor/quarantine/";
/// Spool keys one run lists at most (oldest first; more wait for the next run).
pub const LIST_LIMIT: usize = 10_000;
/// Data files a `--sealed` run lists at most per signal. Keys sort by service and then hour,
/// so these are the oldest hours of the first services; past this many files, later ones
/// wait until earlier partitions have been merged down.
pub const SEALED_LIST_LIMIT: usize = 100_000;
/// Inputs read at once: S3 answers a GET in tens of milliseconds, so one at a time a run of
/// thousands of spool objects would spend minutes waiting.
pub const READ_CONCURRENCY: usize = 16;
/// Inputs deleted per request (S3 `DeleteObjects` takes at most 1 000 keys).
pub const DELETE_BATCH: usize = 1_000;
const INTENT_HEADER: &str = "otlp2parquet compaction intent 1";
const MS_PER_HOUR: i64 = 3_600_000;

/// What a run merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The Lambda's spool objects.
    Spool,
    /// The Parquet files of hours that ended more than `grace` ago.
    Sealed,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Spool => "spool",
            Mode::Sealed => "sealed",
        }
    }
}

/// The bounds of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `storage.prefix`.
    pub prefix: String,
    /// Stored bytes of input one run reads at most (at least one input is read).
    pub run_bytes: u64,
    /// Arrow memory of one output file at most (`batch.max_bytes`).
    pub file_bytes: u64,
    /// Rows of one output file at most (`batch.max_rows`).
    pub file_rows: u64,
    /// How long a lease lasts unless renewed, in ms.
    pub lease_ms: i64,
    /// `--sealed`: how long after an hour ends its files are merged, in ms.
    pub grace_ms: i64,
    /// How outputs are encoded.
    pub parquet: ParquetOptions,
    /// Inputs deleted per store request ([`DELETE_BATCH`]).
    pub delete_batch: usize,
}

impl Settings {
    /// The bounds `config` gives (`[compact]`, `[batch]`, `[parquet]`); `parquet` is the
    /// encoding the targets derive from `[parquet]`.
    pub fn from_config(config: &Config, parquet: ParquetOptions) -> Settings {
        let secs_ms = |s: u64| i64::try_from(s.saturating_mul(1_000)).unwrap_or(i64::MAX);
        Settings {
            prefix: config.storage.prefix.clone(),
            run_bytes: config.compact.max_run_bytes as u64,
            file_bytes: config.batch.max_bytes as u64,
            file_rows: config.batch.max_rows as u64,
            lease_ms: secs_ms(config.compact.lease_secs),
            grace_ms: secs_ms(config.compact.grace_secs),
            parquet,
            delete_batch: DELETE_BATCH,
        }
    }

    fn lease_key(&self) -> String {
        format!("{}{COMPACTOR_DIR}lease", self.prefix)
    }

    fn intent_key(&self) -> String {
        format!("{}{COMPACTOR_DIR}intent", self.prefix)
    }
}

/// Where a run stands, for progress output and (in tests) fault injection.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// The intent of `outputs` outputs from `inputs` inputs is stored.
    IntentStored {
        /// Inputs the run consumes.
        inputs: usize,
        /// Outputs it writes.
        outputs: usize,
    },
    /// Output `index` (from 0) is stored.
    OutputStored {
        /// Its position in the intent.
        index: usize,
        /// What it holds.
        output: &'a Written,
    },
    /// Every output is stored; the deletes come next.
    OutputsStored,
    /// Input `index` (from 0) is deleted.
    InputDeleted {
        /// Its position in the intent.
        index: usize,
    },
}

/// Told each [`Step`] as the run reaches it.
pub trait Observer {
    /// A step was reached.
    fn step(&self, step: Step<'_>);
}

/// Observes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn step(&self, _step: Step<'_>) {}
}

/// What a run needs from its platform.
pub struct Env<'a> {
    /// Milliseconds since the Unix epoch, now.
    pub now_ms: &'a dyn Fn() -> i64,
    /// A fresh random token for an output key.
    pub token: &'a dyn Fn() -> u128,
    /// Who this compactor is (written into the lease).
    pub owner: &'a str,
    /// Told of each step.
    pub observer: &'a dyn Observer,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("owner", &self.owner).finish()
    }
}

/// One output file a run stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Its key.
    pub key: String,
    /// The table.
    pub table: Table,
    /// The key-safe service.
    pub service: String,
    /// Hours since the epoch.
    pub hour: i64,
    /// Inputs it was merged from.
    pub inputs: usize,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The run did its work (possibly none).
    Done,
    /// Another compactor holds the lease; nothing was touched.
    Busy {
        /// Who holds it.
        owner: String,
        /// Until when, ms since the epoch.
        expires_ms: i64,
    },
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// How it ended.
    pub outcome: Outcome,
    /// An interrupted run it finished first (outputs and deletes of that run are counted).
    pub recovered: bool,
    /// Inputs consumed (deleted).
    pub inputs: usize,
    /// Stored bytes of those inputs.
    pub input_bytes: u64,
    /// Rows read.
    pub rows: u64,
    /// Outputs stored.
    pub outputs: Vec<Written>,
    /// Unreadable spool objects moved to [`QUARANTINE_DIR`].
    pub quarantined: usize,
    /// Whether input was left for another run (the run's byte bound was reached).
    pub more: bool,
}

impl Report {
    fn empty(outcome: Outcome) -> Report {
        Report {
            outcome,
            recovered: false,
            inputs: 0,
            input_bytes: 0,
            rows: 0,
            outputs: Vec::new(),
            quarantined: 0,
            more: false,
        }
    }
}

/// What consecutive runs did together ([`drain`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Runs that held the lease (a run that found it held is not counted).
    pub runs: usize,
    /// Whether a run finished an interrupted one first.
    pub recovered: bool,
    /// Inputs consumed.
    pub inputs: usize,
    /// Their stored bytes.
    pub input_bytes: u64,
    /// Outputs stored.
    pub outputs: usize,
    /// Rows written.
    pub rows: u64,
    /// Unreadable spool objects moved aside.
    pub quarantined: usize,
    /// Whether input was left when the drain stopped.
    pub more: bool,
    /// Who held the lease, and until when (ms), when the drain stopped for it.
    pub busy: Option<(String, i64)>,
}

impl Totals {
    /// Adds what one run did.
    pub fn add(&mut self, report: &Report) {
        if let Outcome::Busy { owner, expires_ms } = &report.outcome {
            self.busy = Some((owner.clone(), *expires_ms));
            return;
        }
        self.runs += 1;
        self.recovered |= report.recovered;
        self.inputs += report.inputs;
        self.input_bytes += report.input_bytes;
        self.outputs += report.outputs.len();
        self.rows += report.rows;
        self.quarantined += report.quarantined;
        self.more = report.more;
    }
}

/// How a [`drain`] ended: what its runs did, and the error that stopped the last one, if any
/// (what earlier runs did stays done; the failed run is finished by the next one).
#[derive(Debug)]
pub struct Drained {
    /// The runs' work.
    pub totals: Totals,
    /// Why the last run failed.
    pub error: Option<CompactError>,
}

/// Runs [`run`] again and again while input is left and `go_on` allows another run (the
/// Lambda: while its invocation has time). Stops when another compactor holds the lease, and
/// when a run that says input is left took none of it (a listing it cannot get past: another
/// run would only repeat it).
pub async fn drain<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    mode: Mode,
    env: &Env<'_>,
    go_on: &dyn Fn() -> bool,
) -> Drained {
    let mut totals = Totals::default();
    loop {
        let report = match run(store, settings, mode, env).await {
            Ok(report) => report,
            Err(e) => {
                return Drained {
                    totals,
                    error: Some(e),
                };
            }
        };
        totals.add(&report);
        let stuck = report.inputs == 0 && report.outputs.is_empty() && report.quarantined == 0;
        if totals.busy.is_some() || !report.more || !go_on() {
            break;
        }
        if stuck {
            tracing::warn!(
                "input is left, but a run took none of it (the listing bound was reached with \
                 nothing to take among the keys listed); stopping"
            );
            break;
        }
    }
    Drained {
        totals,
        error: None,
    }
}

/// Why a run stopped before it finished. Whatever it did stays consistent: the next run
/// completes it.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An input could not be decoded or an output encoded.
    #[error(transparent)]
    Writer(#[from] WriterError),
    /// The lease expired and another compactor took it; this one stopped.
    #[error("the compactor lease was taken over by {owner}; stopped")]
    LeaseLost {
        /// Who holds it now.
        owner: String,
    },
    /// The stored intent cannot be read (it is left in place for an operator).
    #[error("the compaction intent {key} is unreadable: {reason}")]
    Intent {
        /// Its key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One compaction run over `store` (see the module documentation).
pub async fn run<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    mode: Mode,
    env: &Env<'_>,
) -> Result<Report, CompactError> {
    let mut lease = match Lease::acquire(store, settings, env).await? {
        Ok(lease) => lease,
        Err(outcome) => return Ok(Report::empty(outcome)),
    };
    let result = run_held(store, settings, mode, env, &mut lease).await;
    // Released on every path; an error here only delays the next run until the lease expires.
    if let Err(e) = lease.release(store).await {
        tracing::warn!(error = %e, "could not release the compactor lease");
    }
    result
}

async fn run_held<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    mode: Mode,
    env: &Env<'_>,
    lease: &mut Lease,
) -> Result<Report, CompactError> {
    let mut report = Report::empty(Outcome::Done);
    let intent_key = settings.intent_key();
    if let Some(bytes) = store.get(&intent_key).await? {
        let intent = Intent::parse(&bytes).map_err(|reason| CompactError::Intent {
            key: intent_key.clone(),
            reason,
        })?;
        tracing::info!(
            mode = intent.mode.as_str(),
            inputs = intent.inputs.len(),
            outputs = intent.outputs.len(),
            "finishing an interrupted compaction"
        );
        report.recovered = true;
        finish(store, settings, env, lease, &intent, None, &mut report).await?;
    }
    let (intent, inputs, quarantined, more) = match mode {
        Mode::Spool => plan_spool(store, settings, env).await?,
        Mode::Sealed => plan_sealed(store, settings, env).await?,
    };
    report.quarantined += quarantined;
    report.more = more;
    if intent.inputs.is_empty() {
        return Ok(report);
    }
    lease.renew(store, settings, env).await?;
    store.put(&intent_key, intent.render().into_bytes()).await?;
    env.observer.step(Step::IntentStored {
        inputs: intent.inputs.len(),
        outputs: intent.outputs.len(),
    });
    finish(
        store,
        settings,
        env,
        lease,
        &intent,
        Some(inputs),
        &mut report,
    )
    .await?;
    Ok(report)
}

/// Writes every output of `intent` (unless the deletes had begun), deletes its inputs, then
/// the intent. `read` holds the inputs when the plan just read them; without it (recovery)
/// they are read again.
async fn finish<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    env: &Env<'_>,
    lease: &mut Lease,
    intent: &Intent,
    read: Option<Vec<Bytes>>,
    report: &mut Report,
) -> Result<(), CompactError> {
    let inputs = match read {
        Some(inputs) => inputs.into_iter().map(Some).collect(),
        None => {
            let mut inputs = Vec::with_capacity(intent.inputs.len());
            for keys in intent.inputs.chunks(READ_CONCURRENCY) {
                for got in get_all(store, keys).await? {
                    inputs.push(got.map(Bytes::from));
                }
            }
            inputs
        }
    };
    let complete = inputs.iter().all(Option::is_some);
    if complete {
        let inputs: Vec<Bytes> = inputs.into_iter().flatten().collect();
        for (index, output) in intent.outputs.iter().enumerate() {
            lease.renew_if_due(store, settings, env).await?;
            let written = write_output(store, settings, intent.mode, &inputs, output).await?;
            env.observer.step(Step::OutputStored {
                index,
                output: &written,
            });
            report.rows += written.rows;
            report.outputs.push(written);
        }
        report.input_bytes += inputs.iter().map(|i| i.len() as u64).sum::<u64>();
        drop(inputs);
        env.observer.step(Step::OutputsStored);
    }
    lease.renew(store, settings, env).await?;
    let mut deleted = 0;
    for keys in intent.inputs.chunks(settings.delete_batch.max(1)) {
        store.delete_many(keys).await?;
        for _ in keys {
            env.observer.step(Step::InputDeleted { index: deleted });
            deleted += 1;
        }
    }
    report.inputs += intent.inputs.len();
    store.delete(&settings.intent_key()).await?;
    Ok(())
}

/// Decodes the rows of one output from the run's inputs and stores its file.
async fn write_output<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    mode: Mode,
    inputs: &[Bytes],
    output: &Output,
) -> Result<Written, CompactError> {
    let mut batches: Vec<RecordBatch> = Vec::new();
    for &i in &output.inputs {
        let Some(bytes) = inputs.get(i) else {
            continue;
        };
        match mode {
            Mode::Spool => {
                let object = decode_object(bytes).map_err(|e| CompactError::Intent {
                    key: settings.intent_key(),
                    reason: format!("input {i} no longer decodes: {e}"),
                })?;
                for append in object.appends {
                    if append.table != output.table || append.service != output.service {
                        continue;
                    }
                    for part in append.parts.iter().filter(|p| p.hour == output.hour) {
                        batches.push(decode_part(output.table, part.data)?);
                    }
                }
            }
            Mode::Sealed => {
                batches.extend(read_file(output.table, bytes.clone())?);
            }
        }
    }
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let file = encode_merged(output.table, &batches, &settings.parquet)?;
    drop(batches);
    let size = file.len() as u64;
    store.put(&output.key, file).await?;
    tracing::debug!(key = output.key, rows, "compacted file stored");
    Ok(Written {
        key: output.key.clone(),
        table: output.table,
        service: output.service.clone(),
        hour: output.hour,
        inputs: output.inputs.len(),
        rows: rows as u64,
        bytes: size,
    })
}

/// One output of a plan: a file of one (table, service, hour) and the inputs it takes from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Output {
    table: Table,
    service: String,
    hour: i64,
    key: String,
    inputs: Vec<usize>,
}

/// A run's plan, stored before any output is written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Intent {
    mode: Mode,
    inputs: Vec<String>,
    outputs: Vec<Output>,
}

impl Intent {
    /// Text lines: the header, `mode`, one `input` line per input key, one `output` line per
    /// output (table, service, hour, input indices, key; tab-separated), and `end` (a cut
    /// intent is refused, not taken for a shorter one).
    fn render(&self) -> String {
        let mut out = format!("{INTENT_HEADER}\nmode\t{}\n", self.mode.as_str());
        for key in &self.inputs {
            let _ = writeln!(out, "input\t{key}");
        }
        for o in &self.outputs {
            let inputs: Vec<String> = o.inputs.iter().map(usize::to_string).collect();
            let _ = writeln!(
                out,
                "output\t{}\t{}\t{}\t{}\t{}",
                o.table.key_path(),
                o.service,
                o.hour,
                inputs.join(","),
                o.key
            );
        }
        out.push_str("end\n");
        out
    }

    fn parse(bytes: &[u8]) -> Result<Intent, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
        let mut lines = text.lines();
        if lines.next() != Some(INTENT_HEADER) {
            return Err("unknown header".to_owned());
        }
        let mode = match lines.next() {
            Some("mode\tspool") => Mode::Spool,
            Some("mode\tsealed") => Mode::Sealed,
            _ => return Err("no mode line".to_owned()),
        };
        let mut intent = Intent {
            mode,
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        let mut ended = false;
        for line in lines {
            if ended {
                return Err("lines after the end".to_owned());
            }
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["end"] => ended = true,
                ["input", key] => intent.inputs.push((*key).to_owned()),
                ["output", table, service, hour, inputs, key] => {
                    let table = Table::ALL
                        .iter()
                        .copied()
                        .find(|t| t.key_path() == *table)
                        .ok_or_else(|| format!("unknown table {table}"))?;
                    let hour = hour.parse().map_err(|_| format!("bad hour {hour}"))?;
                    let inputs = inputs
                        .split(',')
                        .map(|i| i.parse::<usize>().map_err(|_| format!("bad input {i}")))
                        .collect::<Result<Vec<_>, _>>()?;
                    intent.outputs.push(Output {
                        table,
                        service: (*service).to_owned(),
                        hour,
                        key: (*key).to_owned(),
                        inputs,
                    });
                }
                _ => return Err(format!("unknown line {line:?}")),
            }
        }
        if !ended {
            return Err("cut short (no end line)".to_owned());
        }
        if intent
            .outputs
            .iter()
            .flat_map(|o| &o.inputs)
            .any(|&i| i >= intent.inputs.len())
        {
            return Err("an output names an input that is not listed".to_owned());
        }
        Ok(intent)
    }
}

/// What one input contributes to one (table, service, hour).
#[derive(Debug, Clone, Copy)]
struct Share {
    input: usize,
    rows: u64,
    bytes: u64,
    min_time_ns: i64,
}

type GroupKey = (usize, String, i64);

fn table_index(table: Table) -> usize {
    Table::ALL.iter().position(|t| *t == table).unwrap_or(0)
}

/// Splits each group's shares into outputs within the file bounds (at input boundaries, at
/// least one share each), naming each output by its earliest row.
fn split_outputs(
    groups: BTreeMap<GroupKey, Vec<Share>>,
    settings: &Settings,
    env: &Env<'_>,
) -> Vec<Output> {
    let mut outputs = Vec::new();
    for ((table, service, hour), shares) in groups {
        let Some(&table) = Table::ALL.get(table) else {
            continue;
        };
        let mut current: Vec<usize> = Vec::new();
        let (mut rows, mut bytes, mut min_time) = (0u64, 0u64, i64::MAX);
        let mut close = |inputs: Vec<usize>, min_time: i64| {
            if !inputs.is_empty() {
                outputs.push(Output {
                    table,
                    service: service.clone(),
                    hour,
                    key: object_key(&settings.prefix, table, &service, min_time, (env.token)()),
                    inputs,
                });
            }
        };
        for share in shares {
            if !current.is_empty()
                && (rows + share.rows > settings.file_rows
                    || bytes + share.bytes > settings.file_bytes)
            {
                close(std::mem::take(&mut current), min_time);
                (rows, bytes, min_time) = (0, 0, i64::MAX);
            }
            current.push(share.input);
            rows += share.rows;
            bytes += share.bytes;
            min_time = min_time.min(share.min_time_ns);
        }
        close(current, min_time);
    }
    outputs
}

/// A plan, the inputs it read (in its order), how many spool objects were quarantined, and
/// whether input was left for another run.
type Plan = (Intent, Vec<Bytes>, usize, bool);

/// Reads the oldest spool objects up to the run bound and plans their outputs.
async fn plan_spool<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    env: &Env<'_>,
) -> Result<Plan, CompactError> {
    let spool = format!("{}{SPOOL_DIR}", settings.prefix);
    let listed = store.list(&spool, LIST_LIMIT).await?;
    let mut more = listed.len() >= LIST_LIMIT;
    let mut intent = Intent {
        mode: Mode::Spool,
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    let mut groups: BTreeMap<GroupKey, Vec<Share>> = BTreeMap::new();
    let mut read = Vec::new();
    let mut total = 0u64;
    let mut quarantined = 0;
    let mut rest = listed.as_slice();
    'reading: while !rest.is_empty() {
        // The next window: as many as are read at once, fewer when the listed sizes (S3 gives
        // them; a directory listing may not) already pass the bound.
        let mut window = 0;
        let mut planned = total;
        for entry in rest.iter().take(READ_CONCURRENCY) {
            if (!intent.inputs.is_empty() || window > 0)
                && entry.size > 0
                && planned + entry.size > settings.run_bytes
            {
                break;
            }
            planned += entry.size;
            window += 1;
        }
        if window == 0 {
            more = true;
            break;
        }
        let (taken, left) = rest.split_at(window);
        rest = left;
        let keys: Vec<String> = taken.iter().map(|e| e.key.clone()).collect();
        let got = get_all(store, &keys).await?;
        for (key, bytes) in keys.into_iter().zip(got) {
            let Some(bytes) = bytes else {
                continue;
            };
            let size = bytes.len() as u64;
            if !intent.inputs.is_empty() && total + size > settings.run_bytes {
                more = true;
                break 'reading;
            }
            let object = match decode_object(&bytes) {
                Ok(object) => object,
                Err(e) => {
                    quarantine(store, settings, &key, &bytes, &e.to_string()).await?;
                    quarantined += 1;
                    continue;
                }
            };
            let input = intent.inputs.len();
            for append in &object.appends {
                for part in &append.parts {
                    let shares = groups
                        .entry((
                            table_index(append.table),
                            append.service.to_owned(),
                            part.hour,
                        ))
                        .or_default();
                    // One share per input and group: several parts of one input add up.
                    match shares.last_mut() {
                        Some(last) if last.input == input => {
                            last.rows += u64::from(part.rows);
                            last.bytes += part.arrow_bytes;
                            last.min_time_ns = last.min_time_ns.min(part.min_time_ns);
                        }
                        _ => shares.push(Share {
                            input,
                            rows: u64::from(part.rows),
                            bytes: part.arrow_bytes,
                            min_time_ns: part.min_time_ns,
                        }),
                    }
                }
            }
            total += size;
            intent.inputs.push(key);
            read.push(Bytes::from(bytes));
        }
    }
    intent.outputs = split_outputs(groups, settings, env);
    Ok((intent, read, quarantined, more))
}

/// The objects under `keys`, read concurrently, in the order of `keys`.
async fn get_all<S: ObjectStore>(
    store: &S,
    keys: &[String],
) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
    join_all(keys.iter().map(|k| store.get(k)).collect())
        .await
        .into_iter()
        .collect()
}

/// Polls every future of `futures` until all are done; their outputs in order. (A few lines
/// instead of a futures crate; the batch core must not depend on a runtime.)
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            // A finished future is never polled again.
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Moves an unreadable spool object aside: its bytes are kept for an operator, and it no
/// longer blocks the spool.
async fn quarantine<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    key: &str,
    bytes: &[u8],
    reason: &str,
) -> Result<(), CompactError> {
    let rest = key
        .strip_prefix(&settings.prefix)
        .and_then(|k| k.strip_prefix(SPOOL_DIR))
        .unwrap_or(key);
    let target = format!("{}{QUARANTINE_DIR}{rest}", settings.prefix);
    store.put(&target, bytes.to_vec()).await?;
    store.delete(key).await?;
    tracing::error!(key, target, reason, "unreadable spool object quarantined");
    Ok(())
}

/// A data file a sealed merge may take.
#[derive(Debug, Clone)]
struct Sealed {
    key: String,
    table: Table,
    service: String,
    hour: i64,
    /// The earliest row time its name gives, in ns.
    earliest_ns: i64,
}

/// Parses `{prefix}{table path}/{service}/year=…/…/hour=HH/{micros}-{token}.parquet`.
fn parse_data_key(prefix: &str, key: &str) -> Option<Sealed> {
    let rest = key.strip_prefix(prefix)?;
    if !rest.ends_with(".parquet") {
        return None;
    }
    let earliest_ns = earliest_of(rest)?;
    let table = Table::ALL.iter().copied().find(|t| {
        rest.strip_prefix(t.key_path())
            .is_some_and(|r| r.starts_with('/') && r.matches('/').count() == 6)
    })?;
    let service = rest
        .strip_prefix(table.key_path())?
        .trim_start_matches('/')
        .split('/')
        .next()?
        .to_owned();
    Some(Sealed {
        key: key.to_owned(),
        table,
        service,
        hour: hour_bucket(earliest_ns),
        earliest_ns,
    })
}

/// Lists the data files of sealed hours, reads the small ones of partitions with several, up
/// to the run bound, and plans one merged file per partition (split at the file bounds).
async fn plan_sealed<S: ObjectStore>(
    store: &S,
    settings: &Settings,
    env: &Env<'_>,
) -> Result<Plan, CompactError> {
    let now_ms = (env.now_ms)();
    let mut candidates: BTreeMap<GroupKey, Vec<(Sealed, u64)>> = BTreeMap::new();
    let mut more = false;
    for dir in ["logs/", "traces/", "metrics/"] {
        let listed = store
            .list(&format!("{}{dir}", settings.prefix), SEALED_LIST_LIMIT)
            .await?;
        if listed.len() >= SEALED_LIST_LIMIT {
            // Not `more`: another run would list the same files again.
            tracing::warn!(
                dir,
                limit = SEALED_LIST_LIMIT,
                "more data files than one sealed run lists; the rest wait"
            );
        }
        for entry in listed {
            let Some(file) = parse_data_key(&settings.prefix, &entry.key) else {
                continue;
            };
            let sealed_at = file
                .hour
                .saturating_add(1)
                .saturating_mul(MS_PER_HOUR)
                .saturating_add(settings.grace_ms);
            if sealed_at > now_ms {
                continue;
            }
            candidates
                .entry((table_index(file.table), file.service.clone(), file.hour))
                .or_default()
                .push((file, entry.size));
        }
    }
    let mut intent = Intent {
        mode: Mode::Sealed,
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    let mut read: Vec<Bytes> = Vec::new();
    let mut groups: BTreeMap<GroupKey, Vec<Share>> = BTreeMap::new();
    let mut total = 0u64;
    'groups: for (group, files) in candidates {
        if files.len() < 2 {
            continue;
        }
        let mut shares = Vec::new();
        let mut taken: Vec<(String, Bytes)> = Vec::new();
        for (file, _) in &files {
            let Some(bytes) = store.get(&file.key).await? else {
                continue;
            };
            let bytes = Bytes::from(bytes);
            let stats = file_stats(file.table, &bytes)?;
            // A file already half an output's size gains little from a merge.
            if stats.uncompressed_bytes.saturating_mul(2) >= settings.file_bytes
                || stats.rows.saturating_mul(2) >= settings.file_rows
            {
                continue;
            }
            let size = bytes.len() as u64;
            if (!intent.inputs.is_empty() || !taken.is_empty()) && total + size > settings.run_bytes
            {
                more = true;
                if taken.len() >= 2 {
                    add_group(&mut intent, &mut read, &mut groups, group, shares, taken);
                }
                break 'groups;
            }
            total += size;
            shares.push(Share {
                input: intent.inputs.len() + taken.len(),
                rows: stats.rows,
                bytes: stats.uncompressed_bytes,
                min_time_ns: file.earliest_ns,
            });
            taken.push((file.key.clone(), bytes));
        }
        if taken.len() < 2 {
            total -= taken.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
            continue;
        }
        add_group(&mut intent, &mut read, &mut groups, group, shares, taken);
    }
    intent.outputs = split_outputs(groups, settings, env);
    // An output that would take a single file is no merge: leave that file alone.
    let single: Vec<usize> = intent
        .outputs
        .iter()
        .filter(|o| o.inputs.len() < 2)
        .flat_map(|o| o.inputs.clone())
        .collect();
    if !single.is_empty() {
        intent.outputs.retain(|o| o.inputs.len() >= 2);
        (intent, read) = renumber(intent, read, &single);
    }
    Ok((intent, read, 0, more))
}

/// Adds the files of one partition to a sealed plan.
fn add_group(
    intent: &mut Intent,
    read: &mut Vec<Bytes>,
    groups: &mut BTreeMap<GroupKey, Vec<Share>>,
    group: GroupKey,
    shares: Vec<Share>,
    taken: Vec<(String, Bytes)>,
) {
    for (key, bytes) in taken {
        intent.inputs.push(key);
        read.push(bytes);
    }
    groups.insert(group, shares);
}

/// The earliest row time a data file's name gives (`{micros}-{token}.parquet`), in ns.
fn earliest_of(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next()?;
    let micros: i64 = name.split_once('-')?.0.parse().ok()?;
    Some(micros.saturating_mul(1_000))
}

/// `intent` and its inputs without those at `drop` (no output names them).
fn renumber(intent: Intent, read: Vec<Bytes>, drop: &[usize]) -> (Intent, Vec<Bytes>) {
    let mut map = vec![None; intent.inputs.len()];
    let mut inputs = Vec::new();
    let mut kept = Vec::new();
    for (i, (key, bytes)) in intent.inputs.into_iter().zip(read).enumerate() {
        if !drop.contains(&i)
            && let Some(slot) = map.get_mut(i)
        {
            *slot = Some(inputs.len());
            inputs.push(key);
            kept.push(bytes);
        }
    }
    let outputs = intent
        .outputs
        .into_iter()
        .map(|mut o| {
            o.inputs = o
                .inputs
                .iter()
                .filter_map(|&i| map.get(i).copied().flatten())
                .collect();
            o
        })
        .collect();
    (
        Intent {
            mode: intent.mode,
            inputs,
            outputs,
        },
        kept,
    )
}

/// The lease this run holds.
#[derive(Debug)]
struct Lease {
    key: String,
    owner: String,
    renewed_ms: i64,
}

/// The content of a lease object held by `owner` until `expires_ms` (ms since the epoch):
/// `owner\t{owner}` and `expires_ms\t{ms}` lines. Public so that tests and operators can place
/// one (a lease written by hand keeps every compactor out until it expires).
pub fn lease_text(owner: &str, expires_ms: i64) -> Vec<u8> {
    format!("owner\t{owner}\nexpires_ms\t{expires_ms}\n").into_bytes()
}

/// The (owner, expiry) of a lease object; `None` when unreadable (treated as expired).
fn parse_lease(bytes: &[u8]) -> Option<(String, i64)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut owner = None;
    let mut expires = None;
    for line in text.lines() {
        match line.split_once('\t') {
            Some(("owner", o)) => owner = Some(o.to_owned()),
            Some(("expires_ms", e)) => expires = e.parse().ok(),
            _ => {}
        }
    }
    Some((owner?, expires?))
}

impl Lease {
    /// Takes the lease, or says who holds it.
    async fn acquire<S: ObjectStore>(
        store: &S,
        settings: &Settings,
        env: &Env<'_>,
    ) -> Result<Result<Lease, Outcome>, CompactError> {
        let key = settings.lease_key();
        let now = (env.now_ms)();
        let mine = lease_text(env.owner, now.saturating_add(settings.lease_ms));
        let lease = Lease {
            key: key.clone(),
            owner: env.owner.to_owned(),
            renewed_ms: now,
        };
        // Twice: a lease released between our create and our read is simply created again.
        for _ in 0..2 {
            if store.put_new(&key, mine.clone()).await? == PutNew::Created {
                return Ok(Ok(lease));
            }
            let Some(current) = store.get_tagged(&key).await? else {
                continue;
            };
            let held = parse_lease(&current.bytes);
            match held {
                // Our own create, answered 412 on a retry.
                Some((owner, _)) if owner == env.owner => return Ok(Ok(lease)),
                Some((owner, expires_ms)) if expires_ms > now => {
                    return Ok(Err(Outcome::Busy { owner, expires_ms }));
                }
                _ => {}
            }
            // Expired (or unreadable): take it over, unless someone else just did.
            if store.replace(&key, mine.clone(), &current.etag).await? {
                tracing::warn!(
                    previous = held.map(|(o, _)| o),
                    "took over an expired compactor lease"
                );
                return Ok(Ok(lease));
            }
            let (owner, expires_ms) = match store.get(&key).await? {
                Some(bytes) => parse_lease(&bytes).unwrap_or_default(),
                None => continue,
            };
            return Ok(Err(Outcome::Busy { owner, expires_ms }));
        }
        Ok(Err(Outcome::Busy {
            owner: String::new(),
            expires_ms: now,
        }))
    }

    /// Extends the lease when a quarter of it has passed since the last renewal.
    async fn renew_if_due<S: ObjectStore>(
        &mut self,
        store: &S,
        settings: &Settings,
        env: &Env<'_>,
    ) -> Result<(), CompactError> {
        if (env.now_ms)().saturating_sub(self.renewed_ms) >= settings.lease_ms / 4 {
            self.renew(store, settings, env).await?;
        }
        Ok(())
    }

    /// Extends the lease, or fails if another compactor took it over.
    async fn renew<S: ObjectStore>(
        &mut self,
        store: &S,
        settings: &Settings,
        env: &Env<'_>,
    ) -> Result<(), CompactError> {
        let now = (env.now_ms)();
        let current = store.get_tagged(&self.key).await?;
        let lost = |owner: String| CompactError::LeaseLost { owner };
        let Some(current) = current else {
            return Err(lost(String::new()));
        };
        match parse_lease(&current.bytes) {
            Some((owner, _)) if owner == self.owner => {}
            Some((owner, _)) => return Err(lost(owner)),
            None => return Err(lost(String::new())),
        }
        let text = lease_text(&self.owner, now.saturating_add(settings.lease_ms));
        if !store.replace(&self.key, text, &current.etag).await? {
            return Err(lost(String::new()));
        }
        self.renewed_ms = now;
        Ok(())
    }

    /// Gives the lease up, if it is still ours.
    async fn release<S: ObjectStore>(&self, store: &S) -> Result<(), StorageError> {
        if let Some(bytes) = store.get(&self.key).await?
            && parse_lease(&bytes).is_some_and(|(owner, _)| owner == self.owner)
        {
            store.delete(&self.key).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
