//! OTLP → Arrow conversion: one converter per signal, each producing one [`Partition`] per
//! (table, key-safe service name, hour of the row's time), rows ordered by time
//! (docs/schema.md#conventions, docs/keys.md#hours).
//!
//! Each converter works in two passes. The first walks the request once, stringifies every
//! resource and scope (once each, not per row), checks that every stored time fits a
//! nanosecond timestamp, and files a small row reference under its partition. The second
//! sorts each partition's references by time (stable, so equal times keep input order) and
//! appends the rows in that order to one Arrow builder per column, pre-sized from the row
//! count; the batch is assembled with `RecordBatch::try_new` against the cached schema.
//!
//! A row without a time (0, after the logs' observed-time fallback) is stored with the
//! received-at time in its time column and partitioned by it (docs/keys.md#time-rules).

mod attrs;
mod columns;
mod context;
mod group;
mod logs;
mod metrics;
mod traces;

pub use logs::convert_logs;
pub use metrics::convert_metrics;
pub use traces::convert_traces;
