//! The otlp2parquet server's write-ahead log (docs/adr/0010-write-ahead-log.md).
//!
//! A directory of segment files `<16 hex digits>.wal`, each an 8-byte magic followed by
//! records `len: u32 LE | crc32: u32 LE | payload`, the checksum covering the payload. Two
//! kinds of payload:
//!
//! - an **entry**: one accepted request exactly as received (signal, headers, body, arrival
//!   time), so that replaying it converts to the same rows;
//! - an **intent**: a file about to be written — its object key, its buffer (table, service,
//!   hour) and the entries whose rows it holds. Replaying an intent rewrites the same key with
//!   the same rows, so a file written just before a crash is replaced, not duplicated.
//!
//! (A third kind, a **cancel**, marks an entry that was refused after all.)
//!
//! One thread owns the files ([`Wal`]). Appends from concurrent requests queue on a channel;
//! the thread takes everything queued, writes it with one `write` and one `fdatasync`, and
//! only then answers each request (group commit). Each segment counts the references still
//! pending on it: one per buffered partition of its entries and one per unfinished intent.
//! Segments are deleted oldest first, once sealed and with nothing pending — so an intent is
//! never lost while the entries it covers survive.
//!
//! # Replay
//!
//! At startup, [`replay`] makes two passes over the segments. The first collects the intents
//! (files that were about to be written) and which entries exist. An intent whose entries all
//! survive is a file that may or may not have been stored: it is written again under the same
//! key with the same rows. An intent with an entry missing was stored for sure (segments are
//! deleted only once their rows are), so its rows are skipped. The second pass converts every
//! entry again and sorts its partitions: into a rewritten file, skipped, or back into the
//! buffers as rows of no file yet.
//!
//! # Modules
//!
//! - `record`: the payloads ([`Entry`], [`Intent`], [`Record`]) and [`decode`];
//! - `segment`: segment files, their framing and reading ([`segments`], [`read_segment`],
//!   [`scan`]);
//! - `log`: the log thread and its handle ([`Wal`], [`Resume`], [`Pending`]);
//! - `replay`: startup replay ([`replay`], [`Replay`], [`Summary`], [`PendingFile`]);
//! - `lock`: one process per log directory ([`DirLock`]), taken before replay.

#![warn(missing_docs)]

mod lock;
mod log;
mod record;
mod replay;
mod segment;
#[cfg(test)]
mod tests;

pub use lock::{DirLock, LOCK_FILE, LockError};
pub use log::{Pending, Resume, SEGMENT_BYTES, Wal};
pub use record::{Entry, Intent, Position, Record, decode};
pub use replay::{PendingFile, Replay, Summary, replay};
pub use segment::{MAGIC, ReadStats, read_segment, scan, segments};
