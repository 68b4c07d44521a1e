//! `otlp2parquet create cloudflare` (issue 5): a `wrangler.toml` for the Worker.

/// Flags of `create cloudflare`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Writes the `wrangler.toml` and returns the next steps to print.
pub fn run(_args: &Args) -> Result<String, String> {
    Err("create cloudflare is not built yet".to_owned())
}
