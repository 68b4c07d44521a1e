//! The spool Durable Object (docs/adr/0012-worker-spool.md): one per (table, service, shard).
//! `fetch` appends a request's parts to SQLite in one transaction and answers only then;
//! `alarm` writes the spooled rows of one hour as one time-ordered file to R2 and deletes them
//! only once R2 confirmed it. Built for wasm32 only.
//!
//! SQLite holds `spool_parts` (the parts, in arrival order), `spool_flush` (the flush in
//! progress, at most one row: its hour, the last part it takes, its object key fixed before
//! the write, a multipart upload id) and `spool_meta` (table, service, spooled bytes, failed
//! flushes in a row, the earliest retry). Times that do not fit a JavaScript number exactly
//! (nanoseconds) are stored as text.

use std::cell::Cell;

use otlp2parquet_handlers::{Config, file_token, parquet_options};
use otlp2parquet_writer::part::decode_part;
use otlp2parquet_writer::{Table, encode_merged, object_key};
use worker::js_sys;
use worker::wasm_bindgen::JsValue;
use worker::{
    DurableObject, Env, Request, Response, ScheduledTime, SqlCursor, SqlStorage, SqlStorageValue,
    State, durable_object,
};

use crate::r2::{self, PART_BYTES};
use crate::spool::{
    Append, HourStats, Limits, Spooled, backoff_ms, checksum, decode_append, flush_extent,
    next_flush,
};

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS spool_parts (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     hour INTEGER NOT NULL, min_time_ns TEXT NOT NULL, rows INTEGER NOT NULL, \
     arrow_bytes INTEGER NOT NULL, arrived_ms INTEGER NOT NULL, crc INTEGER NOT NULL, \
     data BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS spool_parts_hour ON spool_parts (hour, id)",
    "CREATE TABLE IF NOT EXISTS spool_flush (hour INTEGER NOT NULL, last_id INTEGER NOT NULL, \
     key TEXT NOT NULL, upload_id TEXT)",
    "CREATE TABLE IF NOT EXISTS spool_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

/// Why a spool operation failed.
#[derive(Debug, thiserror::Error)]
enum SpoolError {
    /// The spool holds `batch.max_buffered_bytes` already (503 + `Retry-After`).
    #[error("the spool holds {spooled} bytes, its budget (batch.max_buffered_bytes) is {budget}")]
    Full { spooled: u64, budget: u64 },
    /// The append message was not one (400: a bug or a foreign caller).
    #[error(transparent)]
    Malformed(#[from] crate::spool::MalformedAppend),
    /// SQLite or the alarm API failed.
    #[error("spool storage: {0}")]
    Storage(String),
    /// The configuration is invalid (the Worker answers 500 before it gets here).
    #[error("configuration: {0}")]
    Config(String),
    /// Decoding, merging or encoding the spooled rows failed.
    #[error(transparent)]
    Encode(#[from] otlp2parquet_writer::WriterError),
    /// R2 refused or failed the write.
    #[error(transparent)]
    R2(#[from] otlp2parquet_writer::StorageError),
}

impl From<worker::Error> for SpoolError {
    fn from(e: worker::Error) -> Self {
        SpoolError::Storage(e.to_string())
    }
}

/// The spool of one (table, service, shard).
#[durable_object(alarm)]
pub struct Spool {
    state: State,
    env: Env,
    ready: Cell<bool>,
}

impl DurableObject for Spool {
    fn new(state: State, env: Env) -> Self {
        Spool {
            state,
            env,
            ready: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let body = req.bytes().await?;
        let now = now_ms();
        let answer = match self.append(&body, now) {
            Ok(()) => self.schedule(now).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(()) => Ok(Response::empty()?.with_status(200)),
            Err(e @ SpoolError::Full { .. }) => {
                tracing::warn!(error = %e, "spool full: answering 503");
                Response::error(e.to_string(), 503)
            }
            Err(e @ SpoolError::Malformed(_)) => Response::error(e.to_string(), 400),
            Err(e) => {
                tracing::error!(error = %e, "spool append failed");
                Response::error(e.to_string(), 500)
            }
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let now = now_ms();
        match self.flush(now).await {
            Ok(()) => {
                if let Err(e) = self.succeeded() {
                    tracing::error!(error = %e, "spool: recording a flush failed");
                }
            }
            Err(e) => {
                let failures = self.meta_int("failures").unwrap_or(0).saturating_add(1);
                let retry =
                    now.saturating_add(backoff_ms(u32::try_from(failures).unwrap_or(u32::MAX)));
                tracing::error!(error = %e, failures, retry_in_ms = retry - now, "spool flush failed; rows kept, retrying");
                let recorded = self
                    .set_meta("failures", &failures.to_string())
                    .and_then(|()| self.set_meta("retry_at_ms", &retry.to_string()));
                if let Err(e) = recorded {
                    tracing::error!(error = %e, "spool: recording a failed flush failed");
                }
            }
        }
        if let Err(e) = self.schedule(now).await {
            tracing::error!(error = %e, "spool: scheduling the next flush failed");
        }
        Response::empty()
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn int(value: Option<&SqlStorageValue>) -> Option<i64> {
    match value? {
        SqlStorageValue::Integer(i) => Some(*i),
        SqlStorageValue::Float(f) => Some(*f as i64),
        SqlStorageValue::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(value: Option<&SqlStorageValue>) -> Option<String> {
    match value? {
        SqlStorageValue::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn rows(cursor: SqlCursor) -> Result<Vec<Vec<SqlStorageValue>>, SpoolError> {
    cursor
        .raw()
        .map(|row| row.map_err(SpoolError::from))
        .collect()
}

/// The flush in progress.
struct Plan {
    hour: i64,
    last_id: i64,
    key: String,
    upload_id: Option<String>,
}

impl Spool {
    fn sql(&self) -> Result<SqlStorage, SpoolError> {
        let sql = self.state.storage().sql();
        if !self.ready.get() {
            for statement in SCHEMA {
                sql.exec(statement, None)?;
            }
            self.ready.set(true);
        }
        Ok(sql)
    }

    fn config(&self) -> Result<&'static Config, SpoolError> {
        crate::fetch::isolate(&self.env)
            .config
            .as_ref()
            .map_err(|e| SpoolError::Config(e.clone()))
    }

    fn meta(&self, name: &str) -> Result<Option<String>, SpoolError> {
        let found = rows(self.sql()?.exec(
            "SELECT value FROM spool_meta WHERE name = ?",
            vec![name.into()],
        )?)?;
        Ok(found.first().and_then(|row| text(row.first())))
    }

    fn meta_int(&self, name: &str) -> Result<i64, SpoolError> {
        Ok(self.meta(name)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    fn set_meta(&self, name: &str, value: &str) -> Result<(), SpoolError> {
        self.sql()?.exec(
            "INSERT INTO spool_meta (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            vec![name.into(), value.into()],
        )?;
        Ok(())
    }

    /// Stores every part of `body` or none: the statements run without an `await` between
    /// them, which a Durable Object commits as one transaction, and its output gate holds the
    /// answer until that commit is durable.
    fn append(&self, body: &[u8], now: i64) -> Result<(), SpoolError> {
        let message: Append<'_> = decode_append(body)?;
        let budget = self.config()?.batch.max_buffered_bytes as u64;
        let spooled = self.meta_int("bytes")?.max(0) as u64;
        let incoming: u64 = message.parts.iter().map(|p| p.data.len() as u64).sum();
        if spooled.saturating_add(incoming) > budget {
            return Err(SpoolError::Full { spooled, budget });
        }
        let sql = self.sql()?;
        // Written once: on later appends the conflict writes no row (rows written are billed).
        for (name, value) in [
            ("table", message.table.key_path()),
            ("service", message.service),
        ] {
            sql.exec(
                "INSERT INTO spool_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                vec![name.into(), value.into()],
            )?;
        }
        for part in &message.parts {
            sql.exec(
                "INSERT INTO spool_parts (hour, min_time_ns, rows, arrow_bytes, arrived_ms, crc, \
                 data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    part.hour.into(),
                    part.min_time_ns.to_string().into(),
                    i64::from(part.rows).into(),
                    (part.arrow_bytes as i64).into(),
                    now.into(),
                    i64::from(checksum(part.data)).into(),
                    part.data.to_vec().into(),
                ],
            )?;
        }
        self.set_meta("bytes", &spooled.saturating_add(incoming).to_string())
    }

    fn limits(&self) -> Result<Limits, SpoolError> {
        let batch = &self.config()?.batch;
        Ok(Limits {
            max_rows: batch.max_rows as u64,
            max_bytes: batch.max_bytes as u64,
            max_age_ms: i64::try_from(batch.max_age_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
        })
    }

    fn hours(&self) -> Result<Vec<HourStats>, SpoolError> {
        let found = rows(self.sql()?.exec(
            "SELECT hour, SUM(rows), SUM(arrow_bytes), MIN(arrived_ms) FROM spool_parts GROUP BY hour",
            None,
        )?)?;
        Ok(found
            .iter()
            .filter_map(|row| {
                Some(HourStats {
                    hour: int(row.first())?,
                    rows: int(row.get(1))?.max(0) as u64,
                    arrow_bytes: int(row.get(2))?.max(0) as u64,
                    oldest_arrival_ms: int(row.get(3))?,
                })
            })
            .collect())
    }

    fn plan(&self) -> Result<Option<Plan>, SpoolError> {
        let found = rows(self.sql()?.exec(
            "SELECT hour, last_id, key, upload_id FROM spool_flush LIMIT 1",
            None,
        )?)?;
        Ok(found.first().and_then(|row| {
            Some(Plan {
                hour: int(row.first())?,
                last_id: int(row.get(1))?,
                key: text(row.get(2))?,
                upload_id: text(row.get(3)),
            })
        }))
    }

    /// Sets the alarm to when the next flush is due (now for an interrupted one), not before a
    /// retry a failure asked for; removes it when nothing is spooled.
    async fn schedule(&self, now: i64) -> Result<(), SpoolError> {
        let due = if self.plan()?.is_some() {
            Some(now)
        } else {
            next_flush(&self.hours()?, &self.limits()?).map(|(_, due)| due)
        };
        let storage = self.state.storage();
        let Some(due) = due else {
            storage.delete_alarm().await?;
            return Ok(());
        };
        let at = due.max(now).max(self.meta_int("retry_at_ms")?);
        let current = storage.get_alarm().await?;
        if current.is_none_or(|c| c > at) {
            let date = js_sys::Date::new(&JsValue::from_f64(at as f64));
            storage.set_alarm(ScheduledTime::new(date)).await?;
        }
        Ok(())
    }

    fn succeeded(&self) -> Result<(), SpoolError> {
        self.set_meta("failures", "0")?;
        self.set_meta("retry_at_ms", "0")
    }

    /// Writes one due hour (or redoes the interrupted flush) and deletes its parts.
    async fn flush(&self, now: i64) -> Result<(), SpoolError> {
        let config = self.config()?;
        let table_path = self.meta("table")?.unwrap_or_default();
        let Some(table) = Table::ALL.into_iter().find(|t| t.key_path() == table_path) else {
            // Nothing was ever appended.
            return Ok(());
        };
        let service = self.meta("service")?.unwrap_or_default();
        let bucket = r2::R2 {
            bucket: self.env.bucket(&config.storage.r2.binding).map_err(|e| {
                format!(
                    "R2 binding {:?} is missing ({e})",
                    config.storage.r2.binding
                )
            }),
        };
        let plan = match self.plan()? {
            Some(plan) => {
                if let Some(upload_id) = &plan.upload_id {
                    r2::abort_upload(bucket.bucket(&plan.key)?, &plan.key, upload_id).await;
                }
                tracing::info!(key = %plan.key, "spool: redoing an interrupted flush");
                plan
            }
            None => match self.new_plan(table, &service, config, now)? {
                Some(plan) => plan,
                None => return Ok(()),
            },
        };

        let sql = self.sql()?;
        let parts = rows(sql.exec(
            "SELECT id, crc, data FROM spool_parts WHERE hour = ? AND id <= ? ORDER BY id",
            vec![plan.hour.into(), plan.last_id.into()],
        )?)?;
        let mut batches = Vec::new();
        let mut spooled_bytes = 0u64;
        for row in parts {
            let (id, crc) = (int(row.first()), int(row.get(1)));
            let Some(SqlStorageValue::Blob(data)) = row.into_iter().nth(2) else {
                return Err(SpoolError::Storage("a spooled part has no data".to_owned()));
            };
            // Only bytes our encoder wrote reach the IPC reader (see `spool`).
            if crc != Some(i64::from(checksum(&data))) {
                return Err(SpoolError::Storage(format!(
                    "spooled part {id:?} does not match its checksum"
                )));
            }
            spooled_bytes += data.len() as u64;
            batches.push(decode_part(table, &data)?);
        }
        let rows_written: usize = batches.iter().map(|b| b.num_rows()).sum();
        let file = encode_merged(table, &batches, &parquet_options(config))?;
        drop(batches);
        let bucket = bucket.bucket(&plan.key)?;
        tracing::info!(key = %plan.key, rows = rows_written, bytes = file.len(), "spool: writing");
        if file.len() > PART_BYTES {
            r2::put_in_parts(bucket, &plan.key, &file, |upload_id| {
                sql.exec(
                    "UPDATE spool_flush SET upload_id = ?",
                    vec![upload_id.into()],
                )
                .map(|_| ())
                .map_err(|e| otlp2parquet_writer::StorageError {
                    kind: otlp2parquet_writer::StorageErrorKind::Temporary,
                    key: plan.key.clone(),
                    message: format!("recording the upload id: {e}"),
                })
            })
            .await?;
        } else {
            r2::put_once(bucket, &plan.key, file).await?;
        }

        // R2 has the file: the parts go, with the plan, in one transaction.
        let spooled = self.meta_int("bytes")?.max(0) as u64;
        sql.exec(
            "DELETE FROM spool_parts WHERE hour = ? AND id <= ?",
            vec![plan.hour.into(), plan.last_id.into()],
        )?;
        sql.exec("DELETE FROM spool_flush", None)?;
        self.set_meta("bytes", &spooled.saturating_sub(spooled_bytes).to_string())?;
        tracing::info!(key = %plan.key, rows = rows_written, "spool flushed");
        Ok(())
    }

    /// Picks the hour due first, if it is due at `now`, and the parts its file takes, and
    /// records the plan (with its key) before anything is written.
    fn new_plan(
        &self,
        table: Table,
        service: &str,
        config: &Config,
        now: i64,
    ) -> Result<Option<Plan>, SpoolError> {
        let limits = self.limits()?;
        let Some((hour, due)) = next_flush(&self.hours()?, &limits) else {
            return Ok(None);
        };
        if due > now {
            return Ok(None);
        }
        let sql = self.sql()?;
        let found = rows(sql.exec(
            "SELECT id, rows, arrow_bytes, min_time_ns FROM spool_parts WHERE hour = ? \
             ORDER BY id LIMIT 100000",
            vec![hour.into()],
        )?)?;
        let parts: Vec<(Spooled, i64)> = found
            .iter()
            .filter_map(|row| {
                let part = Spooled {
                    id: int(row.first())?,
                    rows: int(row.get(1))?.max(0) as u64,
                    arrow_bytes: int(row.get(2))?.max(0) as u64,
                };
                Some((part, int(row.get(3))?))
            })
            .collect();
        let spooled: Vec<Spooled> = parts.iter().map(|(p, _)| *p).collect();
        let (Some(last_id), Some((first, _))) = (flush_extent(&spooled, &limits), parts.first())
        else {
            return Ok(None);
        };
        let min_time_ns = parts
            .iter()
            .filter(|(p, _)| p.id <= last_id)
            .map(|(_, t)| *t)
            .min()
            .unwrap_or_default();
        // The key is a function of this object and the first part: a redone flush (same
        // parts) replaces its file instead of adding one.
        let seed = u128::from_str_radix(
            &self
                .state
                .id()
                .to_string()
                .chars()
                .take(32)
                .collect::<String>(),
            16,
        )
        .unwrap_or(0);
        let key = object_key(
            &config.storage.prefix,
            table,
            service,
            min_time_ns,
            file_token(seed, first.id as u64),
        );
        sql.exec(
            "INSERT INTO spool_flush (hour, last_id, key) VALUES (?, ?, ?)",
            vec![hour.into(), last_id.into(), key.as_str().into()],
        )?;
        Ok(Some(Plan {
            hour,
            last_id,
            key,
            upload_id: None,
        }))
    }
}
