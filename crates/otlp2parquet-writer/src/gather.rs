//! Gathering rows of one column from many batches, for the batcher's merge (`crate::merge`).
//!
//! Arrow's `interleave` handles every type, but for a `Map<Utf8, Utf8>` it works entry by entry
//! through three nested levels, and attribute maps hold most of a row's values: in the load
//! benchmark it took a sixth of the server's time. The entries of one row are contiguous in
//! their source, so [`gather_string_map`] copies each row's keys and values with one slice copy
//! each and only rebases the offsets. Every other type (and maps with nulls) goes to `interleave`.
//!
//! Rows of overlapping requests come from hundreds of sources in turn, so each row's offsets and
//! bytes are a cache miss: that, not copying, is what a gather costs. The map gather therefore
//! reads every row once, sizing its output from the sources' totals instead of from a first pass
//! over the rows: exact when the rows asked for are all of the sources' rows (a file that fits in
//! one piece); for a piece of a larger file (`GATHER_ROWS` in `parquet.rs`), a proportional share
//! plus an eighth, grown on demand.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, MapArray, StringArray, StructArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType};
use arrow_select::interleave::interleave;

/// One column of many batches, ready to have rows picked from it in any order, a piece at a time.
pub(crate) struct Gather<'a> {
    sources: &'a [&'a dyn Array],
    /// The sources as maps of strings with their totals, when they all are.
    maps: Option<(Vec<StringMap<'a>>, Totals)>,
}

/// What a set of map sources holds in all.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    rows: usize,
    entries: usize,
    key_bytes: usize,
    value_bytes: usize,
}

impl<'a> Gather<'a> {
    /// A gather from `sources` (arrays of one type).
    pub(crate) fn new(sources: &'a [&'a dyn Array]) -> Self {
        let maps = string_maps(sources).map(|maps| {
            let totals = totals(&maps);
            (maps, totals)
        });
        Gather { sources, maps }
    }

    /// The rows `rows` picks — (source, row) pairs — in order.
    pub(crate) fn rows(&self, rows: &[(usize, usize)]) -> Result<ArrayRef, ArrowError> {
        match &self.maps {
            Some((maps, totals)) => gather_string_map(maps, totals, rows),
            None => interleave(self.sources, rows),
        }
    }
}

/// The rows `rows` picks — (source, row) pairs — from `sources` (arrays of one type), in order.
#[cfg(test)]
fn gather_column(sources: &[&dyn Array], rows: &[(usize, usize)]) -> Result<ArrayRef, ArrowError> {
    Gather::new(sources).rows(rows)
}

/// Rows, entries and string bytes of all `maps`.
fn totals(maps: &[StringMap<'_>]) -> Totals {
    let mut t = Totals::default();
    for src in maps {
        t.rows += src.map.len();
        let offsets = src.map.value_offsets();
        if let (Some(&start), Some(&end)) = (offsets.first(), offsets.last()) {
            let (start, end) = (start as usize, end as usize);
            t.entries += end.saturating_sub(start);
            t.key_bytes += span(src.keys, start, end);
            t.value_bytes += span(src.values, start, end);
        }
    }
    t
}

/// What `rows` of `sources` (with `source_rows` rows in all) will need of something the sources
/// hold `total` of: all of it when the rows are all the sources' rows, else a proportional share
/// with an eighth more for an uneven split (the vectors grow if that is short).
fn share(total: usize, rows: usize, source_rows: usize) -> usize {
    if rows >= source_rows || source_rows == 0 {
        return total;
    }
    let part = (total as u128 * rows as u128 / source_rows as u128) as usize;
    part.saturating_add(part / 8).min(total)
}

/// A Utf8 array of `offsets` into `data` (validated: the bytes came from valid strings, but
/// Arrow checks them and the offsets again).
fn strings(offsets: Vec<i32>, data: Vec<u8>) -> Result<ArrayRef, ArrowError> {
    Ok(Arc::new(StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(data),
        None,
    )?))
}

/// One source map with its key and value strings.
struct StringMap<'a> {
    map: &'a MapArray,
    keys: &'a StringArray,
    values: &'a StringArray,
}

/// `sources` as string-to-string maps without nulls, if they all are.
fn string_maps<'a>(sources: &[&'a dyn Array]) -> Option<Vec<StringMap<'a>>> {
    sources
        .iter()
        .map(|a| {
            let map = a.as_map_opt()?;
            let keys = map.keys().as_string_opt::<i32>()?;
            let values = map.values().as_string_opt::<i32>()?;
            let no_nulls = map.null_count() == 0
                && map.entries().null_count() == 0
                && keys.null_count() == 0
                && values.null_count() == 0;
            no_nulls.then_some(StringMap { map, keys, values })
        })
        .collect()
}

fn out_of_range(what: &str) -> ArrowError {
    ArrowError::InvalidArgumentError(format!("gather: {what} out of range"))
}

/// Bytes of the strings `start..end` of `src` (0 when out of range).
fn span(src: &StringArray, start: usize, end: usize) -> usize {
    let offsets = src.value_offsets();
    match (offsets.get(start), offsets.get(end)) {
        (Some(&a), Some(&b)) => b.saturating_sub(a) as usize,
        _ => 0,
    }
}

/// Appends the strings `range` of `src` (entry indices) to `data`/`offsets`.
fn copy_strings(
    src: &StringArray,
    range: std::ops::Range<usize>,
    data: &mut Vec<u8>,
    offsets: &mut Vec<i32>,
) -> Result<(), ArrowError> {
    let src_offsets = src
        .value_offsets()
        .get(range.start..=range.end)
        .ok_or_else(|| out_of_range("string offsets"))?;
    let (Some(&first), Some(&last)) = (src_offsets.first(), src_offsets.last()) else {
        return Err(out_of_range("string offsets"));
    };
    let bytes = src
        .value_data()
        .get(first as usize..last as usize)
        .ok_or_else(|| out_of_range("string data"))?;
    let base = i32::try_from(data.len())
        .map_err(|_| ArrowError::ComputeError("gather: over 2 GiB of strings".to_owned()))?;
    data.extend_from_slice(bytes);
    offsets.extend(src_offsets.iter().skip(1).map(|&o| base + (o - first)));
    Ok(())
}

/// [`Gather::rows`] for maps of strings: per row, one copy of its keys and one of its values.
fn gather_string_map(
    maps: &[StringMap<'_>],
    totals: &Totals,
    rows: &[(usize, usize)],
) -> Result<ArrayRef, ArrowError> {
    let Some(first) = maps.first() else {
        return Err(out_of_range("no sources"));
    };
    let DataType::Map(field, ordered) = first.map.data_type() else {
        return Err(ArrowError::InvalidArgumentError(
            "gather: not a map".to_owned(),
        ));
    };
    // Sized up front from the sources' totals (see the module notes): growing these vectors row
    // by row reallocates and faults in pages several times over, and sizing them row by row
    // reads every row twice.
    let entries_total = share(totals.entries, rows.len(), totals.rows);
    let key_bytes = share(totals.key_bytes, rows.len(), totals.rows);
    let value_bytes = share(totals.value_bytes, rows.len(), totals.rows);
    let mut entry_offsets = Vec::with_capacity(rows.len() + 1);
    entry_offsets.push(0i32);
    let mut key_offsets = Vec::with_capacity(entries_total + 1);
    let mut value_offsets = Vec::with_capacity(entries_total + 1);
    key_offsets.push(0i32);
    value_offsets.push(0i32);
    let mut key_data = Vec::with_capacity(key_bytes);
    let mut value_data = Vec::with_capacity(value_bytes);
    for &(source, row) in rows {
        let src = maps.get(source).ok_or_else(|| out_of_range("source"))?;
        let offsets = src.map.value_offsets();
        let (Some(&start), Some(&end)) = (offsets.get(row), offsets.get(row + 1)) else {
            return Err(out_of_range("row"));
        };
        let entries = start as usize..end as usize;
        copy_strings(src.keys, entries.clone(), &mut key_data, &mut key_offsets)?;
        copy_strings(src.values, entries, &mut value_data, &mut value_offsets)?;
        let last = entry_offsets.last().copied().unwrap_or(0);
        entry_offsets.push(last + (end - start));
    }
    let entries = StructArray::try_new(
        first.map.entries().fields().clone(),
        vec![
            strings(key_offsets, key_data)?,
            strings(value_offsets, value_data)?,
        ],
        None,
    )?;
    Ok(Arc::new(MapArray::try_new(
        Arc::clone(field),
        OffsetBuffer::new(ScalarBuffer::from(entry_offsets)),
        entries,
        None,
        *ordered,
    )?))
}

#[cfg(test)]
mod tests {
    use arrow_array::builder::{MapBuilder, StringBuilder};

    use super::*;

    fn map(rows: &[&[(&str, &str)]]) -> MapArray {
        let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        for row in rows {
            for (k, v) in *row {
                b.keys().append_value(k);
                b.values().append_value(v);
            }
            b.append(true).unwrap();
        }
        b.finish()
    }

    #[test]
    fn maps_gather_like_interleave() {
        let a = map(&[&[("a", "1"), ("b", "22")], &[], &[("c", "333")]]);
        let b = map(&[&[("x", "")], &[("y", "yy"), ("z", "zzz"), ("w", "w")]]);
        // A slice: offsets that do not start at zero.
        let b = b.slice(0, 2);
        let sources: Vec<&dyn Array> = vec![&a, &b];
        let rows = [(1, 1), (0, 0), (0, 1), (1, 0), (0, 2), (1, 1)];
        let fast = gather_column(&sources, &rows).unwrap();
        let slow = interleave(&sources, &rows).unwrap();
        assert_eq!(fast.as_ref(), slow.as_ref());
        assert_eq!(fast.len(), 6);
    }

    #[test]
    fn a_part_of_the_rows_may_need_more_than_its_share() {
        // One of three rows, the one with the most entries: the scaled estimate is short and
        // the output grows.
        let m = map(&[
            &[("k", "v")],
            &[],
            &[("key", "a long value"), ("key2", "another")],
        ]);
        let sources: Vec<&dyn Array> = vec![&m];
        let rows = [(0, 2)];
        let fast = gather_column(&sources, &rows).unwrap();
        let slow = interleave(&sources, &rows).unwrap();
        assert_eq!(fast.as_ref(), slow.as_ref());
        assert_eq!(share(100, 1, 3), 37);
        assert_eq!(share(100, 3, 3), 100);
        assert_eq!(share(100, 0, 0), 100);
    }

    #[test]
    fn other_types_fall_back_to_interleave() {
        let a = StringArray::from(vec!["p", "q"]);
        let b = StringArray::from(vec![Some("r"), None]);
        let sources: Vec<&dyn Array> = vec![&a, &b];
        let out = gather_column(&sources, &[(1, 1), (0, 1), (1, 0)]).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![None, Some("q"), Some("r")]
        );
    }
}
