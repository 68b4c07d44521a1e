//! `TracesRequest` → `traces` partitions (docs/schema.md#traces).

use arrow_array::RecordBatch;
use arrow_array::types::{TimestampNanosecondType, UInt64Type};
use otlp2parquet_proto::{Span, TracesRequest};

use super::attrs::{AttrWriter, map_col};
use super::columns::{Batch, ListCol, MapCol, PrimCol, StrCol};
use super::context::{Contexts, Parts, ResourceScopeCols};
use super::group::{Groups, Timed, or_received, timestamp};
use crate::ids::hex_id;
use crate::schema::common::{RESOURCE_ATTRIBUTES, SCOPE_NAME, SCOPE_VERSION, SERVICE_NAME};
use crate::schema::traces::{
    DURATION, EVENTS_ATTRIBUTES, EVENTS_NAME, EVENTS_TIMESTAMP, LINKS_ATTRIBUTES, LINKS_SPAN_ID,
    LINKS_TRACE_ID, LINKS_TRACE_STATE, PARENT_SPAN_ID, SPAN_ATTRIBUTES, SPAN_ID, SPAN_KIND,
    SPAN_KIND_NAMES, SPAN_NAME, STATUS_CODE, STATUS_CODE_NAMES, STATUS_MESSAGE, TIMESTAMP,
    TRACE_ID, TRACE_STATE,
};
use crate::{Partition, Table, WriterError};

struct SpanRow<'r, 'a> {
    scope: usize,
    span: &'r Span<'a>,
}

/// Converts a traces request into one partition per (safe service, hour).
///
/// A span's time is `start_time_unix_nano`, else `received_at_ns`; `Duration` is computed
/// from the span's own start and end either way.
pub fn convert_traces(
    req: &TracesRequest<'_>,
    received_at_ns: i64,
) -> Result<Vec<Partition>, WriterError> {
    let rows: usize = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    let mut w = AttrWriter::default();
    let mut ctx = Contexts::default();
    let mut groups = Groups::new(rows);
    for (i, rs) in req.resource_spans.iter().enumerate() {
        let resource = ctx.add_resource(&rs.resource, &rs.schema_url, &mut w);
        for (j, ss) in rs.scope_spans.iter().enumerate() {
            let scope = ctx.add_scope(resource, &ss.scope, &ss.schema_url, &mut w);
            let (service, repeat) = ctx
                .scope(scope)
                .map_or((0, 0), |s| (s.service_id, s.repeat_bytes));
            for (k, span) in ss.spans.iter().enumerate() {
                let at = || format!("resource_spans[{i}].scope_spans[{j}].spans[{k}]");
                let start = timestamp(span.start_time_unix_nano, || {
                    format!("{}.start_time_unix_nano", at())
                })?;
                for (e, event) in span.events.iter().enumerate() {
                    timestamp(event.time_unix_nano, || {
                        format!("{}.events[{e}].time_unix_nano", at())
                    })?;
                }
                let time = or_received(start, received_at_ns);
                groups.push(service, repeat, time, SpanRow { scope, span });
            }
        }
    }
    groups
        .finish()
        .into_iter()
        .map(|g| g.into_partition(Table::Traces, &ctx, |rows| build(rows, &ctx, &mut w)))
        .collect()
}

/// The name of enum value `n`, or the first (unspecified) name when `n` is not in the enum.
fn enum_name<const N: usize>(names: &[&'static str; N], n: i32) -> &'static str {
    let unspecified = names.first().copied().unwrap_or("");
    usize::try_from(n)
        .ok()
        .and_then(|i| names.get(i))
        .copied()
        .unwrap_or(unspecified)
}

fn build(
    rows: &[Timed<SpanRow<'_, '_>>],
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let n = rows.len();
    let events: usize = rows.iter().map(|r| r.row.span.events.len()).sum();
    let links: usize = rows.iter().map(|r| r.row.span.links.len()).sum();
    let mut timestamp = PrimCol::<TimestampNanosecondType>::with_capacity(n);
    let mut trace_id = StrCol::with_capacity(n, n * 32);
    let mut span_id = StrCol::with_capacity(n, n * 16);
    let mut parent_span_id = StrCol::with_capacity(n, n * 16);
    let mut trace_state = StrCol::with_capacity(n, 0);
    let mut span_name = StrCol::with_capacity(n, n * 24);
    let mut span_kind = StrCol::with_capacity(n, n * 16);
    let mut span_attrs = map_col(rows.iter().map(|r| r.row.span.attributes.as_slice()));
    let mut duration = PrimCol::<UInt64Type>::with_capacity(n);
    let mut status_code = StrCol::with_capacity(n, n * 17);
    let mut status_message = StrCol::with_capacity(n, 0);
    let mut ev_time = ListCol::new(n, PrimCol::<TimestampNanosecondType>::with_capacity(events));
    let mut ev_name = ListCol::new(n, StrCol::with_capacity(events, events * 16));
    let mut ev_attrs = ListCol::new(n, MapCol::with_capacity(events, events * 2, events * 32));
    let mut ln_trace_id = ListCol::new(n, StrCol::with_capacity(links, links * 32));
    let mut ln_span_id = ListCol::new(n, StrCol::with_capacity(links, links * 16));
    let mut ln_trace_state = ListCol::new(n, StrCol::with_capacity(links, 0));
    let mut ln_attrs = ListCol::new(n, MapCol::with_capacity(links, links, links * 32));
    let parts = Parts {
        schema_urls: false,
        scope_attributes: false,
        scope_dropped: false,
    };
    let mut rs = ResourceScopeCols::with_capacity(ctx, rows.iter().map(|r| r.row.scope), parts);
    let mut hex = [0u8; 32];

    for Timed { time, row } in rows {
        let s = row.span;
        timestamp.push(*time);
        trace_id.push(hex_id(&s.trace_id, &mut hex));
        span_id.push(hex_id(&s.span_id, &mut hex));
        parent_span_id.push(hex_id(&s.parent_span_id, &mut hex));
        trace_state.push(&s.trace_state);
        span_name.push(&s.name);
        span_kind.push(enum_name(&SPAN_KIND_NAMES, s.kind));
        rs.append(ctx, row.scope);
        w.append(&mut span_attrs, &s.attributes);
        duration.push(s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano));
        status_code.push(enum_name(&STATUS_CODE_NAMES, s.status.code));
        status_message.push(&s.status.message);
        for e in &s.events {
            // Checked while grouping: every event time fits.
            ev_time
                .items()
                .push(i64::try_from(e.time_unix_nano).unwrap_or(i64::MAX));
            ev_name.items().push(&e.name);
            w.append(ev_attrs.items(), &e.attributes);
        }
        ev_time.close();
        ev_name.close();
        ev_attrs.close();
        for l in &s.links {
            ln_trace_id.items().push(hex_id(&l.trace_id, &mut hex));
            ln_span_id.items().push(hex_id(&l.span_id, &mut hex));
            ln_trace_state.items().push(&l.trace_state);
            w.append(ln_attrs.items(), &l.attributes);
        }
        ln_trace_id.close();
        ln_span_id.close();
        ln_trace_state.close();
        ln_attrs.close();
    }

    let mut b = Batch::new(Table::Traces);
    b.push(TIMESTAMP, timestamp)?;
    b.push(TRACE_ID, trace_id)?;
    b.push(SPAN_ID, span_id)?;
    b.push(PARENT_SPAN_ID, parent_span_id)?;
    b.push(TRACE_STATE, trace_state)?;
    b.push(SPAN_NAME, span_name)?;
    b.push(SPAN_KIND, span_kind)?;
    b.push(SERVICE_NAME, rs.service)?;
    b.push(RESOURCE_ATTRIBUTES, rs.resource_attrs)?;
    b.push(SCOPE_NAME, rs.scope_name)?;
    b.push(SCOPE_VERSION, rs.scope_version)?;
    b.push(SPAN_ATTRIBUTES, span_attrs)?;
    b.push(DURATION, duration)?;
    b.push(STATUS_CODE, status_code)?;
    b.push(STATUS_MESSAGE, status_message)?;
    b.push(EVENTS_TIMESTAMP, ev_time)?;
    b.push(EVENTS_NAME, ev_name)?;
    b.push(EVENTS_ATTRIBUTES, ev_attrs)?;
    b.push(LINKS_TRACE_ID, ln_trace_id)?;
    b.push(LINKS_SPAN_ID, ln_span_id)?;
    b.push(LINKS_TRACE_STATE, ln_trace_state)?;
    b.push(LINKS_ATTRIBUTES, ln_attrs)?;
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_fall_back_to_the_unspecified_name() {
        assert_eq!(enum_name(&SPAN_KIND_NAMES, 2), "SPAN_KIND_SERVER");
        assert_eq!(enum_name(&SPAN_KIND_NAMES, 6), "SPAN_KIND_UNSPECIFIED");
        assert_eq!(enum_name(&SPAN_KIND_NAMES, -1), "SPAN_KIND_UNSPECIFIED");
        assert_eq!(enum_name(&STATUS_CODE_NAMES, 2), "STATUS_CODE_ERROR");
        assert_eq!(enum_name(&STATUS_CODE_NAMES, 3), "STATUS_CODE_UNSET");
    }
}
