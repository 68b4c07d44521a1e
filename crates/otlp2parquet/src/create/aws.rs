//! `otlp2parquet create aws` (issue 4): a CloudFormation template for the Lambda function.

/// Flags of `create aws`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Writes the template and returns the next steps to print.
pub fn run(_args: &Args) -> Result<String, String> {
    Err("create aws is not built yet".to_owned())
}
