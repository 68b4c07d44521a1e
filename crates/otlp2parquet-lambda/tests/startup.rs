//! Cold-start failures of the `bootstrap` binary: one JSON error line and a non-zero exit,
//! never a panic (no emulator needed).

use std::process::Command;

fn run(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn error_line(text: &str) -> serde_json::Value {
    let line = text
        .lines()
        .find(|l| l.contains("\"ERROR\""))
        .unwrap_or_else(|| panic!("no error line in:\n{text}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

const LAMBDA: [(&str, &str); 4] = [
    ("AWS_LAMBDA_FUNCTION_NAME", "bootstrap"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
    // Nothing listens here: the process must fail before it ever polls.
    ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
];

#[test]
fn a_bad_config_is_a_json_error_and_exit_2() {
    let mut env = LAMBDA.to_vec();
    env.push(("OTLP2PARQUET_S3_BUCKET", "b"));
    env.push(("OTLP2PARQUET_MAX_PAYLOAD_BYTES", "lots"));
    let (code, text) = run(&env);
    assert_eq!(code, Some(2), "{text}");
    let e = error_line(&text);
    assert_eq!(e["message"], "invalid configuration");
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("OTLP2PARQUET_MAX_PAYLOAD_BYTES"),
        "{e}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn the_s3_bucket_is_required_on_lambda() {
    let (code, text) = run(&LAMBDA);
    assert_eq!(code, Some(2), "{text}");
    let e = error_line(&text);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("OTLP2PARQUET_S3_BUCKET"),
        "{e}"
    );
}

#[test]
fn outside_lambda_it_says_so_instead_of_panicking() {
    let (code, text) = run(&[
        ("OTLP2PARQUET_STORAGE_BACKEND", "s3"),
        ("OTLP2PARQUET_S3_BUCKET", "b"),
    ]);
    assert_eq!(code, Some(2), "{text}");
    let e = error_line(&text);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("AWS_LAMBDA_RUNTIME_API"),
        "{e}"
    );
    assert!(!text.contains("panicked"), "{text}");
}
