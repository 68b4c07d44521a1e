//! The AWS Lambda adapter of otlp2parquet (docs/adr/0007-lambda.md): API Gateway REST (v1)
//! and HTTP (v2), Function URL and ALB events in, through the shared pipeline, Parquet on S3
//! out.
//!
//! The adapter only translates (STYLE §1): [`event`] turns a `lambda_http` request into an
//! [`Exchange`](otlp2parquet_handlers::Exchange), [`otlp2parquet_handlers::respond`] decides
//! and writes, and [`reply`] turns its answer back into a `lambda_http` response. [`App`] holds
//! what is built once per cold start (configuration, the S3 client, key tokens); [`logging`]
//! sets up the JSON log lines.
//!
//! With `lambda.mode = "spool"` (docs/adr/0013-lambda-spool.md) the [`spool`] sink stores each
//! request as one spool object instead of its Parquet files, and a scheduled invocation of the
//! same function runs the [`compactor`], which merges the spool into large files;
//! [`dispatch`] tells the two kinds of invocation apart.

pub mod app;
pub mod compactor;
pub mod dispatch;
pub mod event;
pub mod logging;
pub mod reply;
pub mod spool;

pub use app::App;
