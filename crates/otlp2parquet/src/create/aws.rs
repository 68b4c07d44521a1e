//! `otlp2parquet create aws` (issue 4): a CloudFormation template for the Lambda function.
//!
//! The template holds the function (`provided.al2023`, `bootstrap`), its Function URL, the S3
//! bucket (created private and encrypted, or an existing one), a role that may only put objects
//! under the prefix and write its own log group, and that log group with a retention. The code
//! location is a pair of parameters, so the same template deploys every build (ADR 0007).

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
/// Days the function's log group keeps logs (the parameter's default).
pub const LOG_RETENTION_DAYS: u32 = 30;

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
    let values: [(&str, &str); 10] = [
        ("STACK", plan.stack_name.as_str()),
        ("ARCH", plan.arch.as_str()),
        ("AUTH", auth_name(plan.auth)),
        ("AUTH_TYPE", auth_type),
        ("LOG_RETENTION_DAYS", &LOG_RETENTION_DAYS.to_string()),
        ("MEMORY_MB", &MEMORY_MB.to_string()),
        ("TIMEOUT_SECS", &TIMEOUT_SECS.to_string()),
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
        r#"4. Read the Function URL (it ends with '/'; the stack's other outputs name the bucket and
   the log group):

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
   Files land under s3://{bucket}/{prefix}{{logs,traces,metrics/<kind>}}/<service>/year=…/hour=…/.
   Logs: aws logs tail /aws/lambda/{stack} --follow
"#,
        bucket = match &plan.bucket {
            Some(b) => b.clone(),
            None => "<DataBucket output>".to_owned(),
        },
        prefix = plan.prefix,
    );
    if plan.bucket.is_some() {
        s.push_str(
            "   If the existing bucket uses SSE-KMS, also allow the role kms:GenerateDataKey on \
             its key.\n",
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
        assert!(iam.contains(r#"Resource: !Sub "arn:${AWS::Partition}:s3:::${DataBucket}/*""#));
        assert!(iam.contains("Runtime: provided.al2023"));
        assert!(iam.contains("Handler: bootstrap"));
        assert!(iam.contains("        - arm64\n"));
        assert!(iam.contains("RetentionInDays: !Ref LogRetentionDays"));
        assert!(!iam.contains("AuthToken"));
        assert!(!iam.contains("FunctionUrlPublicAccess"));
        assert!(!iam.contains("OTLP2PARQUET_STORAGE_PREFIX"));
        // Only PutObject on S3, nothing broader.
        assert_eq!(iam.matches("s3:PutObject").count(), 1);
        assert!(
            !iam.contains("s3:GetObject")
                && !iam.contains("Action: \"s3:*\"\n            Resource: !Sub \"arn")
        );

        let token = template(&plan_for(Auth::Token, Some("existing-b"), "otel/"));
        assert!(token.contains("AuthType: NONE"));
        assert!(token.contains("NoEcho: true"));
        assert!(token.contains("OTLP2PARQUET_AUTH_BEARER_TOKEN: !Ref AuthToken"));
        assert!(token.contains("FunctionUrlPublicAccess"));
        assert!(token.contains("InvokedViaFunctionUrl: true"));
        assert!(!token.contains("Type: AWS::S3::Bucket"));
        assert!(token.contains("OTLP2PARQUET_S3_BUCKET: \"existing-b\""));
        assert!(token.contains(r#"s3:::existing-b/otel/*""#));
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
        let t = next_steps(&Plan {
            arch: Arch::X86_64,
            ..plan_for(Auth::Token, Some("b-1"), "")
        });
        assert!(t.contains("cargo lambda build --release --output-format zip"));
        assert!(t.contains("AuthToken=\"$OTLP_TOKEN\""));
        assert!(t.contains("Authorization: Bearer $OTLP_TOKEN"));
        assert!(t.contains("OTEL_EXPORTER_OTLP_HEADERS"));
        assert!(!t.contains("--aws-sigv4"));
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
