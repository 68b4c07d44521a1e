//! `otlp2parquet`: receive OTLP over HTTP and gRPC and write ClickHouse-compatible Parquet.
//!
//! This binary is a thin adapter: it reads its configuration, opens storage, and hands each
//! request to `otlp2parquet_handlers`.

mod batcher;
mod clock;
mod compact;
mod connect;
mod create;
mod front;
mod grpc;
mod http;
mod intake;
mod listen;
mod metrics;
mod serve;
mod store;
mod tls;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use otlp2parquet_common::config::{Config, LogFormat, Sources};
use otlp2parquet_common::platform::Platform;

/// Receive OpenTelemetry logs, traces and metrics over OTLP/HTTP and OTLP/gRPC and write them as
/// ClickHouse-compatible Parquet files, partitioned by service and hour.
#[derive(Debug, Parser)]
#[command(name = "otlp2parquet", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the OTLP/HTTP (:4318) and OTLP/gRPC (:4317) receiver (the default when no command is given).
    Serve(ServeArgs),
    /// Print ready-to-paste configuration that sends a client's telemetry here.
    Connect(ConnectArgs),
    /// Write a deployable configuration for a cloud target and print the next steps.
    #[command(subcommand)]
    Create(CreateCommand),
    /// Merge small Parquet files into one time-ordered file per (table, service, hour).
    ///
    /// Reads the same configuration as `serve` (the --config file and the OTLP2PARQUET_*
    /// environment, e.g. OTLP2PARQUET_STORAGE_BACKEND=s3) and works on that storage: local
    /// disk, S3 or R2.
    ///
    /// Without --sealed it drains the spool: the objects under `{storage.prefix}_spool/` that
    /// the Lambda leaves in spool mode (lambda.mode = "spool") become Parquet files.
    ///
    /// With --sealed it merges the files of hours that have ended: an hour is sealed
    /// compact.grace_secs (OTLP2PARQUET_COMPACT_GRACE_SECS, default 600) seconds after its end,
    /// so that writers still flushing it are done; only partitions with several small files are
    /// touched, and outputs are split at batch.max_rows / batch.max_bytes.
    ///
    /// One run reads at most compact.max_run_bytes of input; the command runs again until
    /// nothing is left. Only one compactor works on a store at a time: when another holds the
    /// lease, this one says so and exits 0 without touching anything. An interrupted run is
    /// finished by the next one, so rerunning after a failure is always safe.
    ///
    /// Prints a line per file written when stdout is a terminal, and a summary line in any
    /// case. Exit status: 0 when done (or another compactor holds the lease), 1 when a run
    /// failed, 2 when the configuration is invalid.
    Compact(CompactArgs),
}

#[derive(Debug, Subcommand)]
enum CreateCommand {
    /// An AWS CloudFormation template: Lambda function, Function URL, S3 bucket, IAM, logs.
    Aws(create::aws::Args),
    /// A wrangler.toml for the Cloudflare Worker writing to R2.
    Cloudflare(create::cloudflare::Args),
}

#[derive(Debug, Clone, clap::Args)]
struct ConnectArgs {
    /// What to configure.
    #[arg(value_enum)]
    client: connect::Client,
    /// Where otlp2parquet receives (base URL; clients add /v1/logs etc.).
    #[arg(long, value_name = "URL", default_value = connect::DEFAULT_URL)]
    url: String,
}

#[derive(Debug, Clone, Default, clap::Args)]
struct CompactArgs {
    /// Merge the small files of sealed hours instead of draining the spool.
    #[arg(long)]
    sealed: bool,
    /// TOML configuration file (else $OTLP2PARQUET_CONFIG, $OTLP2PARQUET_CONFIG_CONTENT, ./config.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Directory the Parquet files are under (local disk backend; default ./data).
    #[arg(long, value_name = "DIR")]
    output: Option<String>,
    /// Log level: trace, debug, info, warn or error (RUST_LOG, if set, wins).
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

impl CompactArgs {
    /// The `serve` flags these stand for, so that both commands read one configuration alike.
    fn config_args(&self) -> ServeArgs {
        ServeArgs {
            config: self.config.clone(),
            port: None,
            output: self.output.clone(),
            log_level: self.log_level.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, clap::Args)]
struct ServeArgs {
    /// TOML configuration file (else $OTLP2PARQUET_CONFIG, $OTLP2PARQUET_CONFIG_CONTENT, ./config.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Port to listen on (keeps the host of server.listen_addr, default 0.0.0.0).
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// Directory to write Parquet files under (local disk backend; default ./data).
    #[arg(long, value_name = "DIR")]
    output: Option<String>,
    /// Log level: trace, debug, info, warn or error (RUST_LOG, if set, wins).
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

fn load_config(args: &ServeArgs) -> Result<Config, String> {
    let mut sources = Sources::from_process(args.config.as_deref()).map_err(|e| e.to_string())?;
    let base = Config::load(Platform::Server, &sources).map_err(|e| e.to_string())?;
    if let Some(port) = args.port {
        let host = base
            .server
            .listen_addr
            .rsplit_once(':')
            .map_or("0.0.0.0", |(h, _)| h);
        sources
            .flags
            .push(("server.listen_addr", "--port", format!("{host}:{port}")));
    }
    if let Some(dir) = &args.output {
        sources
            .flags
            .push(("storage.fs.path", "--output", dir.clone()));
        sources
            .flags
            .push(("storage.backend", "--output", "fs".to_owned()));
    }
    if let Some(level) = &args.log_level {
        sources
            .flags
            .push(("server.log_level", "--log-level", level.clone()));
    }
    Config::load(Platform::Server, &sources).map_err(|e| e.to_string())
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.server.log_level));
    // Logs go to stderr (stdout is for command output such as `connect`), coloured only on a
    // terminal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.server.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "command output, not logging"
)]
fn run_connect(args: &ConnectArgs) -> ExitCode {
    match connect::base_url(&args.url) {
        Ok(base) => {
            print!("{}", connect::snippet(args.client, &base));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("otlp2parquet connect: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "command output, not logging"
)]
fn run_create(command: &CreateCommand) -> ExitCode {
    let (name, result) = match command {
        CreateCommand::Aws(a) => ("aws", create::aws::run(a)),
        CreateCommand::Cloudflare(a) => ("cloudflare", create::cloudflare::run(a)),
    };
    match result {
        Ok(steps) => {
            print!("{steps}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("otlp2parquet create {name}: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::print_stderr, reason = "CLI output before logging is set up")]
fn run_compact(args: &CompactArgs) -> ExitCode {
    let config = match load_config(&args.config_args()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("otlp2parquet compact: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let mode = if args.sealed {
        otlp2parquet_batch::compact::Mode::Sealed
    } else {
        otlp2parquet_batch::compact::Mode::Spool
    };
    compact::main(&config, mode)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        Some(Command::Connect(c)) => return run_connect(&c),
        Some(Command::Create(c)) => return run_create(&c),
        Some(Command::Compact(c)) => return run_compact(&c),
        None => cli.serve,
    };
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "CLI output before logging is set up")]
            {
                eprintln!("otlp2parquet: {e}");
            }
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn compact_takes_the_configuration_flags_of_serve() {
        let cli = Cli::try_parse_from([
            "otlp2parquet",
            "compact",
            "--sealed",
            "--config",
            "c.toml",
            "--output",
            "/data",
            "--log-level",
            "debug",
        ])
        .unwrap();
        let Some(Command::Compact(args)) = cli.command else {
            panic!("not compact: {cli:?}");
        };
        assert!(args.sealed);
        let serve = args.config_args();
        assert_eq!(serve.config.as_deref(), Some("c.toml"));
        assert_eq!(serve.output.as_deref(), Some("/data"));
        assert_eq!(serve.log_level.as_deref(), Some("debug"));
        assert_eq!(serve.port, None);

        let cli = Cli::try_parse_from(["otlp2parquet", "compact"]).unwrap();
        let Some(Command::Compact(args)) = cli.command else {
            panic!("not compact: {cli:?}");
        };
        assert!(!args.sealed, "the spool is the default");
        // It listens on nothing.
        assert!(Cli::try_parse_from(["otlp2parquet", "compact", "--port", "4318"]).is_err());
    }
}
