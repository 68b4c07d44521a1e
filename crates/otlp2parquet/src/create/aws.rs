//! `otlp2parquet create aws` (issues 4 and 15): a CloudFormation template for the Lambda
//! functions.
//!
//! One build (`provided.al2023`, `bootstrap`) runs as two functions. The code location is a pair
//! of parameters, so the same template deploys every build (ADR 0007).
//!
//! - **The ingest function** sits behind the Function URL and runs with
//!   `OTLP2PARQUET_LAMBDA_MODE=spool`: it stores each request as one object under
//!   `{prefix}_spool/` before it answers. Its role may only `s3:PutObject` under
//!   `{prefix}_spool/` and write its own log group; it cannot read, list or delete, nor write the
//!   Parquet files themselves.
//! - **The compactor** is the same code, started by an EventBridge rule (`CompactSchedule`,
//!   every 5 minutes by default) and limited to one running invocation. It merges the spool into
//!   Parquet files under `{prefix}logs/`, `{prefix}traces/` and `{prefix}metrics/` and deletes
//!   what it merged. Its role may list those prefixes, `{prefix}_spool/` and `{prefix}_compactor/`
//!   (its lease, state and quarantine); get and delete spool objects; put Parquet files; get, put
//!   and delete under `{prefix}_compactor/`; and write its own log group.
//!
//! Each function has its own log group with the same retention parameter. Without `--bucket`
//! the template also creates the bucket, private and encrypted.
//!
//! There is no S3 lifecycle expiration rule on `{prefix}_spool/`, on purpose. Every spool object
//! is a request that was already answered 200. A lifecycle rule would delete acknowledged records
//! whenever the compactor stopped (a failed deploy, a disabled rule, a bug) for longer than the
//! rule's age. And the compactor never abandons a spool object: it either consumes it or, if it
//! is corrupt, moves it to `{prefix}_compactor/quarantine/`, so nothing is left for a rule to
//! clean up. The created bucket only aborts incomplete multipart uploads, which a compactor
//! stopped at its timeout leaves behind.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{ask, write_new};

/// The default file name of the template.
pub const DEFAULT_OUTPUT: &str = "otlp2parquet-aws.yaml";
/// The default stack name.
pub const DEFAULT_STACK: &str = "otlp2parquet";
/// Memory of the function: a 6 MiB request grows several times as Arrow and Parquet, and Lambda
/// gives CPU in proportion to memory.
pub const MEMORY_MB: u32 = 1024;
/// Timeout of the function: room for OpenDAL's retries of a slow S3 PUT before Lambda gives up.
pub const TIMEOUT_SECS: u32 = 60;
/// Days the functions' log groups keep logs (the parameter's default).
pub const LOG_RETENTION_DAYS: u32 = 30;
/// Timeout of the compactor: 15 minutes, Lambda's maximum, the most time one run (at most
/// `compact.max_run_bytes` of spool) can get before Lambda stops it.
pub const COMPACTOR_TIMEOUT_SECS: u32 = 900;
/// Memory of the compactor: it bounds one run, `compact.max_run_bytes` (64 MiB by default) of
/// spool decoded into Arrow plus one output file being encoded, and Lambda gives CPU in
/// proportion to memory, which the Parquet encoding uses.
pub const COMPACTOR_MEMORY_MB: u32 = 2048;
/// The compactor's `compact.lease_secs`: longer than [`COMPACTOR_TIMEOUT_SECS`], so that the lease
/// of a running invocation never expires under it (Lambda has stopped it by then).
pub const COMPACTOR_LEASE_SECS: u32 = COMPACTOR_TIMEOUT_SECS + 60;
/// When the compactor runs (the `CompactSchedule` parameter's default): often enough that files
/// appear within minutes, seldom enough that each run merges many requests.
pub const COMPACT_SCHEDULE: &str = "rate(5 minutes)";

/// Who may call the Function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Auth {
    /// `AuthType: AWS_IAM`: callers sign requests with SigV4 (`lambda:InvokeFunctionUrl`).
    Iam,
    /// `AuthType: NONE`: anyone who knows the URL.
    None,
    /// `AuthType: NONE` plus `Authorization: Bearer <token>` checked by otlp2parquet.
    Token,
}

/// The function's CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// Graviton: cheaper per GB-second.
    Arm64,
    /// x86-64.
    #[value(name = "x86_64")]
    X86_64,
}

impl Arch {
    /// The name CloudFormation and `make build-lambda` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        }
    }
}

/// Flags of `create aws`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// An existing S3 bucket to write to (without it, the template creates a private,
    /// encrypted bucket).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// CloudFormation stack name [default: otlp2parquet].
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// Who may call the Function URL: iam (SigV4-signed), none (public), or token (public URL,
    /// bearer token checked by otlp2parquet) [default: iam].
    #[arg(long, value_enum)]
    pub auth: Option<Auth>,
    /// CPU architecture of the function [default: arm64].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Key prefix for every object, e.g. `otel/` (the role may write only under it).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Where to write the template [default: otlp2parquet-aws.yaml].
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Everything the template and the next steps depend on, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Stack name (also names the log group).
    pub stack_name: String,
    /// The existing bucket, or `None` to create one.
    pub bucket: Option<String>,
    /// Function URL auth mode.
    pub auth: Auth,
    /// Architecture.
    pub arch: Arch,
    /// Object key prefix (`""` or ending in `/` unless the user chose otherwise).
    pub prefix: String,
    /// Template file.
    pub output: PathBuf,
}

/// Writes the template and returns the next steps to print.
pub fn run(args: &Args) -> Result<String, String> {
    let plan = plan(args, &ask)?;
    write_new(&plan.output, &template(&plan), args.force)?;
    Ok(next_steps(&plan))
}

/// Resolves the flags into a [`Plan`]: a value not given as a flag is asked for through `ask`
/// (which answers the default off a terminal), then every value is validated.
pub fn plan(args: &Args, ask: &dyn Fn(&str, &str) -> String) -> Result<Plan, String> {
    let stack_name = match &args.stack_name {
        Some(s) => s.clone(),
        None => ask("CloudFormation stack name", DEFAULT_STACK),
    };
    validate_stack_name(&stack_name)?;
    let bucket = match &args.bucket {
        Some(b) => Some(b.clone()),
        None => Some(ask("Existing S3 bucket (empty: create one)", "")),
    }
    .map(|b| b.trim().to_owned())
    .filter(|b| !b.is_empty());
    if let Some(b) = &bucket {
        validate_bucket(b)?;
    }
    let auth = match args.auth {
        Some(a) => a,
        None => parse_choice(
            &ask("Function URL auth: iam, none or token", "iam"),
            &[
                ("iam", Auth::Iam),
                ("none", Auth::None),
                ("token", Auth::Token),
            ],
            "--auth",
        )?,
    };
    let arch = match args.arch {
        Some(a) => a,
        None => parse_choice(
            &ask("Architecture: arm64 or x86_64", "arm64"),
            &[("arm64", Arch::Arm64), ("x86_64", Arch::X86_64)],
            "--arch",
        )?,
    };
    let prefix = args.prefix.clone().unwrap_or_default();
    validate_prefix(&prefix)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    Ok(Plan {
        stack_name,
        bucket,
        auth,
        arch,
        prefix,
        output,
    })
}

fn parse_choice<T: Copy>(answer: &str, choices: &[(&str, T)], flag: &str) -> Result<T, String> {
    let answer = answer.trim().to_ascii_lowercase();
    choices
        .iter()
        .find(|(name, _)| *name == answer)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            format!("{flag} must be one of {}, not {answer:?}", names.join(", "))
        })
}

/// CloudFormation stack names: a letter, then letters, digits and `-`; at most 128 characters.
pub fn validate_stack_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--stack-name {name:?} is not a CloudFormation stack name (a letter, then letters, \
             digits and '-'; at most 128 characters)"
        ))
    }
}

/// S3 bucket names: 3–63 lowercase letters, digits, `.` and `-`, starting and ending with a
/// letter or digit, no `..`, not an IP address.
pub fn validate_bucket(name: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--bucket {name:?} is not an S3 bucket name (3-63 lowercase letters, digits, '.' \
             and '-', starting and ending with a letter or digit)"
        ))
    }
}

/// The same rule as `storage.prefix` (no leading `/`, no `.`/`..` segments), plus characters
/// that are safe inside an IAM resource ARN and a YAML scalar.
pub fn validate_prefix(prefix: &str) -> Result<(), String> {
    let safe = prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '='));
    let escapes = prefix.starts_with('/') || prefix.split('/').any(|s| s == "." || s == "..");
    if safe && !escapes && prefix.len() <= 512 {
        Ok(())
    } else {
        Err(format!(
            "--prefix {prefix:?} must be a relative key prefix such as otel/ (letters, digits, \
             '/', '-', '_', '.', '='; no leading '/', no '.' or '..' segments)"
        ))
    }
}

/// The CloudFormation template, with `@@NAME@@` placeholders and `#@if NAME` … `#@end`
/// sections (see [`render`]).
const TEMPLATE: &str = include_str!("aws-template.yaml");

/// The CloudFormation template (YAML) for `plan`.
pub fn template(plan: &Plan) -> String {
    let auth_type = match plan.auth {
        Auth::Iam => "AWS_IAM",
        Auth::None | Auth::Token => "NONE",
    };
    let bucket_ref = match &plan.bucket {
        // Quoted: a bucket name such as `123` must stay a string in YAML.
        Some(name) => format!("\"{name}\""),
        None => "!Ref DataBucket".to_owned(),
    };
    let bucket_sub = match &plan.bucket {
        Some(name) => name.clone(),
        None => "${DataBucket}".to_owned(),
    };
    let sections = [
        ("auth_token", plan.auth == Auth::Token),
        ("new_bucket", plan.bucket.is_none()),
        ("prefix", !plan.prefix.is_empty()),
        ("public_url", plan.auth != Auth::Iam),
    ];
    let values: [(&str, &str); 14] = [
        ("STACK", plan.stack_name.as_str()),
        ("ARCH", plan.arch.as_str()),
        ("AUTH", auth_name(plan.auth)),
        ("AUTH_TYPE", auth_type),
        ("LOG_RETENTION_DAYS", &LOG_RETENTION_DAYS.to_string()),
        ("MEMORY_MB", &MEMORY_MB.to_string()),
        ("TIMEOUT_SECS", &TIMEOUT_SECS.to_string()),
        ("COMPACTOR_MEMORY_MB", &COMPACTOR_MEMORY_MB.to_string()),
        (
            "COMPACTOR_TIMEOUT_SECS",
            &COMPACTOR_TIMEOUT_SECS.to_string(),
        ),
        ("COMPACTOR_LEASE_SECS", &COMPACTOR_LEASE_SECS.to_string()),
        ("COMPACT_SCHEDULE", COMPACT_SCHEDULE),
        ("BUCKET_REF", &bucket_ref),
        ("BUCKET_SUB", &bucket_sub),
        ("PREFIX", &plan.prefix),
    ];
    render(TEMPLATE, &sections, &values)
}

/// Fills `template`: keeps the lines of a `#@if NAME` … `#@end` section only when `NAME` is on
/// in `sections`, drops every `#@` line, then replaces each `@@NAME@@` by its value. Values are
/// inserted in one pass after the sections are chosen, so a value is never itself expanded.
fn render(template: &str, sections: &[(&str, bool)], values: &[(&str, &str)]) -> String {
    let mut kept = String::with_capacity(template.len());
    let mut on = true;
    for line in template.split_inclusive('\n') {
        let Some(directive) = line.strip_prefix("#@") else {
            if on {
                kept.push_str(line);
            }
            continue;
        };
        let directive = directive.trim_end();
        if let Some(name) = directive.strip_prefix("if ") {
            on = sections.iter().any(|&(n, v)| n == name && v);
        } else if directive == "end" {
            on = true;
        }
    }
    let mut out = String::with_capacity(kept.len() + 1024);
    let mut rest = kept.as_str();
    while let Some((before, after)) = rest.split_once("@@") {
        out.push_str(before);
        let filled = after.split_once("@@").and_then(|(name, tail)| {
            let (_, value) = values.iter().find(|(n, _)| *n == name)?;
            Some((*value, tail))
        });
        match filled {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push_str("@@");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn auth_name(auth: Auth) -> &'static str {
    match auth {
        Auth::Iam => "iam",
        Auth::None => "none",
        Auth::Token => "token",
    }
}

/// The exact commands to build, upload, deploy and send data, for `plan`.
pub fn next_steps(plan: &Plan) -> String {
    let file = plan.output.display();
    let stack = &plan.stack_name;
    let arch_flag = match plan.arch {
        Arch::Arm64 => " --arm64",
        Arch::X86_64 => "",
    };
    let mut s = String::with_capacity(4096);
    let _ = write!(
        s,
        r#"Wrote {file} (stack {stack}, {arch}, Function URL auth {auth}, {bucket}).

Next steps:

1. Build the function (cargo-lambda: `pip install cargo-lambda ziglang`, or `make deps`):

   cargo lambda build --release{arch_flag} --output-format zip -p otlp2parquet-lambda

   The zip is target/lambda/bootstrap/bootstrap.zip (`make build-lambda` builds both
   architectures into target/lambda/{{arm64,x86_64}}/bootstrap/bootstrap.zip).

2. Upload it to an S3 bucket you own in the deployment region (a new key per build, so that
   CloudFormation deploys the new code):

   ARTIFACTS=my-artifact-bucket
   KEY=otlp2parquet/bootstrap-{arch}-$(date +%Y%m%d%H%M%S).zip
   aws s3 cp target/lambda/bootstrap/bootstrap.zip "s3://$ARTIFACTS/$KEY"

3. Deploy:
{token_line}
   aws cloudformation deploy --template-file {file} --stack-name {stack} \
     --capabilities CAPABILITY_IAM \
     --parameter-overrides CodeBucket="$ARTIFACTS" CodeKey="$KEY"{token_param}

"#,
        arch = plan.arch.as_str(),
        auth = auth_name(plan.auth),
        bucket = match &plan.bucket {
            Some(b) => format!("existing bucket {b}"),
            None => "new bucket".to_owned(),
        },
        token_line = if plan.auth == Auth::Token {
            "\n   OTLP_TOKEN=$(openssl rand -hex 24)   # the bearer token; clients need it too\n"
        } else {
            ""
        },
        token_param = if plan.auth == Auth::Token {
            " AuthToken=\"$OTLP_TOKEN\""
        } else {
            ""
        },
    );
    let _ = write!(
        s,
        r#"4. Read the Function URL (it ends with '/'; the stack's other outputs name the bucket, both
   functions and their log groups):

   URL=$(aws cloudformation describe-stacks --stack-name {stack} \
     --query "Stacks[0].Outputs[?OutputKey=='FunctionUrl'].OutputValue" --output text)
   URL=${{URL%/}}

5. Send data:

"#
    );
    match plan.auth {
        Auth::None => s.push_str(
            r#"   curl -i "$URL/health"
   curl -i -X POST -H 'Content-Type: application/json' --data-binary @testdata/otlp/log.json "$URL/v1/logs"

   OpenTelemetry SDKs and the Collector (otlphttp exporter):
   OTEL_EXPORTER_OTLP_ENDPOINT="$URL" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
"#,
        ),
        Auth::Token => s.push_str(
            r#"   curl -i "$URL/health"
   curl -i -X POST -H "Authorization: Bearer $OTLP_TOKEN" -H 'Content-Type: application/json' \
     --data-binary @testdata/otlp/log.json "$URL/v1/logs"

   OpenTelemetry SDKs and the Collector (otlphttp exporter):
   OTEL_EXPORTER_OTLP_ENDPOINT="$URL" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
   OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20$OTLP_TOKEN"
"#,
        ),
        Auth::Iam => s.push_str(
            r#"   The URL only answers requests signed with SigV4 (service "lambda") by a principal allowed
   lambda:InvokeFunctionUrl on the function; unsigned requests get 403 from AWS. With curl
   (7.75 or later):

   REGION=$(aws configure get region)
   curl -i --aws-sigv4 "aws:amz:$REGION:lambda" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
     ${AWS_SESSION_TOKEN:+-H "x-amz-security-token: $AWS_SESSION_TOKEN"} \
     -H 'Content-Type: application/json' --data-binary @testdata/otlp/log.json "$URL/v1/logs"

   OpenTelemetry SDK exporters do not sign requests: send through a Collector with the
   sigv4auth extension (otelcol-contrib or the AWS Distro for OpenTelemetry):
   extensions: { sigv4auth: { region: <region>, service: lambda } }
   exporters:  { otlphttp: { endpoint: <URL>, auth: { authenticator: sigv4auth } } }
   or deploy with --auth token instead.
"#,
        ),
    }
    let _ = write!(
        s,
        r#"
   Each request is spooled under s3://{bucket}/{prefix}_spool/ before the 200. The compactor runs
   every 5 minutes (parameter CompactSchedule) and merges the spool into files under
   s3://{bucket}/{prefix}{{logs,traces,metrics/<kind>}}/<service>/year=…/hour=…/.
   Logs: aws logs tail /aws/lambda/{stack} --follow
         aws logs tail /aws/lambda/{stack}-compactor --follow

6. Run the compactor by hand, e.g. to see the files at once (the payload is the one EventBridge
   sends; while a scheduled run is going, Lambda refuses this with TooManyRequestsException,
   as the compactor runs one invocation at a time):

   COMPACTOR=$(aws cloudformation describe-stacks --stack-name {stack} \
     --query "Stacks[0].Outputs[?OutputKey=='CompactorFunctionName'].OutputValue" --output text)
   aws lambda invoke --function-name "$COMPACTOR" --cli-binary-format raw-in-base64-out \
     --payload '{{"source":"aws.events","detail-type":"Scheduled Event"}}' out.json
"#,
        bucket = match &plan.bucket {
            Some(b) => b.clone(),
            None => "<DataBucket output>".to_owned(),
        },
        prefix = plan.prefix,
    );
    if let Some(bucket) = &plan.bucket {
        let _ = write!(
            s,
            r#"
   If the existing bucket uses SSE-KMS, also allow the ingest role kms:GenerateDataKey and the
   compactor role kms:GenerateDataKey and kms:Decrypt on its key.
   Do not give {bucket} a lifecycle rule that expires objects under {prefix}_spool/: each one
   is a request already answered 200, waiting for the compactor.
"#,
            prefix = plan.prefix,
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(_question: &str, default: &str) -> String {
        default.to_owned()
    }

    fn plan_of(args: &Args) -> Plan {
        plan(args, &defaults).unwrap()
    }

    #[test]
    fn defaults_off_a_terminal() {
        let p = plan_of(&Args::default());
        assert_eq!(
            p,
            Plan {
                stack_name: "otlp2parquet".to_owned(),
                bucket: None,
                auth: Auth::Iam,
                arch: Arch::Arm64,
                prefix: String::new(),
                output: PathBuf::from("otlp2parquet-aws.yaml"),
            }
        );
    }

    #[test]
    fn answers_on_a_terminal_fill_what_flags_leave_open() {
        let answers = |q: &str, _d: &str| -> String {
            if q.contains("stack") {
                "telemetry".to_owned()
            } else if q.contains("bucket") {
                " my-otel-data ".to_owned()
            } else if q.contains("auth") {
                "Token".to_owned()
            } else {
                "x86_64".to_owned()
            }
        };
        let p = plan(&Args::default(), &answers).unwrap();
        assert_eq!(p.stack_name, "telemetry");
        assert_eq!(p.bucket.as_deref(), Some("my-otel-data"));
        assert_eq!(p.auth, Auth::Token);
        assert_eq!(p.arch, Arch::X86_64);
        // Flags win over questions.
        let args = Args {
            stack_name: Some("s".to_owned()),
            auth: Some(Auth::None),
            ..Args::default()
        };
        let p = plan(&args, &answers).unwrap();
        assert_eq!((p.stack_name.as_str(), p.auth), ("s", Auth::None));
        let bad = |_q: &str, _d: &str| "sometimes".to_owned();
        let err = plan(&Args::default(), &bad).unwrap_err();
        assert!(
            err.contains("--stack-name") || err.contains("--auth"),
            "{err}"
        );
    }

    #[test]
    fn invalid_flags_are_refused_with_the_rule() {
        let with = |f: &dyn Fn(&mut Args)| {
            let mut a = Args::default();
            f(&mut a);
            plan(&a, &defaults).unwrap_err()
        };
        assert!(with(&|a| a.stack_name = Some("9lives".to_owned())).contains("--stack-name"));
        assert!(with(&|a| a.stack_name = Some("a_b".to_owned())).contains("--stack-name"));
        assert!(with(&|a| a.bucket = Some("Upper".to_owned())).contains("--bucket"));
        assert!(with(&|a| a.bucket = Some("ab".to_owned())).contains("--bucket"));
        assert!(with(&|a| a.bucket = Some("a..b".to_owned())).contains("--bucket"));
        assert!(with(&|a| a.bucket = Some("10.0.0.1".to_owned())).contains("--bucket"));
        assert!(with(&|a| a.prefix = Some("/abs/".to_owned())).contains("--prefix"));
        assert!(with(&|a| a.prefix = Some("a/../b/".to_owned())).contains("--prefix"));
        assert!(with(&|a| a.prefix = Some("a b/".to_owned())).contains("--prefix"));
        assert!(validate_bucket("my.otel-data-123").is_ok());
        assert!(validate_stack_name("otlp2parquet-prod").is_ok());
        assert!(validate_prefix("otel/env=prod/").is_ok());
    }

    #[test]
    fn clap_parses_the_flags() {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        let cli = Cli::try_parse_from([
            "create-aws",
            "--bucket",
            "b-1",
            "--stack-name",
            "st",
            "--auth",
            "token",
            "--arch",
            "x86_64",
            "--prefix",
            "otel/",
            "--output",
            "t.yaml",
            "--force",
        ])
        .unwrap();
        let a = cli.args;
        assert_eq!(a.bucket.as_deref(), Some("b-1"));
        assert_eq!(a.auth, Some(Auth::Token));
        assert_eq!(a.arch, Some(Arch::X86_64));
        assert!(a.force);
        assert!(Cli::try_parse_from(["c", "--auth", "oauth"]).is_err());
        assert!(Cli::try_parse_from(["c", "--arch", "x86"]).is_err());
    }

    fn plan_for(auth: Auth, bucket: Option<&str>, prefix: &str) -> Plan {
        Plan {
            stack_name: "otlp2parquet".to_owned(),
            bucket: bucket.map(str::to_owned),
            auth,
            arch: Arch::Arm64,
            prefix: prefix.to_owned(),
            output: PathBuf::from("t.yaml"),
        }
    }

    #[test]
    fn template_follows_auth_and_bucket_modes() {
        let iam = template(&plan_for(Auth::Iam, None, ""));
        assert!(iam.contains("AuthType: AWS_IAM"));
        assert!(iam.contains("  DataBucket:\n    Type: AWS::S3::Bucket"));
        assert!(iam.contains("BlockPublicPolicy: true"));
        assert!(iam.contains("SSEAlgorithm: AES256"));
        assert!(iam.contains("OTLP2PARQUET_S3_BUCKET: !Ref DataBucket"));
        assert!(
            iam.contains(r#"Resource: !Sub "arn:${AWS::Partition}:s3:::${DataBucket}/_spool/*""#)
        );
        assert!(iam.contains("Runtime: provided.al2023"));
        assert!(iam.contains("Handler: bootstrap"));
        assert!(iam.contains("        - arm64\n"));
        assert!(iam.contains("RetentionInDays: !Ref LogRetentionDays"));
        assert!(!iam.contains("AuthToken"));
        assert!(!iam.contains("FunctionUrlPublicAccess"));
        assert!(!iam.contains("OTLP2PARQUET_STORAGE_PREFIX"));
        // The ingest role: only PutObject on S3, nothing broader.
        let role = resource(&iam, "FunctionRole");
        assert_eq!(role.matches("s3:PutObject").count(), 1, "{role}");
        assert!(
            !role.contains("s3:GetObject") && !role.contains("s3:List"),
            "{role}"
        );
        // Only the bucket policy's Deny names every S3 action.
        assert_eq!(iam.matches("Action: \"s3:*\"").count(), 1);
        assert!(
            iam.contains(
                "Effect: Deny\n            Principal: \"*\"\n            Action: \"s3:*\""
            )
        );

        let token = template(&plan_for(Auth::Token, Some("existing-b"), "otel/"));
        assert!(token.contains("AuthType: NONE"));
        assert!(token.contains("NoEcho: true"));
        assert!(token.contains("OTLP2PARQUET_AUTH_BEARER_TOKEN: !Ref AuthToken"));
        assert!(token.contains("FunctionUrlPublicAccess"));
        assert!(token.contains("InvokedViaFunctionUrl: true"));
        assert!(!token.contains("Type: AWS::S3::Bucket"));
        assert!(token.contains("OTLP2PARQUET_S3_BUCKET: \"existing-b\""));
        assert!(token.contains(r#"s3:::existing-b/otel/_spool/*""#));
        assert!(!token.contains(r#"s3:::existing-b/otel/*""#));
        assert!(token.contains("OTLP2PARQUET_STORAGE_PREFIX: \"otel/\""));

        let none = template(&plan_for(Auth::None, None, ""));
        assert!(none.contains("AuthType: NONE"));
        assert!(!none.contains("AuthToken"));
        let x86 = template(&Plan {
            arch: Arch::X86_64,
            ..plan_for(Auth::Iam, None, "")
        });
        assert!(x86.contains("        - x86_64\n"));
    }

    /// The text of the resource, parameter or output `name`: its key line and everything up to
    /// the next line at its indentation or less (blank lines do not end it).
    fn resource<'a>(t: &'a str, name: &str) -> &'a str {
        let key = format!("\n  {name}:\n");
        let start = t.find(&key).unwrap_or_else(|| panic!("no {name} in\n{t}")) + 1;
        let body = &t[start..];
        let mut end = 0;
        for (i, line) in body.split_inclusive('\n').enumerate() {
            if i > 0 && !line.starts_with("   ") && !line.trim().is_empty() {
                break;
            }
            end += line.len();
        }
        &body[..end]
    }

    /// The lines of `t` that are not YAML comments.
    fn yaml_lines(t: &str) -> Vec<&str> {
        t.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect()
    }

    #[test]
    fn the_resource_helper_cuts_at_the_next_key() {
        let t = "Resources:\n  A:\n    Type: x\n\n    More: y\n  # note\n  B:\n    Type: z\nOutputs:\n  C:\n    V: 1\n";
        assert_eq!(resource(t, "A"), "  A:\n    Type: x\n\n    More: y\n");
        assert_eq!(resource(t, "B"), "  B:\n    Type: z\n");
        assert_eq!(resource(t, "C"), "  C:\n    V: 1\n");
    }

    /// Issue 15: the ingest function only spools; the compactor, one at a time on a schedule,
    /// turns the spool into the Parquet files, with a role that reaches only what it needs.
    #[test]
    fn ingest_spools_and_a_scheduled_compactor_writes_the_files() {
        const { assert!(COMPACTOR_LEASE_SECS > COMPACTOR_TIMEOUT_SECS) };
        for (auth, bucket, arn) in [
            (Auth::Iam, None, "${DataBucket}"),
            (Auth::Token, Some("existing-b"), "existing-b"),
        ] {
            for prefix in ["", "otel/"] {
                let t = template(&plan_for(auth, bucket, prefix));
                let ctx = format!("bucket {bucket:?}, prefix {prefix:?}");
                let object = |rest: &str| {
                    format!(r#"!Sub "arn:${{AWS::Partition}}:s3:::{arn}/{prefix}{rest}*""#)
                };

                // The ingest function spools and may put nothing else.
                let function = resource(&t, "Function");
                assert!(
                    function.contains("OTLP2PARQUET_LAMBDA_MODE: spool\n"),
                    "{ctx}"
                );
                assert!(
                    function.contains("OTLP2PARQUET_STORAGE_BACKEND: s3\n"),
                    "{ctx}"
                );
                assert!(
                    function.contains("Role: !GetAtt FunctionRole.Arn\n"),
                    "{ctx}"
                );
                let role = resource(&t, "FunctionRole");
                assert!(
                    role.contains(&format!(
                        "Action: s3:PutObject\n                Resource: {}\n",
                        object("_spool/")
                    )),
                    "{ctx}: {role}"
                );
                assert_eq!(role.matches("s3:PutObject").count(), 1, "{ctx}: {role}");
                for action in ["s3:GetObject", "s3:DeleteObject", "s3:List", "s3:*"] {
                    assert!(!role.contains(action), "{ctx}: {action} in {role}");
                }
                let statements = yaml_lines(role).join("\n");
                for data in ["logs/", "traces/", "metrics/", "_compactor/"] {
                    assert!(!statements.contains(data), "{ctx}: {data} in {role}");
                }
                assert!(!role.contains(&format!("{arn}/{prefix}*")), "{ctx}: {role}");
                assert!(
                    role.contains("Resource: !GetAtt FunctionLogGroup.Arn\n"),
                    "{ctx}"
                );

                // The compactor: the same code and storage, one run at a time.
                let compactor = resource(&t, "CompactorFunction");
                for line in [
                    "Runtime: provided.al2023\n",
                    "Handler: bootstrap\n",
                    "        - arm64\n",
                    "S3Bucket: !Ref CodeBucket\n",
                    "S3Key: !Ref CodeKey\n",
                    "ReservedConcurrentExecutions: 1\n",
                    "Timeout: 900\n",
                    "MemorySize: 2048\n",
                    "Role: !GetAtt CompactorRole.Arn\n",
                    "LogGroup: !Ref CompactorLogGroup\n",
                    "OTLP2PARQUET_STORAGE_BACKEND: s3\n",
                    "OTLP2PARQUET_S3_REGION: !Ref AWS::Region\n",
                    "OTLP2PARQUET_LAMBDA_MODE: spool\n",
                    "OTLP2PARQUET_COMPACT_LEASE_SECS: \"960\"\n",
                ] {
                    assert!(compactor.contains(line), "{ctx}: {line:?} in {compactor}");
                }
                let bucket_env = match bucket {
                    Some(b) => format!("OTLP2PARQUET_S3_BUCKET: \"{b}\"\n"),
                    None => "OTLP2PARQUET_S3_BUCKET: !Ref DataBucket\n".to_owned(),
                };
                assert!(compactor.contains(&bucket_env), "{ctx}");
                assert_eq!(
                    compactor.contains(&format!("OTLP2PARQUET_STORAGE_PREFIX: \"{prefix}\"\n")),
                    !prefix.is_empty(),
                    "{ctx}"
                );
                // It serves no URL, so it never gets the bearer token.
                assert!(!compactor.contains("AUTH"), "{ctx}");

                // The compactor's role, statement by statement.
                let role = resource(&t, "CompactorRole");
                let list = format!(
                    "Action: s3:ListBucket\n                Resource: !Sub \
                     \"arn:${{AWS::Partition}}:s3:::{arn}\"\n                Condition:\n                  \
                     StringLike:\n                    s3:prefix:\n"
                );
                assert!(role.contains(&list), "{ctx}: {role}");
                for p in ["_spool/", "_compactor/", "logs/", "traces/", "metrics/"] {
                    assert!(
                        role.contains(&format!("                      - \"{prefix}{p}*\"\n")),
                        "{ctx}: {p} in {role}"
                    );
                }
                let spool = format!(
                    "Action:\n                  - s3:GetObject\n                  - s3:DeleteObject\n                \
                     Resource: {}\n",
                    object("_spool/")
                );
                assert!(role.contains(&spool), "{ctx}: {role}");
                let put = format!(
                    "Action: s3:PutObject\n                Resource:\n                  - {}\n                  \
                     - {}\n                  - {}\n",
                    object("logs/"),
                    object("traces/"),
                    object("metrics/")
                );
                assert!(role.contains(&put), "{ctx}: {role}");
                let state = format!(
                    "Action:\n                  - s3:GetObject\n                  - s3:PutObject\n                  \
                     - s3:DeleteObject\n                Resource: {}\n",
                    object("_compactor/")
                );
                assert!(role.contains(&state), "{ctx}: {role}");
                // Nothing beyond those statements: each action appears only where checked above.
                let statements = yaml_lines(role).join("\n");
                assert_eq!(statements.matches("s3:ListBucket").count(), 1, "{ctx}");
                assert_eq!(statements.matches("s3:GetObject").count(), 2, "{ctx}");
                assert_eq!(statements.matches("s3:PutObject").count(), 2, "{ctx}");
                assert_eq!(statements.matches("s3:DeleteObject").count(), 2, "{ctx}");
                assert_eq!(statements.matches("- Sid: ").count(), 5, "{ctx}: {role}");
                assert_eq!(statements.matches("Resource:").count(), 5, "{ctx}: {role}");
                assert!(!role.contains("s3:*") && !role.contains(&format!("{arn}/{prefix}*")));
                assert!(
                    role.contains("Resource: !GetAtt CompactorLogGroup.Arn\n"),
                    "{ctx}"
                );
                assert!(!role.contains("FunctionLogGroup"), "{ctx}");
                // The ingest role and the compactor role are the only ones that write Parquet
                // or spool objects.
                assert_eq!(t.matches(&object("logs/")).count(), 1, "{ctx}");
                assert_eq!(t.matches(&object("_spool/")).count(), 2, "{ctx}");

                let logs = resource(&t, "CompactorLogGroup");
                assert!(logs.contains("Type: AWS::Logs::LogGroup\n"), "{ctx}");
                assert!(
                    logs.contains(
                        r#"LogGroupName: !Sub "/aws/lambda/${AWS::StackName}-compactor""#
                    )
                );
                assert!(
                    logs.contains("RetentionInDays: !Ref LogRetentionDays\n"),
                    "{ctx}"
                );

                // The schedule: a parameter, a rule and the permission for EventBridge.
                let param = resource(&t, "CompactSchedule");
                assert!(param.contains("Type: String\n"), "{ctx}");
                assert!(param.contains("Default: \"rate(5 minutes)\"\n"), "{ctx}");
                assert!(
                    param.contains("rate()") && param.contains("cron()"),
                    "{param}"
                );
                let rule = resource(&t, "CompactorSchedule");
                assert!(rule.contains("Type: AWS::Events::Rule\n"), "{ctx}");
                assert!(
                    rule.contains("ScheduleExpression: !Ref CompactSchedule\n"),
                    "{ctx}"
                );
                assert!(
                    rule.contains("Arn: !GetAtt CompactorFunction.Arn\n"),
                    "{ctx}"
                );
                let permission = resource(&t, "CompactorSchedulePermission");
                for line in [
                    "Type: AWS::Lambda::Permission\n",
                    "FunctionName: !Ref CompactorFunction\n",
                    "Action: lambda:InvokeFunction\n",
                    "Principal: events.amazonaws.com\n",
                    "SourceArn: !GetAtt CompactorSchedule.Arn\n",
                ] {
                    assert!(permission.contains(line), "{ctx}: {line:?} in {permission}");
                }
                let output = resource(&t, "CompactorFunctionName");
                assert!(output.contains("Value: !Ref CompactorFunction\n"), "{ctx}");

                // Spool objects are acknowledged requests: nothing ever expires them.
                let yaml = yaml_lines(&t);
                assert!(!yaml.iter().any(|l| l.contains("Expiration")), "{ctx}");
                assert!(!yaml.iter().any(|l| l.contains("Transition")), "{ctx}");
                assert_eq!(
                    t.contains("AbortIncompleteMultipartUpload:"),
                    bucket.is_none(),
                    "{ctx}"
                );
                assert!(
                    t.contains("There is no S3 lifecycle expiration rule"),
                    "{ctx}"
                );
            }
        }
    }

    #[test]
    fn next_steps_name_the_exact_commands() {
        let s = next_steps(&plan_for(Auth::Iam, None, ""));
        assert!(s.contains("cargo lambda build --release --arm64 --output-format zip"));
        assert!(s.contains("aws s3 cp target/lambda/bootstrap/bootstrap.zip"));
        assert!(s.contains(
            "aws cloudformation deploy --template-file t.yaml --stack-name otlp2parquet"
        ));
        assert!(s.contains("--capabilities CAPABILITY_IAM"));
        assert!(s.contains("OutputKey=='FunctionUrl'"));
        assert!(s.contains("--aws-sigv4"));
        assert!(s.contains("s3://<DataBucket output>/_spool/"));
        assert!(s.contains("every 5 minutes (parameter CompactSchedule)"));
        assert!(s.contains("aws logs tail /aws/lambda/otlp2parquet-compactor --follow"));
        assert!(s.contains("OutputKey=='CompactorFunctionName'"));
        assert!(s.contains(
            "aws lambda invoke --function-name \"$COMPACTOR\" --cli-binary-format raw-in-base64-out \\\n     \
             --payload '{\"source\":\"aws.events\",\"detail-type\":\"Scheduled Event\"}' out.json"
        ));
        assert!(!s.contains("lifecycle"));
        let t = next_steps(&Plan {
            arch: Arch::X86_64,
            ..plan_for(Auth::Token, Some("b-1"), "")
        });
        assert!(t.contains("cargo lambda build --release --output-format zip"));
        assert!(t.contains("AuthToken=\"$OTLP_TOKEN\""));
        assert!(t.contains("Authorization: Bearer $OTLP_TOKEN"));
        assert!(t.contains("OTEL_EXPORTER_OTLP_HEADERS"));
        assert!(!t.contains("--aws-sigv4"));
        assert!(t.contains("kms:Decrypt"));
        assert!(t.contains("Do not give b-1 a lifecycle rule that expires objects under _spool/"));
        let p = next_steps(&plan_for(Auth::None, Some("b-1"), "otel/"));
        assert!(p.contains("s3://b-1/otel/_spool/"));
        assert!(p.contains("objects under otel/_spool/"));
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "otlp2parquet-create-aws-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_existing_file_needs_force() {
        let dir = scratch("force");
        let out = dir.join("stack.yaml");
        std::fs::write(&out, "keep me").unwrap();
        let mut args = Args {
            output: Some(out.clone()),
            ..Args::default()
        };
        let err = run(&args).unwrap_err();
        assert!(err.contains("--force"), "{err}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
        args.force = true;
        let steps = run(&args).unwrap();
        assert!(steps.contains("Wrote"));
        assert!(
            std::fs::read_to_string(&out)
                .unwrap()
                .starts_with("AWSTemplateFormatVersion")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_placeholder_and_directive_is_filled() {
        for auth in [Auth::Iam, Auth::None, Auth::Token] {
            for bucket in [None, Some("existing-b")] {
                for prefix in ["", "otel/"] {
                    let t = template(&plan_for(auth, bucket, prefix));
                    assert!(!t.contains("@@"), "{t}");
                    assert!(!t.contains("#@"), "{t}");
                    assert!(t.starts_with("AWSTemplateFormatVersion"), "{t}");
                }
            }
        }
    }

    #[test]
    fn render_keeps_on_sections_and_fills_values_once() {
        let t =
            "a @@X@@\n#@ note\n#@if on\nkept\n#@end\n#@if off\ndropped\n#@end\n@@Y@@ @@nope@@\n";
        let out = render(
            t,
            &[("on", true), ("off", false)],
            &[("X", "@@Y@@"), ("Y", "y")],
        );
        assert_eq!(out, "a @@Y@@\nkept\ny @@nope@@\n");
    }

    /// Tests that need external tools: only with the `e2e` feature (`make test`).
    #[cfg(feature = "e2e")]
    mod e2e {
        use super::*;
        use std::path::Path;
        use std::process::Command;

        /// Every auth mode with and without an existing bucket passes cfn-lint cleanly (exit 0:
        /// no error, warning or informational finding).
        #[test]
        fn templates_pass_cfn_lint() {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let cfn_lint = root.join(".venv/bin/cfn-lint");
            assert!(
                cfn_lint.is_file(),
                "{} is missing: `make deps` installs cfn-lint into .venv",
                cfn_lint.display()
            );
            let dir = scratch("lint");
            let mut files = Vec::new();
            for auth in [Auth::Iam, Auth::None, Auth::Token] {
                for bucket in [None, Some("existing-otel-bucket")] {
                    for (arch, prefix) in [(Arch::Arm64, ""), (Arch::X86_64, "otel/")] {
                        let plan = Plan {
                            arch,
                            ..plan_for(auth, bucket, prefix)
                        };
                        let file = dir.join(format!(
                            "{}-{}-{}.yaml",
                            auth_name(auth),
                            if bucket.is_some() { "existing" } else { "new" },
                            arch.as_str()
                        ));
                        std::fs::write(&file, template(&plan)).unwrap();
                        files.push(file);
                    }
                }
            }
            let out = Command::new(&cfn_lint).args(&files).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "cfn-lint:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
