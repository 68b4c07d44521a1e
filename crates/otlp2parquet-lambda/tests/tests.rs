//! Integration tests of the Lambda adapter (filled in with the `e2e` module).
