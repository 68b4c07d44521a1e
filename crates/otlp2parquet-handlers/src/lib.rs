//! The one platform-neutral otlp2parquet pipeline: request head, body bytes and a sink in;
//! the OTLP answer out (docs/protocol.md).
//!
//! Every target calls the same two phases: [`admit`] (or [`admit_grpc`]) decides from the
//! head alone whether and how much of the body to read, and [`Export::ingest`] decodes the
//! body and hands it to the target's [`Sink`] — [`StoreEach`] for the per-request targets
//! (Lambda, Worker), the batcher for the server. Everything a client can observe — status,
//! body, headers, what gets written — is decided here, once.

#![warn(missing_docs)]

mod admit;
pub mod body;
mod error;
pub mod grpc;
mod pipeline;
mod response;
mod route;
mod tokens;

pub use admit::{
    Admission, Exchange, Export, GrpcAdmission, Head, Outcome, Probes, Sink, StoreEach, admit,
    admit_grpc, reply_format, respond,
};
pub use body::Format;
pub use error::{Error, ErrorKind};
pub use pipeline::{
    Converted, Failure, OutputFile, Request, Stored, convert, encode_files, file_token, handle,
    log_storage_error, parquet_options, store,
};
pub use response::{Response, error_response, grpc_status_details};
pub use route::{Route, allowed_method, authorize, route, www_authenticate};
pub use tokens::KeyTokens;

pub use otlp2parquet_common::{Signal, config::Config};
