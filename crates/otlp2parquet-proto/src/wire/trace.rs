//! `ExportTraceServiceRequest` and `opentelemetry.proto.trace.v1`.

use super::common::{merge_resource, merge_scope, push_attribute};
use super::error::Error;
use super::reader::{Value, count_len_field, for_each_field, push_with, take_exact};
use crate::model::{Event, KeyValue, Link, ResourceSpans, ScopeSpans, Span, Status, TracesRequest};

pub(super) fn request(buf: &[u8]) -> Result<TracesRequest<'_>, Error> {
    let mut out = TracesRequest::default();
    out.resource_spans.reserve(count_len_field(buf, 1));
    for_each_field(buf, |field, v| {
        if field == 1 {
            let buf = v.bytes("resource_spans")?;
            push_with(&mut out.resource_spans, |r| resource_spans(r, buf))
                .map_err(|e| e.at("resource_spans"))?;
        }
        Ok(())
    })?;
    Ok(out)
}

fn resource_spans<'a>(out: &mut ResourceSpans<'a>, buf: &'a [u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => merge_resource(&mut out.resource, v)?,
            2 => {
                let buf = v.bytes("scope_spans")?;
                push_with(&mut out.scope_spans, |s| scope_spans(s, buf))
                    .map_err(|e| e.at("scope_spans"))?;
            }
            3 => out.schema_url = v.str("schema_url")?,
            _ => {}
        }
        Ok(())
    })
}

fn scope_spans<'a>(out: &mut ScopeSpans<'a>, buf: &'a [u8]) -> Result<(), Error> {
    out.spans.reserve(count_len_field(buf, 2));
    let mut attrs = Vec::new();
    for_each_field(buf, |field, v| {
        match field {
            1 => merge_scope(&mut out.scope, v)?,
            2 => {
                let buf = v.bytes("spans")?;
                push_with(&mut out.spans, |s| span(s, buf, &mut attrs))
                    .map_err(|e| e.at("spans"))?;
            }
            3 => out.schema_url = v.str("schema_url")?,
            _ => {}
        }
        Ok(())
    })
}

/// Decodes a span; its attributes are collected in `attrs` (reused from span to span) and
/// then moved into a `Vec` of exactly their number.
fn span<'a>(out: &mut Span<'a>, buf: &'a [u8], attrs: &mut Vec<KeyValue<'a>>) -> Result<(), Error> {
    attrs.clear();
    for_each_field(buf, |field, v| {
        match field {
            1 => out.trace_id = v.trace_id("trace_id")?,
            2 => out.span_id = v.span_id("span_id")?,
            3 => out.trace_state = v.str("trace_state")?,
            4 => out.parent_span_id = v.span_id("parent_span_id")?,
            5 => out.name = v.str("name")?,
            6 => out.kind = v.int32("kind")?,
            7 => out.start_time_unix_nano = v.fixed64("start_time_unix_nano")?,
            8 => out.end_time_unix_nano = v.fixed64("end_time_unix_nano")?,
            9 => push_attribute(attrs, v, "attributes")?,
            10 => out.dropped_attributes_count = v.uint32("dropped_attributes_count")?,
            11 => {
                let buf = v.bytes("events")?;
                push_with(&mut out.events, |e| event(e, buf)).map_err(|e| e.at("events"))?;
            }
            12 => out.dropped_events_count = v.uint32("dropped_events_count")?,
            13 => {
                let buf = v.bytes("links")?;
                push_with(&mut out.links, |l| link(l, buf)).map_err(|e| e.at("links"))?;
            }
            14 => out.dropped_links_count = v.uint32("dropped_links_count")?,
            15 => merge_status(&mut out.status, v)?,
            16 => out.flags = v.fixed32("flags")?,
            _ => {}
        }
        Ok(())
    })?;
    out.attributes = take_exact(attrs);
    Ok(())
}

fn event<'a>(out: &mut Event<'a>, buf: &'a [u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => out.time_unix_nano = v.fixed64("time_unix_nano")?,
            2 => out.name = v.str("name")?,
            3 => push_attribute(&mut out.attributes, v, "attributes")?,
            4 => out.dropped_attributes_count = v.uint32("dropped_attributes_count")?,
            _ => {}
        }
        Ok(())
    })
}

fn link<'a>(out: &mut Link<'a>, buf: &'a [u8]) -> Result<(), Error> {
    for_each_field(buf, |field, v| {
        match field {
            1 => out.trace_id = v.trace_id("trace_id")?,
            2 => out.span_id = v.span_id("span_id")?,
            3 => out.trace_state = v.str("trace_state")?,
            4 => push_attribute(&mut out.attributes, v, "attributes")?,
            5 => out.dropped_attributes_count = v.uint32("dropped_attributes_count")?,
            6 => out.flags = v.fixed32("flags")?,
            _ => {}
        }
        Ok(())
    })
}

fn merge_status<'a>(out: &mut Status<'a>, v: Value<'a>) -> Result<(), Error> {
    for_each_field(v.bytes("status")?, |field, v| {
        match field {
            2 => out.message = v.str("message")?,
            3 => out.code = v.int32("code")?,
            _ => {}
        }
        Ok(())
    })
    .map_err(|e| e.at("status"))
}
