//! `otlp2parquet create aws|cloudflare`: writes a deployable configuration for a cloud target
//! (a CloudFormation template or a `wrangler.toml`) and prints the exact next steps.
//!
//! Non-interactive with flags; on a terminal, values not given as flags are asked for, with
//! the flag's default offered.

pub mod aws;
pub mod cloudflare;

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Asks `question` on a terminal and returns the answer (or `default` when the answer is empty
/// or stdin is not a terminal).
pub fn ask(question: &str, default: &str) -> String {
    if !std::io::stdin().is_terminal() {
        return default.to_owned();
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [{default}]: ");
    let _ = err.flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(_) if !line.trim().is_empty() => line.trim().to_owned(),
        _ => default.to_owned(),
    }
}

/// Writes `text` to `path`, refusing to replace an existing file unless `force`.
pub fn write_new(path: &Path, text: &str, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!(
            "{} exists; pass --force to overwrite it",
            path.display()
        ));
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
