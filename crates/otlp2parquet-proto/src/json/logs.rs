//! `ExportLogsServiceRequest`.

use serde::de::MapAccess;

use super::object::{Field, Keys, Message, fields, list, message, optional, scalar};
use super::path::Path;
use super::scalar::{Enum, Id, Severity, Text, U32, U64};
use crate::model::{LogRecord, LogsRequest, ResourceLogs, ScopeLogs};

fields! {
    enum RequestField {
        ResourceLogs = "resourceLogs" | "resource_logs",
    }
}

impl<'de> Message<'de> for LogsRequest<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = LogsRequest::default();
        let mut keys = Keys::<RequestField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                RequestField::ResourceLogs => out.resource_logs = list(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum ResourceLogsField {
        Resource = "resource",
        ScopeLogs = "scopeLogs" | "scope_logs",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl<'de> Message<'de> for ResourceLogs<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = ResourceLogs::default();
        let mut keys = Keys::<ResourceLogsField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ResourceLogsField::Resource => out.resource = message(&mut map, &path)?,
                ResourceLogsField::ScopeLogs => out.scope_logs = list(&mut map, &path)?,
                ResourceLogsField::SchemaUrl => {
                    out.schema_url = scalar::<Text, _>(&mut map, &path)?
                }
            }
        }
        Ok(out)
    }
}

fields! {
    enum ScopeLogsField {
        Scope = "scope",
        LogRecords = "logRecords" | "log_records",
        SchemaUrl = "schemaUrl" | "schema_url",
    }
}

impl<'de> Message<'de> for ScopeLogs<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        let mut out = ScopeLogs::default();
        let mut keys = Keys::<ScopeLogsField>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            match field {
                ScopeLogsField::Scope => out.scope = message(&mut map, &path)?,
                ScopeLogsField::LogRecords => out.log_records = list(&mut map, &path)?,
                ScopeLogsField::SchemaUrl => out.schema_url = scalar::<Text, _>(&mut map, &path)?,
            }
        }
        Ok(out)
    }
}

fields! {
    enum LogRecordField {
        TimeUnixNano = "timeUnixNano" | "time_unix_nano",
        ObservedTimeUnixNano = "observedTimeUnixNano" | "observed_time_unix_nano",
        SeverityNumber = "severityNumber" | "severity_number",
        SeverityText = "severityText" | "severity_text",
        Body = "body",
        Attributes = "attributes",
        DroppedAttributesCount = "droppedAttributesCount" | "dropped_attributes_count",
        Flags = "flags",
        TraceId = "traceId" | "trace_id",
        SpanId = "spanId" | "span_id",
        EventName = "eventName" | "event_name",
    }
}

impl<'de> Message<'de> for LogRecord<'de> {
    fn read<A: MapAccess<'de>>(mut map: A, path: &Path<'_>) -> Result<Self, A::Error> {
        use LogRecordField as F;
        let mut out = LogRecord::default();
        let mut keys = Keys::<F>::new();
        while let Some(field) = keys.next(&mut map)? {
            let path = path.field(field.name());
            let map = &mut map;
            match field {
                F::TimeUnixNano => out.time_unix_nano = scalar::<U64, _>(map, &path)?,
                F::ObservedTimeUnixNano => {
                    out.observed_time_unix_nano = scalar::<U64, _>(map, &path)?
                }
                F::SeverityNumber => out.severity_number = scalar::<Enum<Severity>, _>(map, &path)?,
                F::SeverityText => out.severity_text = scalar::<Text, _>(map, &path)?,
                F::Body => out.body = optional(map, &path)?.unwrap_or_default(),
                F::Attributes => out.attributes = list(map, &path)?,
                F::DroppedAttributesCount => {
                    out.dropped_attributes_count = scalar::<U32, _>(map, &path)?
                }
                F::Flags => out.flags = scalar::<U32, _>(map, &path)?,
                F::TraceId => out.trace_id = scalar::<Id<16>, _>(map, &path)?,
                F::SpanId => out.span_id = scalar::<Id<8>, _>(map, &path)?,
                F::EventName => out.event_name = scalar::<Text, _>(map, &path)?,
            }
        }
        Ok(out)
    }
}
