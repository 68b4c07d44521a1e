//! Decode errors that learn their field path on the way out.

use crate::DecodeError;

/// Paths longer than this are shortened in the message: a nesting bomb would otherwise produce
/// a message as long as the bomb is deep.
const MAX_SHOWN_PATH: usize = 12;

/// A protobuf decode error. The innermost decoder names the problem; each enclosing decoder
/// adds its field name with [`Error::at`] as the error propagates, so the success path pays
/// nothing for the path. Boxed to keep every `Result` in the hot path one word wide.
#[derive(Debug)]
pub(super) struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    problem: String,
    /// Field names, innermost first.
    path: Vec<&'static str>,
}

impl Error {
    #[cold]
    pub(super) fn new(problem: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            problem: problem.into(),
            path: Vec::new(),
        }))
    }

    /// Adds the enclosing field `name` to the path.
    #[cold]
    #[must_use]
    pub(super) fn at(mut self, name: &'static str) -> Self {
        self.0.path.push(name);
        self
    }
}

impl From<Error> for DecodeError {
    fn from(e: Error) -> Self {
        let Inner { problem, path } = *e.0;
        if path.is_empty() {
            return DecodeError::new(format!("invalid protobuf: {problem}"));
        }
        let names: Vec<&str> = path.iter().rev().copied().collect();
        let joined = if names.len() > MAX_SHOWN_PATH {
            let head = names.get(..4).unwrap_or_default().join(".");
            let tail = names
                .get(names.len() - (MAX_SHOWN_PATH - 4)..)
                .unwrap_or_default()
                .join(".");
            format!("{head}.….{tail}")
        } else {
            names.join(".")
        };
        DecodeError::new(format!("{joined}: {problem}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_outermost_first() {
        let e = Error::new("expected 16 bytes, got 5")
            .at("trace_id")
            .at("spans")
            .at("scope_spans")
            .at("resource_spans");
        assert_eq!(
            DecodeError::from(e).message(),
            "resource_spans.scope_spans.spans.trace_id: expected 16 bytes, got 5"
        );
    }

    #[test]
    fn long_paths_are_shortened() {
        let mut e = Error::new("too deep");
        for _ in 0..100 {
            e = e.at("values");
        }
        let msg = DecodeError::from(e).message().to_owned();
        assert!(msg.len() < 120, "{msg}");
        assert!(msg.contains('…'));
    }
}
