//! Integration tests of decoding: OTLP/JSON and protobuf.

mod json;
mod protobuf;
