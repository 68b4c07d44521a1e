//! One process per log (docs/adr/0010-write-ahead-log.md#one-process-per-log): an exclusive
//! advisory lock on `LOCK` in the log's directory, held from before replay until the process
//! ends.
//!
//! Replay rewrites and deletes segments, so a second process on the same directory (two pods on
//! one volume, a restart that overlaps the old process) would delete segments whose rows the
//! first has not written yet. The lock is `flock(2)` through `File::try_lock`: the kernel drops it
//! when the holder exits, however it exits (`kill -9` included), so a stale `LOCK` file never
//! blocks a start. The file holds the holder's pid, for the error a refused process prints, and
//! is removed when the holder stops cleanly, so a stopped server leaves only its files behind.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the log's directory.
pub const LOCK_FILE: &str = "LOCK";

/// The lock on a log directory, held while this value lives; dropping it removes the file and
/// releases the lock.
#[derive(Debug)]
pub struct DirLock {
    // Closing the file releases the lock.
    _file: File,
    path: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Unlinked while still locked: a process that opens the path from now on creates a new
        // file, and `acquire` makes sure it locks that one and not this, which is going away.
        let _ = fs::remove_file(&self.path);
    }
}

/// How many times `acquire` opens the file again when the one it locked was removed meanwhile
/// (its holder stopped between our open and our lock).
const ATTEMPTS: usize = 3;

/// Why a log directory could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds the lock.
    Held {
        /// The lock file.
        path: PathBuf,
        /// The pid the holder wrote into it, when it could be read.
        pid: Option<u32>,
    },
    /// The directory or the lock file could not be created or opened.
    Io {
        /// The lock file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held { path, pid } => {
                let holder =
                    pid.map_or_else(|| "another process".to_owned(), |p| format!("pid {p}"));
                write!(
                    f,
                    "the write-ahead log is in use: {} is locked by {holder}; one server per log \
                     directory (stop the other one, or give this one its own \
                     batch.wal_path / OTLP2PARQUET_BATCH_WAL_PATH)",
                    path.display()
                )
            }
            LockError::Io { path, source } => write!(
                f,
                "cannot lock the write-ahead log through {}: {source} (set batch.wal_path / \
                 OTLP2PARQUET_BATCH_WAL_PATH to a writable directory, or batch.durability = \
                 \"memory\")",
                path.display()
            ),
        }
    }
}

impl std::error::Error for LockError {}

impl DirLock {
    /// Locks `dir` (created if missing) for this process, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(dir).map_err(io_error)?;
        let mut attempt = 0;
        let mut file = loop {
            attempt += 1;
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_error)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Held {
                        pid: holder_pid(&mut file),
                        path,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io_error(e)),
            }
            if still_at(&file, &path) || attempt >= ATTEMPTS {
                break file;
            }
        };
        // Ours now: say who we are (a failure here leaves the lock valid, only less helpful).
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the pid into the write-ahead log's lock file");
        }
        Ok(DirLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `path` still names the file `file` is open on (its previous holder may have removed
/// it between our open and our lock).
#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// The pid written at the start of a lock file.
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(64).read_to_string(&mut text).ok()?;
    text.lines().next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_with_the_holders_pid_and_freed_on_drop() {
        let dir = std::env::temp_dir().join(format!("wal-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let first = DirLock::acquire(&dir.join("nested")).unwrap();
        assert_eq!(
            fs::read_to_string(first.path()).unwrap().trim(),
            std::process::id().to_string()
        );
        // flock locks belong to the open file: a second open in this process conflicts too.
        match DirLock::acquire(&dir.join("nested")) {
            Err(LockError::Held { path, pid }) => {
                assert_eq!(path, first.path());
                assert_eq!(pid, Some(std::process::id()));
                let text = LockError::Held { path, pid }.to_string();
                assert!(text.contains("LOCK"), "{text}");
                assert!(
                    text.contains(&format!("pid {}", std::process::id())),
                    "{text}"
                );
            }
            other => panic!("expected Held, got {other:?}"),
        }
        let path = first.path().to_path_buf();
        drop(first);
        assert!(!path.exists(), "a released lock leaves no file");
        let again = DirLock::acquire(&dir.join("nested")).unwrap();
        assert!(path.exists());
        drop(again);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unusable_directory_is_an_io_error() {
        let file = std::env::temp_dir().join(format!("wal-lock-file-{}", std::process::id()));
        fs::write(&file, b"not a directory").unwrap();
        match DirLock::acquire(&file.join("wal")) {
            Err(LockError::Io { .. }) => {}
            other => panic!("expected Io, got {other:?}"),
        }
        let _ = fs::remove_file(&file);
    }
}
