//! `ExportLogsServiceRequest` and `opentelemetry.proto.logs.v1`.

use super::common::{merge_any_value, merge_resource, merge_scope, push_attribute};
use super::error::Error;
use super::reader::{count_len_field, for_each_field, push_with, take_exact};
use crate::model::{KeyValue, LogRecord, LogsRequest, ResourceLogs, ScopeLogs};

pub(super) fn request(buf: &[u8]) -> Result<LogsRequest<'_>, Error> {
    let mut out = LogsRequest::default();
    out.resource_logs.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        if field == 1 {
            let buf = v.bytes("resource_logs")?;
            push_with(&mut out.resource_logs, |r| resource_logs(r, buf))
                .map_err(|e| e.at("resource_logs"))?;
        }
        Ok(())
    })?;
    Ok(out)
}

fn resource_logs<'a>(out: &mut ResourceLogs<'a>, buf: &'a [u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => merge_resource(&mut out.resource, v)?,
            2 => {
                let buf = v.bytes("scope_logs")?;
                push_with(&mut out.scope_logs, |s| scope_logs(s, buf))
                    .map_err(|e| e.at("scope_logs"))?;
            }
            3 => out.schema_url = v.str("schema_url")?,
            _ => {}
        }
        Ok(())
    })
}

fn scope_logs<'a>(out: &mut ScopeLogs<'a>, buf: &'a [u8]) -> Result<(), Error> {
    out.log_records.reserve(count_len_field(buf, 2));
    let mut attrs = Vec::new();
    for_each_field(buf, |field, v| {
        match field {
            1 => merge_scope(&mut out.scope, v)?,
            2 => {
                let buf = v.bytes("log_records")?;
                push_with(&mut out.log_records, |r| log_record(r, buf, &mut attrs))
                    .map_err(|e| e.at("log_records"))?;
            }
            3 => out.schema_url = v.str("schema_url")?,
            _ => {}
        }
        Ok(())
    })
}

/// Decodes a record; its attributes are collected in `attrs` (reused from record to record)
/// and then moved into a `Vec` of exactly their number.
fn log_record<'a>(
    out: &mut LogRecord<'a>,
    buf: &'a [u8],
    attrs: &mut Vec<KeyValue<'a>>,
) -> Result<(), Error> {
    attrs.clear();
    for_each_field(buf, |field, v| {
        match field {
            1 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            2 => out.severity_number = v.int32("severity_number")?,
            3 => out.severity_text = v.str("severity_text")?,
            5 => merge_any_value(&mut out.body, v.bytes("body")?, 0).map_err(|e| e.at("body"))?,
            6 => push_attribute(attrs, v, "attributes")?,
            7 => out.dropped_attributes_count = v.uint32("dropped_attributes_count")?,
            8 => out.flags = v.fixed32("flags")?,
            9 => out.trace_id = v.trace_id("trace_id")?,
            10 => out.span_id = v.span_id("span_id")?,
            11 => out.observed_time_unix_nano = v.fixed64("observed_time_unix_nano")?,
            12 => out.event_name = v.str("event_name")?,
            _ => {}
        }
        Ok(())
    })?;
    out.attributes = take_exact(attrs);
    Ok(())
}
