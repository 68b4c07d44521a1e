//! Where in the request a value sits, for error messages.

use std::fmt;

/// A JSON path such as `resourceSpans[0].scopeSpans[1].spans[2].traceId`, kept as a chain of
/// stack frames: descending costs two words and no allocation, and the text is only built when
/// an error is reported.
#[derive(Clone, Copy)]
pub(super) struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    segment: Segment,
}

#[derive(Clone, Copy)]
enum Segment {
    Root,
    Field(&'static str),
    Index(usize),
}

impl<'p> Path<'p> {
    /// The request object itself.
    pub(super) const ROOT: Path<'static> = Path {
        parent: None,
        segment: Segment::Root,
    };

    /// The member `name` of this object (always spelled lowerCamelCase).
    pub(super) fn field(&'p self, name: &'static str) -> Path<'p> {
        Path {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    /// Element `index` of this array.
    pub(super) fn index(&'p self, index: usize) -> Path<'p> {
        Path {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }
}

impl Path<'_> {
    /// Writes the chain without the root, which has no name of its own.
    fn write_chain(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Recursion depth is the JSON nesting depth, which serde_json caps at 128.
        if let Some(parent) = self.parent {
            parent.write_chain(f)?;
        }
        let after_root = self
            .parent
            .is_none_or(|p| matches!(p.segment, Segment::Root));
        match self.segment {
            Segment::Root => Ok(()),
            Segment::Field(name) if after_root => f.write_str(name),
            Segment::Field(name) => write!(f, ".{name}"),
            Segment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.segment {
            Segment::Root => f.write_str("request"),
            _ => self.write_chain(f),
        }
    }
}
