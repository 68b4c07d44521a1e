//! The kind-specific columns of the five metric tables.

use arrow_array::RecordBatch;
use arrow_array::types::{Float64Type, Int32Type, UInt32Type, UInt64Type};
use otlp2parquet_common::MetricKind;
use otlp2parquet_proto::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    NumberDataPoint, Sum, Summary, SummaryDataPoint,
};

use super::{ExemplarCols, Leading, Point, PointRow, exemplar_count};
use crate::convert::attrs::AttrWriter;
use crate::convert::columns::{Batch, BoolCol, ListCol, PrimCol};
use crate::convert::context::Contexts;
use crate::convert::group::Timed;
use crate::schema::metrics::{
    AGGREGATION_TEMPORALITY, BUCKET_COUNTS, COUNT, EXPLICIT_BOUNDS, FLAGS, IS_MONOTONIC, MAX, MIN,
    NEGATIVE_BUCKET_COUNTS, NEGATIVE_OFFSET, POSITIVE_BUCKET_COUNTS, POSITIVE_OFFSET, SCALE, SUM,
    VALUE, VALUE_AT_QUANTILES_QUANTILE, VALUE_AT_QUANTILES_VALUE, ZERO_COUNT,
};
use crate::{Table, WriterError};

type Rows<'a, 'r, D, P> = &'a [Timed<PointRow<'r, D, P>>];

/// Leading and exemplar columns, sized for `rows`.
fn shared<D, P: Point>(rows: Rows<'_, '_, D, P>, ctx: &Contexts<'_>) -> (Leading, ExemplarCols) {
    let n = rows.len();
    (
        Leading::with_capacity(ctx, rows),
        ExemplarCols::with_capacity(n, exemplar_count(rows)),
    )
}

/// `Value` Float64 and `Flags` UInt32 of number points.
struct NumberCols {
    value: PrimCol<Float64Type>,
    flags: PrimCol<UInt32Type>,
}

impl NumberCols {
    fn with_capacity(n: usize) -> Self {
        Self {
            value: PrimCol::with_capacity(n),
            flags: PrimCol::with_capacity(n),
        }
    }
    fn append(&mut self, p: &NumberDataPoint<'_>) {
        self.value.push(p.value.as_f64());
        self.flags.push(p.flags);
    }
    fn push_into(self, b: &mut Batch) -> Result<(), WriterError> {
        b.push(VALUE, self.value)?;
        b.push(FLAGS, self.flags)
    }
}

/// The histogram tables' `Flags`, `Min`, `Max`, `AggregationTemporality`.
struct HistogramTail {
    flags: PrimCol<UInt32Type>,
    min: PrimCol<Float64Type>,
    max: PrimCol<Float64Type>,
    temporality: PrimCol<Int32Type>,
}

impl HistogramTail {
    fn with_capacity(n: usize) -> Self {
        Self {
            flags: PrimCol::with_capacity(n),
            min: PrimCol::with_capacity(n),
            max: PrimCol::with_capacity(n),
            temporality: PrimCol::with_capacity(n),
        }
    }
    fn append(&mut self, flags: u32, min: Option<f64>, max: Option<f64>, temporality: i32) {
        self.flags.push(flags);
        self.min.push(min.unwrap_or(0.0));
        self.max.push(max.unwrap_or(0.0));
        self.temporality.push(temporality);
    }
    fn push_into(self, b: &mut Batch) -> Result<(), WriterError> {
        b.push(FLAGS, self.flags)?;
        b.push(MIN, self.min)?;
        b.push(MAX, self.max)?;
        b.push(AGGREGATION_TEMPORALITY, self.temporality)
    }
}

pub(super) fn gauge(
    rows: Rows<'_, '_, Gauge<'_>, NumberDataPoint<'_>>,
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let (mut leading, mut exemplars) = shared(rows, ctx);
    let mut number = NumberCols::with_capacity(rows.len());
    for Timed { time, row } in rows {
        leading.append(ctx, row, *time, w);
        number.append(row.point);
        exemplars.append(&row.point.exemplars, w);
    }
    let mut b = Batch::new(Table::Metrics(MetricKind::Gauge));
    leading.push_into(&mut b)?;
    number.push_into(&mut b)?;
    exemplars.push_into(&mut b)?;
    b.finish()
}

pub(super) fn sum(
    rows: Rows<'_, '_, Sum<'_>, NumberDataPoint<'_>>,
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let n = rows.len();
    let (mut leading, mut exemplars) = shared(rows, ctx);
    let mut number = NumberCols::with_capacity(n);
    let mut temporality = PrimCol::<Int32Type>::with_capacity(n);
    let mut monotonic = BoolCol::with_capacity(n);
    for Timed { time, row } in rows {
        leading.append(ctx, row, *time, w);
        number.append(row.point);
        exemplars.append(&row.point.exemplars, w);
        temporality.push(row.data.aggregation_temporality);
        monotonic.push(row.data.is_monotonic);
    }
    let mut b = Batch::new(Table::Metrics(MetricKind::Sum));
    leading.push_into(&mut b)?;
    number.push_into(&mut b)?;
    exemplars.push_into(&mut b)?;
    b.push(AGGREGATION_TEMPORALITY, temporality)?;
    b.push(IS_MONOTONIC, monotonic)?;
    b.finish()
}

pub(super) fn histogram(
    rows: Rows<'_, '_, Histogram<'_>, HistogramDataPoint<'_>>,
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let n = rows.len();
    let buckets: usize = rows.iter().map(|r| r.row.point.bucket_counts.len()).sum();
    let bounds: usize = rows.iter().map(|r| r.row.point.explicit_bounds.len()).sum();
    let (mut leading, mut exemplars) = shared(rows, ctx);
    let mut count = PrimCol::<UInt64Type>::with_capacity(n);
    let mut sum = PrimCol::<Float64Type>::with_capacity(n);
    let mut bucket_counts = ListCol::new(n, PrimCol::<UInt64Type>::with_capacity(buckets));
    let mut explicit_bounds = ListCol::new(n, PrimCol::<Float64Type>::with_capacity(bounds));
    let mut tail = HistogramTail::with_capacity(n);
    for Timed { time, row } in rows {
        let p = row.point;
        leading.append(ctx, row, *time, w);
        count.push(p.count);
        sum.push(p.sum.unwrap_or(0.0));
        bucket_counts.push_row(&p.bucket_counts);
        explicit_bounds.push_row(&p.explicit_bounds);
        exemplars.append(&p.exemplars, w);
        tail.append(p.flags, p.min, p.max, row.data.aggregation_temporality);
    }
    let mut b = Batch::new(Table::Metrics(MetricKind::Histogram));
    leading.push_into(&mut b)?;
    b.push(COUNT, count)?;
    b.push(SUM, sum)?;
    b.push(BUCKET_COUNTS, bucket_counts)?;
    b.push(EXPLICIT_BOUNDS, explicit_bounds)?;
    exemplars.push_into(&mut b)?;
    tail.push_into(&mut b)?;
    b.finish()
}

pub(super) fn exponential_histogram(
    rows: Rows<'_, '_, ExponentialHistogram<'_>, ExponentialHistogramDataPoint<'_>>,
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let n = rows.len();
    let pos: usize = rows
        .iter()
        .map(|r| r.row.point.positive.bucket_counts.len())
        .sum();
    let neg: usize = rows
        .iter()
        .map(|r| r.row.point.negative.bucket_counts.len())
        .sum();
    let (mut leading, mut exemplars) = shared(rows, ctx);
    let mut count = PrimCol::<UInt64Type>::with_capacity(n);
    let mut sum = PrimCol::<Float64Type>::with_capacity(n);
    let mut scale = PrimCol::<Int32Type>::with_capacity(n);
    let mut zero_count = PrimCol::<UInt64Type>::with_capacity(n);
    let mut positive_offset = PrimCol::<Int32Type>::with_capacity(n);
    let mut positive_counts = ListCol::new(n, PrimCol::<UInt64Type>::with_capacity(pos));
    let mut negative_offset = PrimCol::<Int32Type>::with_capacity(n);
    let mut negative_counts = ListCol::new(n, PrimCol::<UInt64Type>::with_capacity(neg));
    let mut tail = HistogramTail::with_capacity(n);
    for Timed { time, row } in rows {
        let p = row.point;
        leading.append(ctx, row, *time, w);
        count.push(p.count);
        sum.push(p.sum.unwrap_or(0.0));
        scale.push(p.scale);
        zero_count.push(p.zero_count);
        positive_offset.push(p.positive.offset);
        positive_counts.push_row(&p.positive.bucket_counts);
        negative_offset.push(p.negative.offset);
        negative_counts.push_row(&p.negative.bucket_counts);
        exemplars.append(&p.exemplars, w);
        tail.append(p.flags, p.min, p.max, row.data.aggregation_temporality);
    }
    let mut b = Batch::new(Table::Metrics(MetricKind::ExponentialHistogram));
    leading.push_into(&mut b)?;
    b.push(COUNT, count)?;
    b.push(SUM, sum)?;
    b.push(SCALE, scale)?;
    b.push(ZERO_COUNT, zero_count)?;
    b.push(POSITIVE_OFFSET, positive_offset)?;
    b.push(POSITIVE_BUCKET_COUNTS, positive_counts)?;
    b.push(NEGATIVE_OFFSET, negative_offset)?;
    b.push(NEGATIVE_BUCKET_COUNTS, negative_counts)?;
    exemplars.push_into(&mut b)?;
    tail.push_into(&mut b)?;
    b.finish()
}

pub(super) fn summary(
    rows: Rows<'_, '_, Summary<'_>, SummaryDataPoint<'_>>,
    ctx: &Contexts<'_>,
    w: &mut AttrWriter,
) -> Result<RecordBatch, WriterError> {
    let n = rows.len();
    let quantiles: usize = rows.iter().map(|r| r.row.point.quantile_values.len()).sum();
    let mut leading = Leading::with_capacity(ctx, rows);
    let mut count = PrimCol::<UInt64Type>::with_capacity(n);
    let mut sum = PrimCol::<Float64Type>::with_capacity(n);
    let mut quantile = ListCol::new(n, PrimCol::<Float64Type>::with_capacity(quantiles));
    let mut value = ListCol::new(n, PrimCol::<Float64Type>::with_capacity(quantiles));
    let mut flags = PrimCol::<UInt32Type>::with_capacity(n);
    for Timed { time, row } in rows {
        let p = row.point;
        leading.append(ctx, row, *time, w);
        count.push(p.count);
        sum.push(p.sum);
        for q in &p.quantile_values {
            quantile.items().push(q.quantile);
            value.items().push(q.value);
        }
        quantile.close();
        value.close();
        flags.push(p.flags);
    }
    let mut b = Batch::new(Table::Metrics(MetricKind::Summary));
    leading.push_into(&mut b)?;
    b.push(COUNT, count)?;
    b.push(SUM, sum)?;
    b.push(VALUE_AT_QUANTILES_QUANTILE, quantile)?;
    b.push(VALUE_AT_QUANTILES_VALUE, value)?;
    b.push(FLAGS, flags)?;
    b.finish()
}
