//! `opentelemetry.proto.trace.v1`: resource and scope span groups, spans, span status.

use super::common::{InstrumentationScope, KeyValue, Resource};

/// `ResourceSpans`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceSpans {
    /// `resource = 1`.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// `scope_spans = 2`.
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `ScopeSpans`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeSpans {
    /// `scope = 1`.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// `spans = 2`.
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<Span>,
    /// `schema_url = 3`.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `Span`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Span {
    /// `trace_id = 1` (16 bytes).
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// `span_id = 2` (8 bytes).
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    /// `trace_state = 3`.
    #[prost(string, tag = "3")]
    pub trace_state: String,
    /// `parent_span_id = 4` (8 bytes or empty).
    #[prost(bytes = "vec", tag = "4")]
    pub parent_span_id: Vec<u8>,
    /// `flags = 16` (fixed32).
    #[prost(fixed32, tag = "16")]
    pub flags: u32,
    /// `name = 5`.
    #[prost(string, tag = "5")]
    pub name: String,
    /// `kind = 6` ([`span::SpanKind`]).
    #[prost(enumeration = "span::SpanKind", tag = "6")]
    pub kind: i32,
    /// `start_time_unix_nano = 7` (fixed64).
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    /// `end_time_unix_nano = 8` (fixed64).
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    /// `attributes = 9`.
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    /// `dropped_attributes_count = 10`.
    #[prost(uint32, tag = "10")]
    pub dropped_attributes_count: u32,
    /// `events = 11`.
    #[prost(message, repeated, tag = "11")]
    pub events: Vec<span::Event>,
    /// `dropped_events_count = 12`.
    #[prost(uint32, tag = "12")]
    pub dropped_events_count: u32,
    /// `links = 13`.
    #[prost(message, repeated, tag = "13")]
    pub links: Vec<span::Link>,
    /// `dropped_links_count = 14`.
    #[prost(uint32, tag = "14")]
    pub dropped_links_count: u32,
    /// `status = 15`.
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

/// Nested types of [`Span`].
pub mod span {
    /// `Span.Event`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Event {
        /// `time_unix_nano = 1` (fixed64).
        #[prost(fixed64, tag = "1")]
        pub time_unix_nano: u64,
        /// `name = 2`.
        #[prost(string, tag = "2")]
        pub name: String,
        /// `attributes = 3`.
        #[prost(message, repeated, tag = "3")]
        pub attributes: Vec<super::KeyValue>,
        /// `dropped_attributes_count = 4`.
        #[prost(uint32, tag = "4")]
        pub dropped_attributes_count: u32,
    }

    /// `Span.Link`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Link {
        /// `trace_id = 1`.
        #[prost(bytes = "vec", tag = "1")]
        pub trace_id: Vec<u8>,
        /// `span_id = 2`.
        #[prost(bytes = "vec", tag = "2")]
        pub span_id: Vec<u8>,
        /// `trace_state = 3`.
        #[prost(string, tag = "3")]
        pub trace_state: String,
        /// `attributes = 4`.
        #[prost(message, repeated, tag = "4")]
        pub attributes: Vec<super::KeyValue>,
        /// `dropped_attributes_count = 5`.
        #[prost(uint32, tag = "5")]
        pub dropped_attributes_count: u32,
        /// `flags = 6` (fixed32).
        #[prost(fixed32, tag = "6")]
        pub flags: u32,
    }

    /// `Span.SpanKind`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    #[allow(missing_docs, reason = "variant names are the OTLP enum names")]
    pub enum SpanKind {
        Unspecified = 0,
        Internal = 1,
        Server = 2,
        Client = 3,
        Producer = 4,
        Consumer = 5,
    }
}

/// `Status` of a span (not `google.rpc.Status`, which is [`rpc::Status`](super::rpc::Status)).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// `message = 2`.
    #[prost(string, tag = "2")]
    pub message: String,
    /// `code = 3` ([`status::StatusCode`]).
    #[prost(enumeration = "status::StatusCode", tag = "3")]
    pub code: i32,
}

/// Nested types of [`Status`].
pub mod status {
    /// `Status.StatusCode`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    #[allow(missing_docs, reason = "variant names are the OTLP enum names")]
    pub enum StatusCode {
        Unset = 0,
        Ok = 1,
        Error = 2,
    }
}
