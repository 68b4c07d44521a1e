//! `google.rpc.Status` and the minimal `google.protobuf.Any` it needs: the body of OTLP/HTTP
//! error responses.

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// `code = 1` (a `google.rpc.Code`).
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// `message = 2`: a developer-facing description of the error.
    #[prost(string, tag = "2")]
    pub message: String,
    /// `details = 3`.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Any {
    /// `type_url = 1`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// `value = 2`: the encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`: how long a client should wait before retrying (OTLP/gRPC makes
/// `UNAVAILABLE` and `RESOURCE_EXHAUSTED` retryable with it).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RetryInfo {
    /// `retry_delay = 1`.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<Duration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Duration {
    /// `seconds = 1`.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// `nanos = 2`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}
