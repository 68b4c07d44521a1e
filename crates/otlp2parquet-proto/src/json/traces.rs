//! `ExportTraceServiceRequest`.

use serde::de::MapAccess;

use super::object::{Field, Keys, Message, fields, list, message, scalar};
use super::path::Path;
use super::scalar::{Enum, Id, SpanKind, StatusCode, Text, U32, U64};
use crate::model::{Event, Link, ResourceSpans, ScopeSpans, Span, Status, TracesRequest};

fields! {
    enum RequestField {
        ResourceSpans = "resourceSpans" | "resource_spans",
    }
}

impl<'de> Message<'de> for TracesRequest<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = TracesRequest::default();
        let mut keys = Keys::<RequestField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                RequestField::ResourceSpans => out.resource_spans = list(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum ResourceSpansField {
        Resource = "resource",
        ScopeSpans = "scopeSpans" | "scope_spans",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl<'de> Message<'de> for ResourceSpans<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = ResourceSpans::default();
        let mut keys = Keys::<ResourceSpansField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ResourceSpansField::Resource => out.resource = message(&mut map, &path)?,
                ResourceSpansField::ScopeSpans => out.scope_spans = list(&mut map, &path)?,
                ResourceSpansField::SchemaUrl => {
                    out.schema_url = scalar::<Text, _>(&mut map, &path)?;
                }
            }
        }
        Ok(out)
    }
}

fields! {
    enum ScopeSpansField {
        Scope = "scope",
        Spans = "spans",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl<'de> Message<'de> for ScopeSpans<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = ScopeSpans::default();
        let mut keys = Keys::<ScopeSpansField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ScopeSpansField::Scope => out.scope = message(&mut map, &path)?,
                ScopeSpansField::Spans => out.spans = list(&mut map, &path)?,
                ScopeSpansField::SchemaUrl => out.schema_url = scalar::<Text, _>(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum SpanField {
        TraceId = "traceId" | "trace_id",
        SpanId = "spanId" | "span_id",
        TraceState = "traceState" | "trace_state",
        ParentSpanId = "parentSpanId" | "parent_span_id",
        Flags = "flags",
        Name = "name",
        Kind = "kind",
        StartTimeUnixNano = "startTimeUnixNano" | "start_time_unix_nano",
        EndTimeUnixNano = "endTimeUnixNano" | "end_time_unix_nano",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        Events = "events",
        DroppedEventsCount = "droppedEventsCount" | "dropped_events_count",
        Links = "links",
        DroppedLinksCount = "droppedLinksCount" | "dropped_links_count",
        Status = "status",
    }
}

impl<'de> Message<'de> for Span<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use SpanField as F;
        let mut out = Span::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::TraceId => out.trace_id = scalar::<Id<16>, _>(map, &path)?,
                F::SpanId => out.span_id = scalar::<Id<8>, _>(map, &path)?,
                F::TraceState => out.trace_state = scalar::<Text, _>(map, &path)?,
                F::ParentSpanId => out.parent_span_id = scalar::<Id<8>, _>(map, &path)?,
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
                F::Name => out.name = scalar::<Text, _>(map, &path)?,
                F::Kind => out.kind = scalar::<Enum<SpanKind>, _>(map, &path)?,
                F::StartTimeUnixNano => out.start_time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::EndTimeUnixNano => out.end_time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::Attributes => out.attributes = list(map, &path)?,
                F::DroppedAttributesCount => {
                    out.dropped_attributes_count = scalar::<U32, _>(map, &path)?
                }
                F::Events => out.events = list(map, &path)?,
                F::DroppedEventsCount => out.dropped_events_count = scalar::<U32, _>(map, &path)?,
                F::Links => out.links = list(map, &path)?,
                F::DroppedLinksCount => out.dropped_links_count = scalar::<U32, _>(map, &path)?,
                F::Status => out.status = message(map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum EventField {
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        Name = "name",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
    }
}

impl<'de> Message<'de> for Event<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use EventField as F;
        let mut out = Event::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::Name => out.name = scalar::<Text, _>(map, &path)?,
                F::Attributes => out.attributes = list(map, &path)?,
                F::DroppedAttributesCount => {
                    out.dropped_attributes_count = scalar::<U32, _>(map, &path)?
                }
            }
        }
        Ok(out)
    }
}

fields! {
    enum LinkField {
        TraceId = "traceId" | "trace_id",
        SpanId = "spanId" | "span_id",
        TraceState = "traceState" | "trace_state",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        Flags = "flags",
    }
}

impl<'de> Message<'de> for Link<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use LinkField as F;
        let mut out = Link::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::TraceId => out.trace_id = scalar::<Id<16>, _>(map, &path)?,
                F::SpanId => out.span_id = scalar::<Id<8>, _>(map, &path)?,
                F::TraceState => out.trace_state = scalar::<Text, _>(map, &path)?,
                F::Attributes => out.attributes = list(map, &path)?,
                F::DroppedAttributesCount => {
                    out.dropped_attributes_count = scalar::<U32, _>(map, &path)?
                }
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum StatusField {
        Message = "message",
        Code = "code",
    }
}

impl<'de> Message<'de> for Status<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = Status::default();
        let mut keys = Keys::<StatusField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                StatusField::Message => out.message = scalar::<Text, _>(&mut map, &path)?,
                StatusField::Code => out.code = scalar::<Enum<StatusCode>, _>(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}
