//! Attribute lists → map entries: values stringified (SPEC §4), later duplicate key wins,
//! entries sorted by key (byte order).

use otlp2parquet_proto::{AnyValue, KeyValue};

use super::columns::{EncodedMap, MapCol};
use crate::value::stringify;

/// Reusable scratch space for stringifying values and ordering keys, so that writing a row
/// allocates nothing once the buffers have grown to the request's largest value.
#[derive(Default)]
pub(crate) struct AttrWriter {
    text: String,
    order: Vec<(u64, usize)>,
}

impl AttrWriter {
    /// The string form of `value`, borrowed from it or from the scratch buffer.
    #[inline]
    pub(crate) fn stringify<'s>(&'s mut self, value: &'s AnyValue<'_>) -> &'s str {
        stringify(value, &mut self.text)
    }

    /// Appends `attrs` as one map row of `col`.
    pub(crate) fn append(&mut self, col: &mut MapCol, attrs: &[KeyValue<'_>]) {
        if strictly_sorted(attrs) {
            // The common case (SDKs usually emit few, distinct keys, often sorted): no index.
            for kv in attrs {
                col.entry(&kv.key, stringify(&kv.value, &mut self.text));
            }
        } else {
            let Self { text, order } = self;
            sorted_unique(attrs, order);
            for kv in order.iter().filter_map(|&(_, i)| attrs.get(i)) {
                col.entry(&kv.key, stringify(&kv.value, text));
            }
        }
        col.close();
    }

    /// The map entries of `attrs`, encoded once for values repeated on many rows (resource,
    /// scope).
    pub(crate) fn collect(&mut self, attrs: &[KeyValue<'_>]) -> EncodedMap {
        let Self { text, order } = self;
        sorted_unique(attrs, order);
        let mut map = EncodedMap::default();
        for kv in order.iter().filter_map(|&(_, i)| attrs.get(i)) {
            map.push(&kv.key, stringify(&kv.value, text));
        }
        map
    }
}

/// Whether the keys are strictly increasing: then the list is already sorted and unique.
fn strictly_sorted(attrs: &[KeyValue<'_>]) -> bool {
    attrs
        .iter()
        .zip(attrs.iter().skip(1))
        .all(|(a, b)| a.key.as_bytes() < b.key.as_bytes())
}

/// The first 8 bytes of `key`, big-endian, zero-padded: comparing two prefixes orders keys
/// like comparing their bytes, except that equal prefixes need the full comparison.
#[inline]
fn prefix(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(key) {
        *d = *s;
    }
    u64::from_be_bytes(b)
}

/// Fills `order` with the indices of `attrs` sorted by key, keeping only the last of each
/// run of equal keys (the stable sort keeps input order within a run). Keys are compared by
/// their 8-byte prefix first, which settles most comparisons without a `memcmp`.
fn sorted_unique(attrs: &[KeyValue<'_>], order: &mut Vec<(u64, usize)>) {
    order.clear();
    order.extend(
        attrs
            .iter()
            .enumerate()
            .map(|(i, kv)| (prefix(kv.key.as_bytes()), i)),
    );
    let key = |i: usize| attrs.get(i).map_or(&[][..], |kv| kv.key.as_bytes());
    order.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(key(b.1))));
    let mut write = 0;
    for read in 0..order.len() {
        let (Some(&cur), next) = (order.get(read), order.get(read + 1)) else {
            continue;
        };
        if next.is_some_and(|n| n.0 == cur.0 && key(n.1) == key(cur.1)) {
            continue;
        }
        if let Some(slot) = order.get_mut(write) {
            *slot = cur;
        }
        write += 1;
    }
    order.truncate(write);
}

/// The stringified value of the last `service.name` resource attribute, else `""`.
pub(crate) fn service_name(attrs: &[KeyValue<'_>], w: &mut AttrWriter) -> String {
    attrs
        .iter()
        .rev()
        .find(|kv| kv.key == "service.name")
        .map(|kv| w.stringify(&kv.value).to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn kv(key: &'static str, v: &'static str) -> KeyValue<'static> {
        KeyValue {
            key: Cow::Borrowed(key),
            value: AnyValue::String(Cow::Borrowed(v)),
        }
    }

    #[test]
    fn sorted_unique_keeps_the_last_duplicate_in_key_order() {
        let attrs = [
            kv("b", "1"),
            kv("a", "2"),
            kv("b", "3"),
            kv("c", "4"),
            kv("a", "5"),
        ];
        assert_eq!(unique_indices(&attrs), [4, 2, 3]);
    }

    #[test]
    fn sorted_unique_compares_past_the_prefix() {
        let attrs = [
            kv("http.response.status_code", "1"),
            kv("http.response.body.size", "2"),
            kv("http.res", "3"),
            kv("http.res\0", "4"),
            kv("", "5"),
            kv("http.response.body.size", "6"),
        ];
        assert_eq!(unique_indices(&attrs), [4, 2, 3, 5, 0]);
    }

    fn unique_indices(attrs: &[KeyValue<'_>]) -> Vec<usize> {
        let mut order = Vec::new();
        sorted_unique(attrs, &mut order);
        order.iter().map(|&(_, i)| i).collect()
    }

    #[test]
    fn strictly_sorted_rejects_duplicates_and_disorder() {
        assert!(strictly_sorted(&[kv("a", ""), kv("b", "")]));
        assert!(strictly_sorted(&[]));
        assert!(!strictly_sorted(&[kv("a", ""), kv("a", "")]));
        assert!(!strictly_sorted(&[kv("b", ""), kv("a", "")]));
        // Byte order: uppercase sorts before lowercase.
        assert!(strictly_sorted(&[kv("Z", ""), kv("a", "")]));
    }
}
