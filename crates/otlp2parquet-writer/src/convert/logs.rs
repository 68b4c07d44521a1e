//! `LogsRequest` → `logs` partitions (docs/schema.md#logs).

use arrow_array::RecordBatch;
use arrow_array::types::{TimestampMillisecondType, TimestampNanosecondType, UInt8Type};
use otlp2parquet_proto::{LogRecord, LogsRequest};

use super::attrs::{AttrWriter, map_col};
use super::columns::{Batch, PrimCol, StrCol};
use super::context::{Contexts, Parts, ResourceScopeCols};
use super::group::{Groups, Timed, or_received, timestamp, whole_seconds_ms};
use crate::ids::hex_id;
use crate::schema::common::{
    RESOURCE_ATTRIBUTES, RESOURCE_SCHEMA_URL, SCOPE_ATTRIBUTES, SCOPE_NAME, SCOPE_SCHEMA_URL,
    SCOPE_VERSION, SERVICE_NAME,
};
use crate::schema::logs::{
    BODY, EVENT_NAME, LOG_ATTRIBUTES, SEVERITY_NUMBER, SEVERITY_TEXT, SPAN_ID, TIMESTAMP,
    TIMESTAMP_TIME, TRACE_FLAGS, TRACE_ID,
};
use crate::{Partition, Table, WriterError};

struct LogRow<'r, 'a> {
    scope: usize,
    record: &'r LogRecord<'a>,
}

/// Converts a logs request into one partition per (safe service, hour).
///
/// A record's time is `time_unix_nano`, else `observed_time_unix_nano`, else `received_at_ns`;
/// it is what `Timestamp` stores and what places the row in its hour.
pub fn convert_logs(
    req: &LogsRequest<'_>,
    received_at_ns: i64,
) -> Result<Vec<Partition>, WriterError> {
    let rows: usize = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    let mut w = AttrWriter::default();
    let mut ctx = Contexts::default();
    let mut groups = Groups::new(rows);
    for (i, rl) in req.resource_logs.iter().enumerate() {
        let resource = ctx.add_resource(&rl.resource, &rl.schema_url, &mut w);
        for (j, sl) in rl.scope_logs.iter().enumerate() {
            let scope = ctx.add_scope(resource, &sl.scope, &sl.schema_url, &mut w);
            let (service, repeat) = ctx
                .scope(scope)
                .map_or((0, 0), |s| (s.service_id, s.repeat_bytes));
            for (k, record) in sl.log_records.iter().enumerate() {
                let (raw, field) = if record.time_unix_nano != 0 {
                    (record.time_unix_nano, "time_unix_nano")
                } else {
                    (record.observed_time_unix_nano, "observed_time_unix_nano")
                };
                let t = timestamp(raw, || {
                    format!("resource_logs[{i}].scope_logs[{j}].log_records[{k}].{field}")
                })?;
                let time = or_received(t, received_at_ns);
                groups.push(service, repeat, time, LogRow { scope, record });
            }
        }
    }
    groups
        .finish()
        .into_iter()
        .map(|g| g.into_partition(Table::Logs, &ctx, |rows| build(rows, &ctx, &mut w)))
        .collect()
}

fn build(
    rows: &[Timed<LogRow<'_, '_>>],
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let n = rows.len();
    let mut timestamp = PrimCol::<TimestampNanosecondType>::with_capacity(n);
    let mut timestamp_time = PrimCol::<TimestampMillisecondType>::with_capacity(n);
    let mut trace_id = StrCol::with_capacity(n, n * 32);
    let mut span_id = StrCol::with_capacity(n, n * 16);
    let mut trace_flags = PrimCol::<UInt8Type>::with_capacity(n);
    let mut severity_text = StrCol::with_capacity(n, n * 5);
    let mut severity_number = PrimCol::<UInt8Type>::with_capacity(n);
    let mut body = StrCol::with_capacity(n, n * 64);
    let mut log_attrs = map_col(rows.iter().map(|r| r.row.record.attributes.as_slice()));
    let mut event_name = StrCol::with_capacity(n, 0);
    let parts = Parts {
        schema_urls: true,
        scope_attributes: true,
        scope_dropped: false,
    };
    let mut rs = ResourceScopeCols::with_capacity(ctx, rows.iter().map(|r| r.row.scope), parts);
    let mut hex = [0u8; 32];

    for Timed { time, row } in rows {
        let r = row.record;
        timestamp.push(*time);
        timestamp_time.push(whole_seconds_ms(*time));
        trace_id.push(hex_id(&r.trace_id, &mut hex));
        span_id.push(hex_id(&r.span_id, &mut hex));
        // W3C trace flags are the low byte (`TraceFlags` UInt8, docs/schema.md#logs).
        trace_flags.push((r.flags & 0xFF) as u8);
        severity_text.push(&r.severity_text);
        severity_number.push(u8::try_from(r.severity_number).unwrap_or(0));
        rs.append(ctx, row.scope);
        body.push(w.stringify(&r.body));
        w.append(&mut log_attrs, &r.attributes);
        event_name.push(&r.event_name);
    }

    let mut b = Batch::new(Table::Logs);
    b.push(TIMESTAMP, timestamp)?;
    b.push(TIMESTAMP_TIME, timestamp_time)?;
    b.push(TRACE_ID, trace_id)?;
    b.push(SPAN_ID, span_id)?;
    b.push(TRACE_FLAGS, trace_flags)?;
    b.push(SEVERITY_TEXT, severity_text)?;
    b.push(SEVERITY_NUMBER, severity_number)?;
    b.push(SERVICE_NAME, rs.service)?;
    b.push(BODY, body)?;
    b.push(RESOURCE_SCHEMA_URL, rs.resource_schema_url)?;
    b.push(RESOURCE_ATTRIBUTES, rs.resource_attrs)?;
    b.push(SCOPE_SCHEMA_URL, rs.scope_schema_url)?;
    b.push(SCOPE_NAME, rs.scope_name)?;
    b.push(SCOPE_VERSION, rs.scope_version)?;
    b.push(SCOPE_ATTRIBUTES, rs.scope_attrs)?;
    b.push(LOG_ATTRIBUTES, log_attrs)?;
    b.push(EVENT_NAME, event_name)?;
    b.finish()
}
