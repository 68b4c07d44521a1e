//! Error kinds and the one place they become HTTP statuses (docs/protocol.md#statuses).

use std::fmt;

/// What the client should do about a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The payload is malformed (400): do not retry.
    InvalidRequest,
    /// Missing or wrong credentials (401).
    Unauthorized,
    /// No such route (404).
    NotFound,
    /// Wrong method for the route (405).
    MethodNotAllowed,
    /// The request body did not arrive in time (408): the client sends too slowly.
    Timeout,
    /// Body over `max_payload_bytes`, compressed or not (413).
    PayloadTooLarge,
    /// Unsupported `Content-Type` or `Content-Encoding` (415).
    UnsupportedMediaType,
    /// Storage is failing (503): retry later.
    Unavailable,
    /// A bug (500).
    Internal,
}

impl ErrorKind {
    /// The HTTP status of this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Timeout => 408,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The `google.rpc.Code` carried in the error body (and used by gRPC).
    pub fn grpc_code(self) -> i32 {
        match self {
            ErrorKind::InvalidRequest => 3,
            ErrorKind::Unauthorized => 16,
            ErrorKind::NotFound => 5,
            ErrorKind::MethodNotAllowed | ErrorKind::UnsupportedMediaType => 12,
            ErrorKind::PayloadTooLarge => 8,
            ErrorKind::Timeout => 4,
            ErrorKind::Unavailable => 14,
            ErrorKind::Internal => 13,
        }
    }

    /// `Retry-After` seconds for retryable kinds (OTLP: 503 is retryable).
    pub fn retry_after_secs(self) -> Option<u32> {
        match self {
            ErrorKind::Unavailable => Some(5),
            _ => None,
        }
    }
}

/// A request that failed, with what to tell the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` with a client-facing message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The client-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.kind)
    }
}

impl std::error::Error for Error {}

impl From<otlp2parquet_proto::DecodeError> for Error {
    fn from(e: otlp2parquet_proto::DecodeError) -> Self {
        Error::new(ErrorKind::InvalidRequest, e.message().to_owned())
    }
}

impl From<otlp2parquet_writer::WriterError> for Error {
    fn from(e: otlp2parquet_writer::WriterError) -> Self {
        match e {
            otlp2parquet_writer::WriterError::InvalidRecord(m) => {
                Error::new(ErrorKind::InvalidRequest, m)
            }
            other => Error::new(ErrorKind::Internal, other.to_string()),
        }
    }
}

impl From<otlp2parquet_writer::StorageError> for Error {
    fn from(e: otlp2parquet_writer::StorageError) -> Self {
        Error::new(ErrorKind::Unavailable, e.to_string())
    }
}
