use std::fmt;

/// A request body that is not a valid OTLP export request. The message names the problem
/// (and, for JSON, where it is); adapters answer it with 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    message: String,
}

impl DecodeError {
    /// A decode error with the given description.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The description of the problem.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with the JSON Lines line number it occurred on.
    #[must_use]
    pub fn at_line(self, line: usize) -> Self {
        Self {
            message: format!("line {line}: {}", self.message),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
