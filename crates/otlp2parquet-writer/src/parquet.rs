//! Parquet encoding (docs/schema.md#file-layout): one in-memory file per partition.
//!
//! Every file is written the same way: the configured codec (zstd level 1 by default), row
//! groups of at most `row_group_rows` rows, page statistics with column and offset indexes (so
//! ClickHouse and DuckDB can skip pages by time or service), and footer key-value metadata naming
//! the schema (`otlp2parquet.schema` = `<table>/v1`) and the writer version
//! (`otlp2parquet.version`, docs/schema.md#footer-metadata). The Arrow schema is embedded too,
//! so readers get `Timestamp(…, "UTC")` and the map/list field names back exactly.
//!
//! Dictionary encoding is on by default and switched off, column by column, only where values
//! are unique by nature; map and list leaves carry no statistics. See [`column_encoding`] and
//! `docs/adr/0004-parquet-encoding.md` for the policy and the figures behind it.
//!
//! For readers that look rows up rather than scan them (docs/adr/0014-query-ready-files.md):
//! bloom filters on the id columns a trace lookup filters on ([`bloom_columns`]), the time
//! column in the footer's `sorting_columns`, row groups bounded by bytes as well as rows, and
//! every column in its file form (`crate::layout`: field ids, the configured time unit).
//!
//! Page size and write batch size stay at parquet-rs's defaults (1 MiB, 1 024 rows): on 200 000
//! log-like rows, batch sizes of 8 Ki and 32 Ki rows and 8 MiB pages were within noise of them.
use std::cell::RefCell;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;
use otlp2parquet_common::config::ParquetCompression;
use parquet::arrow::arrow_writer::{
    ArrowRowGroupWriterFactory, ArrowWriterOptions, compute_leaves,
};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::{Compression, Encoding, Type as PhysicalType, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, SchemaDescriptor};

use crate::layout::{conform, conform_batch, file_schema};
use crate::{Table, VERSION, WriterError};

pub use otlp2parquet_common::config::TimestampUnit;

/// Footer metadata key holding the table's schema id (docs/schema.md#footer-metadata).
pub const SCHEMA_METADATA_KEY: &str = "otlp2parquet.schema";

/// Footer metadata key holding the writer version (docs/schema.md#footer-metadata).
pub const VERSION_METADATA_KEY: &str = "otlp2parquet.version";

/// Top-level columns whose values are (nearly) unique row by row: times in nanoseconds, ids,
/// durations and measured values. A dictionary of them is as large as the data, so they are
/// written without one.
const UNIQUE_COLUMNS: &[&str] = &[
    "Timestamp",
    "TimestampTime",
    "TimeUnix",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    // Log bodies rarely repeat within a row group once they carry any detail (ids, paths,
    // numbers); a dictionary that overflows falls back to plain at a cost, and plain pages
    // compress as well under zstd.
    "Body",
    "Duration",
    "Value",
    "Sum",
    "Count",
    "Min",
    "Max",
    "BucketCounts",
    "PositiveBucketCounts",
    "NegativeBucketCounts",
    "ValueAtQuantiles.Value",
    "Events.Timestamp",
    "Links.TraceId",
    "Links.SpanId",
    "Exemplars.TimeUnix",
    "Exemplars.Value",
    "Exemplars.TraceId",
    "Exemplars.SpanId",
];

/// Attribute maps of single events (a log record, a span, a span event or link, an exemplar).
/// Their keys repeat and keep a dictionary; their values carry per-event data (ids, paths,
/// sizes, durations) and are written without one. Resource, scope and metric point attributes
/// are bounded by nature and keep dictionaries for keys and values.
const EVENT_ATTRIBUTE_COLUMNS: &[&str] = &[
    "LogAttributes",
    "SpanAttributes",
    "Events.Attributes",
    "Links.Attributes",
    "Exemplars.FilteredAttributes",
];

/// The false-positive rate of the bloom filters (docs/adr/0014-query-ready-files.md): at a full
/// row group of 122 880 distinct ids it folds to 128 KiB per column, about 1.5 % of the row
/// group, and lets through about one row group in fifty.
pub const BLOOM_FILTER_FPP: f64 = 0.02;

/// How files are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Page compression codec.
    pub compression: ParquetCompression,
    /// Maximum rows per row group.
    pub row_group_rows: usize,
    /// Maximum bytes per row group, measured on the rows' uncompressed (Arrow) size, which
    /// bounds their encoded size.
    pub row_group_bytes: usize,
    /// Unit of every time column in the file.
    pub timestamp_unit: TimestampUnit,
    /// Bloom filters on [`bloom_columns`].
    pub bloom_filters: bool,
}

impl Default for ParquetOptions {
    /// zstd, 122 880 rows and 64 MiB per row group, nanoseconds, bloom filters on (the
    /// defaults of docs/configuration.md#parquet).
    fn default() -> Self {
        ParquetOptions {
            compression: ParquetCompression::Zstd,
            row_group_rows: 122_880,
            row_group_bytes: 64 * 1024 * 1024,
            timestamp_unit: TimestampUnit::Nanosecond,
            bloom_filters: true,
        }
    }
}

/// The columns of `table` that get a bloom filter: the ids a lookup by trace (or span) filters
/// on. Ids are random, so min/max statistics never exclude a row group for them.
pub fn bloom_columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::Logs => &["TraceId"],
        Table::Traces => &["TraceId", "SpanId"],
        Table::Metrics(_) => &[],
    }
}

/// Rows per row group for a file of `batches`: at most `row_group_rows`, and few enough that a
/// group's rows take at most `row_group_bytes` in memory (their average size times the count).
pub(crate) fn group_rows(batches: &[RecordBatch], opts: &ParquetOptions) -> usize {
    let max_rows = opts.row_group_rows.max(1);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows == 0 {
        return max_rows;
    }
    let bytes: usize = batches.iter().map(batch_bytes).sum();
    let per_row = bytes.div_ceil(rows).max(1);
    (opts.row_group_bytes / per_row).clamp(1, max_rows)
}

/// The `max_ndv` a file's bloom filters are sized for: the most rows one of its row groups
/// holds, rounded up to a power of two (so files of similar sizes share a writer plan), at least
/// 1 024 and at most `row_group_rows`. parquet-rs allocates the filter at this size and folds it
/// after the row group, so a small file must not start from a full row group's 128 KiB. 0 (one
/// plan for every size) when the file gets no bloom filter.
fn bloom_ndv(
    table: Table,
    batches: &[RecordBatch],
    group_rows: usize,
    opts: &ParquetOptions,
) -> u64 {
    if !opts.bloom_filters || bloom_columns(table).is_empty() {
        return 0;
    }
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let largest = rows.min(group_rows).max(1);
    largest
        .checked_next_power_of_two()
        .unwrap_or(largest)
        .max(1024)
        .min(opts.row_group_rows.max(1)) as u64
}

/// The memory of the rows of `batch` (not of whole buffers it may be a slice of).
fn batch_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| {
            c.to_data()
                .get_slice_memory_size()
                .unwrap_or_else(|_| c.get_array_memory_size())
        })
        .sum()
}

/// How one leaf column is written: the outcome of the policy in [`column_encoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnEncoding {
    /// Whether values go through a dictionary page.
    pub(crate) dictionary: bool,
    /// The value encoding when there is no dictionary (`None`: parquet-rs's default, PLAIN).
    pub(crate) encoding: Option<Encoding>,
    /// Which statistics the column gets.
    pub(crate) statistics: EnabledStatistics,
}

/// The encoding policy for the leaf column at `path` (as in the Parquet schema, e.g.
/// `["LogAttributes", "entries", "value"]`) of physical type `physical`.
///
/// - Dictionary on, except for [`UNIQUE_COLUMNS`] and the values of event attribute maps.
/// - Integer columns without a dictionary (times, durations, counts) are DELTA_BINARY_PACKED:
///   times are sorted, so their deltas take a few bits instead of 64.
/// - Top-level columns get page statistics (and so a column index); leaves inside maps and
///   lists get none: a min/max over all keys or all values of a page selects nothing, and
///   computing it costs two comparisons per value.
pub(crate) fn column_encoding(path: &[String], physical: PhysicalType) -> ColumnEncoding {
    let top = path.first().map(String::as_str).unwrap_or_default();
    let nested = path.len() > 1;
    let map_value = path.last().is_some_and(|leaf| leaf == "value")
        && path.iter().any(|part| part == "entries");
    let dictionary =
        !(UNIQUE_COLUMNS.contains(&top) || (map_value && EVENT_ATTRIBUTE_COLUMNS.contains(&top)));
    let integer = matches!(physical, PhysicalType::INT32 | PhysicalType::INT64);
    ColumnEncoding {
        dictionary,
        encoding: (!dictionary && integer).then_some(Encoding::DELTA_BINARY_PACKED),
        statistics: if nested {
            EnabledStatistics::None
        } else {
            EnabledStatistics::Page
        },
    }
}

/// Encodes `batches` (all in `table`'s schema, already ordered by time) as one Parquet file.
///
/// With no batches the file holds no rows, in the schema of [`crate::schema::schema`]. A batch
/// whose schema differs from the first one's is an error (a converter bug), not a panic.
pub fn encode_parquet(
    table: Table,
    batches: &[RecordBatch],
    opts: &ParquetOptions,
) -> Result<Vec<u8>, WriterError> {
    let mut encoder = ParquetEncoder::new(table, batches, opts)?;
    for batch in batches {
        encoder.write(batch)?;
    }
    encoder.finish()
}

/// A file being written batch by batch (see [`encode_parquet`]).
pub(crate) struct ParquetEncoder {
    table: Table,
    writer: ArrowWriter<Vec<u8>>,
    /// The file form of the rows.
    schema: SchemaRef,
    /// Rows per row group ([`group_rows`]).
    group_rows: usize,
    /// Rows in the row group being written.
    rows_in_group: usize,
}

impl ParquetEncoder {
    /// Starts a file for `batches` (sized for them), in the schema of the first one (the
    /// table's own schema when there is none).
    pub(crate) fn new(
        table: Table,
        batches: &[RecordBatch],
        opts: &ParquetOptions,
    ) -> Result<Self, WriterError> {
        let parquet_error = |source| WriterError::Parquet {
            table: table.name(),
            source,
        };
        let schema = match batches.first() {
            Some(batch) => batch.schema(),
            None => crate::schema::schema(table),
        };
        let group_rows = group_rows(batches, opts);
        let ndv = bloom_ndv(table, batches, group_rows, opts);
        let plan = cached_plan(table, &schema, opts, ndv).map_err(parquet_error)?;
        let options = ArrowWriterOptions::new()
            .with_properties(plan.props.clone())
            .with_parquet_schema(plan.descr.clone())
            // The plan's properties already hold the encoded Arrow schema.
            .with_skip_arrow_metadata(true);
        let capacity: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
        // Compressed Parquet is usually several times smaller than the Arrow data it came from.
        let buffer = Vec::with_capacity(capacity / 4 + 4096);
        let writer =
            ArrowWriter::try_new_with_options(buffer, Arc::clone(&plan.file_schema), options)
                .map_err(parquet_error)?;
        Ok(ParquetEncoder {
            table,
            writer,
            schema: Arc::clone(&plan.file_schema),
            group_rows,
            rows_in_group: 0,
        })
    }

    /// Appends rows; a batch in another schema than the first is an error, not a panic.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), WriterError> {
        let table = self.table.name();
        let batch = conform_batch(batch, &self.schema)
            .map_err(|source| WriterError::Arrow { table, source })?;
        let parquet_error = |source| WriterError::Parquet { table, source };
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (self.group_rows - self.rows_in_group).min(batch.num_rows() - offset);
            self.writer
                .write(&batch.slice(offset, take))
                .map_err(parquet_error)?;
            offset += take;
            self.rows_in_group += take;
            if self.rows_in_group >= self.group_rows {
                self.writer.flush().map_err(parquet_error)?;
                self.rows_in_group = 0;
            }
        }
        Ok(())
    }

    /// Closes the file and returns its bytes.
    pub(crate) fn finish(self) -> Result<Vec<u8>, WriterError> {
        let table = self.table;
        self.writer
            .into_inner()
            .map_err(|source| WriterError::Parquet {
                table: table.name(),
                source,
            })
    }
}

/// Rows gathered and encoded at a time within one column of a row group (see [`encode_gathered`]).
const GATHER_ROWS: usize = 8192;

/// Encodes the rows `order` picks (as (batch, row) pairs) from `batches`, in that order, as one
/// file — the batcher's merge of overlapping requests (see `crate::merge`).
///
/// Rows are gathered one column at a time, [`GATHER_ROWS`] rows at a time, and each piece is
/// encoded straight away: gathering touches a single column of every batch instead of whole rows
/// scattered over the buffer (far fewer cache misses), the encoder reads the piece while it is
/// still in cache, and the extra memory is a piece of one column, not a second copy of the
/// buffer.
pub(crate) fn encode_gathered(
    table: Table,
    batches: &[RecordBatch],
    order: &[(usize, usize)],
    opts: &ParquetOptions,
) -> Result<Vec<u8>, WriterError> {
    let parquet_error = |source| WriterError::Parquet {
        table: table.name(),
        source,
    };
    let arrow_error = |source| WriterError::Arrow {
        table: table.name(),
        source,
    };
    let Some(first) = batches.first() else {
        return encode_parquet(table, batches, opts);
    };
    let schema = first.schema();
    let group_rows = group_rows(batches, opts);
    let plan = cached_plan(
        table,
        &schema,
        opts,
        bloom_ndv(table, batches, group_rows, opts),
    )
    .map_err(parquet_error)?;
    let capacity: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    let mut file = SerializedFileWriter::new(
        Vec::with_capacity(capacity / 4 + 4096),
        plan.descr.root_schema_ptr(),
        Arc::new(plan.props.clone()),
    )
    .map_err(parquet_error)?;
    let factory = ArrowRowGroupWriterFactory::new(&file, Arc::clone(&plan.file_schema));
    // Each column of every batch, and a gather from it, once for all row groups.
    let sources: Vec<Vec<&dyn Array>> = (0..plan.file_schema.fields().len())
        .map(|index| {
            batches
                .iter()
                .filter_map(|b| b.columns().get(index).map(AsRef::as_ref))
                .collect()
        })
        .collect();
    let gathers: Vec<crate::gather::Gather<'_>> = sources
        .iter()
        .map(|s| crate::gather::Gather::new(s))
        .collect();
    for (group, rows) in order.chunks(group_rows).enumerate() {
        let mut writers = factory
            .create_column_writers(group)
            .map_err(parquet_error)?
            .into_iter();
        let mut chunks = Vec::new();
        for (field, gather) in plan.file_schema.fields().iter().zip(&gathers) {
            // The writers of this field's leaves, taken when its first piece shows how many.
            let mut field_writers = Vec::new();
            for (n, piece) in rows.chunks(GATHER_ROWS).enumerate() {
                let column = gather.rows(piece).map_err(arrow_error)?;
                let column = conform(&column, field.data_type()).map_err(arrow_error)?;
                let leaves = compute_leaves(field, &column).map_err(parquet_error)?;
                if n == 0 {
                    field_writers = writers.by_ref().take(leaves.len()).collect();
                }
                if field_writers.len() != leaves.len() {
                    return Err(parquet_error(ParquetError::General(format!(
                        "{} leaves of {} for {} column writers",
                        leaves.len(),
                        field.name(),
                        field_writers.len()
                    ))));
                }
                for (writer, leaf) in field_writers.iter_mut().zip(&leaves) {
                    writer.write(leaf).map_err(parquet_error)?;
                }
            }
            for writer in field_writers {
                chunks.push(writer.close().map_err(parquet_error)?);
            }
        }
        let mut row_group = file.next_row_group().map_err(parquet_error)?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(parquet_error)?;
        }
        row_group.close().map_err(parquet_error)?;
    }
    file.into_inner().map_err(parquet_error)
}

/// The writer properties every file of `table` is written with: `opts`' compression and
/// row-group size, the schema id and version in the key-value metadata, the sorting column,
/// and per leaf column the dictionary, encoding, statistics and bloom filter policy of
/// `column_encoding` and [`bloom_columns`].
pub fn writer_properties(table: Table, opts: &ParquetOptions) -> WriterProperties {
    let schema = file_schema(&crate::schema::schema(table), opts.timestamp_unit);
    match ArrowSchemaConverter::new().convert(&schema) {
        Ok(descr) => properties(table, &descr, opts, opts.row_group_rows.max(1) as u64),
        // The table schemas always convert; without leaves there is nothing to set per column.
        Err(_) => base_properties(table, opts).build(),
    }
}

/// The Arrow schema of `table`'s files as `opts` writes them: field ids on every field, time
/// columns in `opts.timestamp_unit` (docs/schema.md#field-ids).
pub fn table_file_schema(table: Table, opts: &ParquetOptions) -> SchemaRef {
    file_schema(&crate::schema::schema(table), opts.timestamp_unit)
}

/// What writing a file in one schema needs besides the rows, computed once per schema.
struct Plan {
    table: Table,
    opts: ParquetOptions,
    /// What the bloom filters are sized for ([`bloom_ndv`]).
    bloom_ndv: u64,
    /// The schema of the rows in memory.
    schema: SchemaRef,
    /// The schema of the rows in the file (`crate::layout`).
    file_schema: SchemaRef,
    descr: SchemaDescriptor,
    /// Per-column settings and footer metadata, the encoded Arrow schema included.
    props: WriterProperties,
}

thread_local! {
    /// Plans of the schemas this thread wrote last: a request usually writes several files of the
    /// same table, and building a plan (schema conversion, Arrow IPC schema encoding, per-column
    /// properties) costs as much as encoding a few hundred rows.
    static PLANS: RefCell<Vec<Arc<Plan>>> = const { RefCell::new(Vec::new()) };
}

/// At most this many plans are kept per thread: one per table, with room for test schemas.
const MAX_PLANS: usize = 64;

fn cached_plan(
    table: Table,
    schema: &SchemaRef,
    opts: &ParquetOptions,
    bloom_ndv: u64,
) -> Result<Arc<Plan>, ParquetError> {
    let found = PLANS.with_borrow(|plans| {
        plans
            .iter()
            .find(|p| {
                p.table == table
                    && p.opts == *opts
                    && p.bloom_ndv == bloom_ndv
                    && (Arc::ptr_eq(&p.schema, schema) || p.schema == *schema)
            })
            .cloned()
    });
    if let Some(plan) = found {
        return Ok(plan);
    }
    let plan = Arc::new(new_plan(table, schema, opts, bloom_ndv)?);
    PLANS.with_borrow_mut(|plans| {
        if plans.len() >= MAX_PLANS {
            plans.remove(0);
        }
        plans.push(Arc::clone(&plan));
    });
    Ok(plan)
}

fn new_plan(
    table: Table,
    schema: &SchemaRef,
    opts: &ParquetOptions,
    bloom_ndv: u64,
) -> Result<Plan, ParquetError> {
    let file_schema = file_schema(schema, opts.timestamp_unit);
    let descr = ArrowSchemaConverter::new().convert(&file_schema)?;
    let mut props = properties(table, &descr, opts, bloom_ndv);
    add_encoded_arrow_schema_to_metadata(&file_schema, &mut props);
    Ok(Plan {
        table,
        opts: *opts,
        bloom_ndv,
        schema: Arc::clone(schema),
        file_schema,
        descr,
        props,
    })
}

/// File-wide settings plus the per-column policy for every leaf of `descr`.
fn properties(
    table: Table,
    descr: &SchemaDescriptor,
    opts: &ParquetOptions,
    bloom_ndv: u64,
) -> WriterProperties {
    let mut builder = base_properties(table, opts);
    let time = crate::merge::time_column(table);
    let mut sorting = Vec::new();
    for (index, column) in descr.columns().iter().enumerate() {
        let path = column.path();
        let policy = column_encoding(path.parts(), column.physical_type());
        builder = apply(builder, path, policy);
        let top_level = path.parts().len() == 1;
        if top_level
            && path.parts().first().is_some_and(|p| p == time)
            && let Ok(column_idx) = i32::try_from(index)
        {
            sorting.push(SortingColumn {
                column_idx,
                descending: false,
                nulls_first: false,
            });
        }
        if opts.bloom_filters
            && top_level
            && path
                .parts()
                .first()
                .is_some_and(|p| bloom_columns(table).contains(&p.as_str()))
        {
            builder = builder
                .set_column_bloom_filter_enabled(path.clone(), true)
                .set_column_bloom_filter_fpp(path.clone(), BLOOM_FILTER_FPP)
                // Sized for the file's largest row group, then folded to what its ids need.
                .set_column_bloom_filter_max_ndv(path.clone(), bloom_ndv);
        }
    }
    builder
        .set_sorting_columns((!sorting.is_empty()).then_some(sorting))
        .build()
}

fn apply(
    mut builder: WriterPropertiesBuilder,
    path: &ColumnPath,
    policy: ColumnEncoding,
) -> WriterPropertiesBuilder {
    if !policy.dictionary {
        builder = builder.set_column_dictionary_enabled(path.clone(), false);
    }
    if let Some(encoding) = policy.encoding {
        builder = builder.set_column_encoding(path.clone(), encoding);
    }
    if policy.statistics != EnabledStatistics::Page {
        builder = builder.set_column_statistics_enabled(path.clone(), policy.statistics);
    }
    builder
}

/// Settings shared by every column of every file.
fn base_properties(table: Table, opts: &ParquetOptions) -> WriterPropertiesBuilder {
    let compression = match opts.compression {
        ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
        ParquetCompression::Snappy => Compression::SNAPPY,
        ParquetCompression::None => Compression::UNCOMPRESSED,
    };
    WriterProperties::builder()
        .set_created_by(format!(
            "otlp2parquet version {VERSION} ({})",
            parquet::file::properties::DEFAULT_CREATED_BY
        ))
        .set_compression(compression)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        // The builder panics on 0; config validation rejects 0, this keeps a stray 0 harmless.
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(SCHEMA_METADATA_KEY.to_owned(), table.schema_id().to_owned()),
            KeyValue::new(VERSION_METADATA_KEY.to_owned(), VERSION.to_owned()),
        ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn unique_columns_have_no_dictionary_and_delta_integers() {
        let ts = column_encoding(&path(&["Timestamp"]), PhysicalType::INT64);
        assert!(!ts.dictionary);
        assert_eq!(ts.encoding, Some(Encoding::DELTA_BINARY_PACKED));
        assert_eq!(ts.statistics, EnabledStatistics::Page);
        let id = column_encoding(&path(&["TraceId"]), PhysicalType::BYTE_ARRAY);
        assert!(!id.dictionary);
        assert_eq!(id.encoding, None);
        let body = column_encoding(&path(&["Body"]), PhysicalType::BYTE_ARRAY);
        assert!(!body.dictionary);
        let value = column_encoding(&path(&["Value"]), PhysicalType::DOUBLE);
        assert!(!value.dictionary);
        assert_eq!(value.encoding, None);
    }

    #[test]
    fn repetitive_columns_keep_the_dictionary() {
        for name in ["ServiceName", "SeverityText", "SpanName", "MetricName"] {
            let c = column_encoding(&path(&[name]), PhysicalType::BYTE_ARRAY);
            assert!(c.dictionary, "{name}");
            assert_eq!(c.statistics, EnabledStatistics::Page, "{name}");
        }
        let start = column_encoding(&path(&["StartTimeUnix"]), PhysicalType::INT64);
        assert!(start.dictionary);
        assert_eq!(start.encoding, None);
    }

    #[test]
    fn map_and_list_leaves() {
        let key = column_encoding(
            &path(&["LogAttributes", "entries", "key"]),
            PhysicalType::BYTE_ARRAY,
        );
        assert!(key.dictionary);
        assert_eq!(key.statistics, EnabledStatistics::None);
        let value = column_encoding(
            &path(&["SpanAttributes", "entries", "value"]),
            PhysicalType::BYTE_ARRAY,
        );
        assert!(!value.dictionary);
        assert_eq!(value.statistics, EnabledStatistics::None);
        let resource = column_encoding(
            &path(&["ResourceAttributes", "entries", "value"]),
            PhysicalType::BYTE_ARRAY,
        );
        assert!(resource.dictionary);
        let nested = column_encoding(
            &path(&["Events.Attributes", "list", "item", "entries", "value"]),
            PhysicalType::BYTE_ARRAY,
        );
        assert!(!nested.dictionary);
        let bounds = column_encoding(
            &path(&["ExplicitBounds", "list", "item"]),
            PhysicalType::DOUBLE,
        );
        assert!(bounds.dictionary);
        assert_eq!(bounds.statistics, EnabledStatistics::None);
        let times = column_encoding(
            &path(&["Events.Timestamp", "list", "item"]),
            PhysicalType::INT64,
        );
        assert_eq!(times.encoding, Some(Encoding::DELTA_BINARY_PACKED));
    }
}
