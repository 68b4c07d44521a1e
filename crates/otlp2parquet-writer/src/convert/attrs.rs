//! Attribute lists → map entries: values stringified (docs/schema.md#value-strings), later
//! duplicate key wins, entries sorted by key (byte order).

use otlp2parquet_proto::{AnyValue, KeyValue};

use super::columns::{EncodedMap, MapCol};
use crate::value::stringify;

/// Reusable scratch space for stringifying values and ordering keys, so that writing a row
/// allocates nothing once the buffers have grown to the request's largest value.
#[derive(Default)]
pub(crate) struct AttrWriter {
    text: String,
    order: Vec<(u64, usize)>,
    /// The sorted order of the last unsorted list that had no duplicate key. Records of one
    /// request nearly always list the same keys in the same order, so this order usually fits
    /// the next list too: checking that takes one comparison per key instead of a sort.
    last_order: Vec<usize>,
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
            // Already sorted and unique (SDKs often emit few keys, sorted): no index.
            for kv in attrs {
                col.entry(&kv.key, stringify(&kv.value, &mut self.text));
            }
        } else if sorts(&self.last_order, attrs) {
            let Self {
                text, last_order, ..
            } = self;
            for kv in last_order.iter().filter_map(|&i| attrs.get(i)) {
                col.entry(&kv.key, stringify(&kv.value, text));
            }
        } else {
            let Self {
                text,
                order,
                last_order,
            } = self;
            sorted_unique(attrs, order);
            last_order.clear();
            if order.len() == attrs.len() {
                last_order.extend(order.iter().map(|&(_, i)| i));
            }
            for kv in order.iter().filter_map(|&(_, i)| attrs.get(i)) {
                col.entry(&kv.key, stringify(&kv.value, text));
            }
        }
        col.close();
    }

    /// The map entries of `attrs`, encoded once for values repeated on many rows (resource,
    /// scope).
    pub(crate) fn collect(&mut self, attrs: &[KeyValue<'_>]) -> EncodedMap {
        let Self { text, order, .. } = self;
        sorted_unique(attrs, order);
        let mut keys = Vec::with_capacity(order.len());
        let mut values = Vec::with_capacity(order.len());
        for kv in order.iter().filter_map(|&(_, i)| attrs.get(i)) {
            keys.push(kv.key.as_ref());
            values.push(stringify(&kv.value, text).to_owned());
        }
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        EncodedMap::new(&keys, &values)
    }
}

/// Whether the keys are strictly increasing: then the list is already sorted and unique.
fn strictly_sorted(attrs: &[KeyValue<'_>]) -> bool {
    attrs
        .iter()
        .zip(attrs.iter().skip(1))
        .all(|(a, b)| key_less(&a.key, &b.key))
}

/// Whether `order` (a permutation of `0..order.len()`, or empty) visits the keys of `attrs`
/// in strictly increasing order: then it is their sorted order, and they are unique.
fn sorts(order: &[usize], attrs: &[KeyValue<'_>]) -> bool {
    if order.len() != attrs.len() || order.is_empty() {
        return false;
    }
    let key = |i: usize| attrs.get(i).map(|kv| kv.key.as_ref());
    order
        .iter()
        .zip(order.iter().skip(1))
        .all(|(&a, &b)| match (key(a), key(b)) {
            (Some(a), Some(b)) => key_less(a, b),
            _ => false,
        })
}

/// `a < b` by bytes, settled by the 8-byte prefixes when they differ.
#[inline]
fn key_less(a: &str, b: &str) -> bool {
    let (pa, pb) = (prefix(a.as_bytes()), prefix(b.as_bytes()));
    if pa != pb {
        pa < pb
    } else {
        a.as_bytes() < b.as_bytes()
    }
}

/// The first 8 bytes of `key`, big-endian, zero-padded: comparing two prefixes orders keys
/// like comparing their bytes, except that equal prefixes need the full comparison.
#[inline]
fn prefix(key: &[u8]) -> u64 {
    if let Some(head) = key.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
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

/// A map column sized for the attribute lists `lists`, one per row: key and string value
/// lengths counted exactly, other values at a usual length of their text.
pub(crate) fn map_col<'k, 'a: 'k>(
    lists: impl ExactSizeIterator<Item = &'k [KeyValue<'a>]>,
) -> MapCol {
    let rows = lists.len();
    let (mut entries, mut keys, mut values) = (0, 0, 0);
    for attrs in lists {
        entries += attrs.len();
        for kv in attrs {
            keys += kv.key.len();
            values += match &kv.value {
                AnyValue::String(s) => s.len(),
                AnyValue::Empty => 0,
                _ => 8,
            };
        }
    }
    MapCol::with_sizes(rows, entries, keys, values)
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
    fn a_previous_order_is_reused_only_when_it_sorts_the_keys() {
        let first = [kv("b", "1"), kv("a", "2"), kv("c", "3")];
        let same_keys = [kv("b", "4"), kv("a", "5"), kv("c", "6")];
        let other_keys = [kv("b", "7"), kv("c", "8"), kv("a", "9")];
        let duplicate = [kv("b", "1"), kv("a", "2"), kv("a", "3")];
        let order = unique_indices(&first);
        assert!(sorts(&order, &same_keys));
        assert!(!sorts(&order, &other_keys));
        assert!(!sorts(&order, &duplicate));
        assert!(!sorts(&order, &first[..2]));
        assert!(!sorts(&[], &[]));
    }

    #[test]
    fn rows_are_sorted_and_deduplicated_whatever_the_previous_row() {
        use crate::convert::columns::Column;
        let rows: [&[KeyValue<'static>]; 5] = [
            &[kv("b", "1"), kv("a", "2"), kv("c", "3")],
            &[kv("b", "4"), kv("a", "5"), kv("c", "6")],
            &[kv("b", "7"), kv("c", "8"), kv("a", "9")],
            &[kv("b", "1"), kv("a", "2"), kv("b", "3")],
            &[kv("b", "4"), kv("a", "5"), kv("c", "6")],
        ];
        let mut w = AttrWriter::default();
        let mut col = MapCol::with_capacity(rows.len(), 0, 0);
        for row in rows {
            w.append(&mut col, row);
        }
        let array = col.finish(&map_field()).unwrap();
        let map = array
            .as_any()
            .downcast_ref::<arrow_array::MapArray>()
            .unwrap();
        let entries: Vec<String> = (0..rows.len())
            .map(|r| {
                let row = map.value(r);
                let keys = arrow_array::cast::AsArray::as_string::<i32>(row.column(0));
                let values = arrow_array::cast::AsArray::as_string::<i32>(row.column(1));
                keys.iter()
                    .zip(values.iter())
                    .map(|(k, v)| format!("{}={}", k.unwrap(), v.unwrap()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        assert_eq!(
            entries,
            [
                "a=2,b=1,c=3",
                "a=5,b=4,c=6",
                "a=9,b=7,c=8",
                "a=2,b=3",
                "a=5,b=4,c=6"
            ]
        );
    }

    fn map_field() -> arrow_schema::Field {
        crate::schema::schema(crate::Table::Logs)
            .field_with_name(crate::schema::logs::LOG_ATTRIBUTES)
            .unwrap()
            .clone()
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
