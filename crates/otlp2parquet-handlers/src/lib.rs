//! The one platform-neutral otlp2parquet pipeline (SPEC §1, §3): request bytes and headers
//! in; Parquet files, object keys and the OTLP response out.
//!
//! The per-request adapters (Lambda, Worker) hand each HTTP request to [`respond`]; the
//! batching server calls [`route`], [`authorize`] and then [`convert`] and [`encode_files`]
//! separately (or [`handle`] with batching off). Everything a client can observe — status, body, headers,
//! what gets written — is decided here, once.

pub mod body;
mod error;
mod exchange;
mod pipeline;
mod response;
mod route;
mod tokens;

pub use body::Format;
pub use error::{Error, ErrorKind};
pub use exchange::{Answer, Exchange, respond};
pub use pipeline::{
    Converted, Failure, OutputFile, Request, Stored, convert, encode_files, file_token, handle,
    handle_counted, parquet_options, store,
};
pub use response::{Response, error_response, grpc_status_details};
pub use route::{Route, allowed_method, authorize, route, www_authenticate};
pub use tokens::KeyTokens;

pub use otlp2parquet_common::{Signal, config::Config};
