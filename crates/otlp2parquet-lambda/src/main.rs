//! `bootstrap` — the AWS Lambda adapter (issue 4).

fn main() {}
