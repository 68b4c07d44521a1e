//! `MetricsRequest` → partitions of the five metric tables (docs/schema.md#metrics): one row
//! per data point, every point of every kind stored.

mod kinds;

use arrow_array::types::{Float64Type, TimestampNanosecondType};
use otlp2parquet_common::MetricKind;
use otlp2parquet_proto::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, KeyValue, Metric, MetricData,
    MetricsRequest, NumberDataPoint, SummaryDataPoint,
};

use super::attrs::{AttrWriter, map_col};
use super::columns::{Batch, ListCol, MapCol, PrimCol, StrCol};
use super::context::{Contexts, Parts, ResourceScopeCols};
use super::group::{Groups, or_received, timestamp};
use crate::ids::hex_id;
use crate::schema::common::{
    RESOURCE_ATTRIBUTES, RESOURCE_SCHEMA_URL, SCOPE_ATTRIBUTES, SCOPE_DROPPED_ATTR_COUNT,
    SCOPE_NAME, SCOPE_SCHEMA_URL, SCOPE_VERSION, SERVICE_NAME,
};
use crate::schema::metrics::{
    ATTRIBUTES, EXEMPLARS_FILTERED_ATTRIBUTES, EXEMPLARS_SPAN_ID, EXEMPLARS_TIME_UNIX,
    EXEMPLARS_TRACE_ID, EXEMPLARS_VALUE, METRIC_DESCRIPTION, METRIC_NAME, METRIC_UNIT,
    START_TIME_UNIX, TIME_UNIX,
};
use crate::{Partition, Table, WriterError};

/// One data point, with the metric and the kind-specific data (temporality, monotonicity)
/// it belongs to.
pub(crate) struct PointRow<'r, D, P> {
    scope: usize,
    metric: &'r Metric<'r>,
    data: &'r D,
    point: &'r P,
}

/// What every data point kind has: attributes, times, exemplars.
pub(crate) trait Point {
    fn attributes(&self) -> &[KeyValue<'_>];
    fn start_time_unix_nano(&self) -> u64;
    fn time_unix_nano(&self) -> u64;
    fn exemplars(&self) -> &[Exemplar<'_>];
}

macro_rules! point {
    ($t:ident) => {
        impl Point for $t<'_> {
            fn attributes(&self) -> &[KeyValue<'_>] {
                &self.attributes
            }
            fn start_time_unix_nano(&self) -> u64 {
                self.start_time_unix_nano
            }
            fn time_unix_nano(&self) -> u64 {
                self.time_unix_nano
            }
            fn exemplars(&self) -> &[Exemplar<'_>] {
                &self.exemplars
            }
        }
    };
}
point!(NumberDataPoint);
point!(HistogramDataPoint);
point!(ExponentialHistogramDataPoint);

impl Point for SummaryDataPoint<'_> {
    fn attributes(&self) -> &[KeyValue<'_>] {
        &self.attributes
    }
    fn start_time_unix_nano(&self) -> u64 {
        self.start_time_unix_nano
    }
    fn time_unix_nano(&self) -> u64 {
        self.time_unix_nano
    }
    fn exemplars(&self) -> &[Exemplar<'_>] {
        &[]
    }
}

/// A point's and its exemplars' stored times must fit `Timestamp(ns)`.
fn check_times(p: &impl Point, at: &dyn Fn() -> String) -> Result<i64, WriterError> {
    timestamp(p.start_time_unix_nano(), || {
        format!("{}.start_time_unix_nano", at())
    })?;
    for (x, e) in p.exemplars().iter().enumerate() {
        timestamp(e.time_unix_nano, || {
            format!("{}.exemplars[{x}].time_unix_nano", at())
        })?;
    }
    timestamp(p.time_unix_nano(), || format!("{}.time_unix_nano", at()))
}

/// Per-kind groups of one request.
struct KindGroups<'r> {
    gauge: Groups<PointRow<'r, otlp2parquet_proto::Gauge<'r>, NumberDataPoint<'r>>>,
    sum: Groups<PointRow<'r, otlp2parquet_proto::Sum<'r>, NumberDataPoint<'r>>>,
    histogram: Groups<PointRow<'r, otlp2parquet_proto::Histogram<'r>, HistogramDataPoint<'r>>>,
    exponential: Groups<
        PointRow<
            'r,
            otlp2parquet_proto::ExponentialHistogram<'r>,
            ExponentialHistogramDataPoint<'r>,
        >,
    >,
    summary: Groups<PointRow<'r, otlp2parquet_proto::Summary<'r>, SummaryDataPoint<'r>>>,
}

/// Point counts per kind, to size each kind's first group.
fn counts(req: &MetricsRequest<'_>) -> [usize; 5] {
    let mut c = [0usize; 5];
    let metrics = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics);
    for m in metrics {
        let (slot, n) = match &m.data {
            MetricData::None => continue,
            MetricData::Gauge(d) => (0, d.data_points.len()),
            MetricData::Sum(d) => (1, d.data_points.len()),
            MetricData::Histogram(d) => (2, d.data_points.len()),
            MetricData::ExponentialHistogram(d) => (3, d.data_points.len()),
            MetricData::Summary(d) => (4, d.data_points.len()),
        };
        if let Some(s) = c.get_mut(slot) {
            *s += n;
        }
    }
    c
}

/// Where a point goes: its scope, service and repeated bytes.
#[derive(Clone, Copy)]
struct Place {
    scope: usize,
    service: usize,
    repeat: u64,
    received_at_ns: i64,
}

fn add<'r, D, P: Point>(
    groups: &mut Groups<PointRow<'r, D, P>>,
    place: Place,
    metric: &'r Metric<'r>,
    data: &'r D,
    points: &'r [P],
    at: &dyn Fn() -> String,
) -> Result<(), WriterError> {
    for (n, point) in points.iter().enumerate() {
        let t = check_times(point, &|| format!("{}.data_points[{n}]", at()))?;
        let row = PointRow {
            scope: place.scope,
            metric,
            data,
            point,
        };
        groups.push(
            place.service,
            place.repeat,
            or_received(t, place.received_at_ns),
            row,
        );
    }
    Ok(())
}

/// Converts a metrics request into one partition per (metric table, safe service, hour).
///
/// A point's time is `time_unix_nano`, else `received_at_ns`; `StartTimeUnix` is stored as sent.
pub fn convert_metrics(
    req: &MetricsRequest<'_>,
    received_at_ns: i64,
) -> Result<Vec<Partition>, WriterError> {
    let [g, s, h, e, q] = counts(req);
    let mut k = KindGroups {
        gauge: Groups::new(g),
        sum: Groups::new(s),
        histogram: Groups::new(h),
        exponential: Groups::new(e),
        summary: Groups::new(q),
    };
    let mut w = AttrWriter::default();
    let mut ctx = Contexts::default();
    for (i, rm) in req.resource_metrics.iter().enumerate() {
        let resource = ctx.add_resource(&rm.resource, &rm.schema_url, &mut w);
        for (j, sm) in rm.scope_metrics.iter().enumerate() {
            let scope = ctx.add_scope(resource, &sm.scope, &sm.schema_url, &mut w);
            let (service, repeat) = ctx
                .scope(scope)
                .map_or((0, 0), |s| (s.service_id, s.repeat_bytes));
            let place = Place {
                scope,
                service,
                repeat,
                received_at_ns,
            };
            for (m, metric) in sm.metrics.iter().enumerate() {
                let at = || format!("resource_metrics[{i}].scope_metrics[{j}].metrics[{m}]");
                match &metric.data {
                    MetricData::None => {}
                    MetricData::Gauge(d) => {
                        add(&mut k.gauge, place, metric, d, &d.data_points, &at)?
                    }
                    MetricData::Sum(d) => add(&mut k.sum, place, metric, d, &d.data_points, &at)?,
                    MetricData::Histogram(d) => {
                        add(&mut k.histogram, place, metric, d, &d.data_points, &at)?;
                    }
                    MetricData::ExponentialHistogram(d) => {
                        add(&mut k.exponential, place, metric, d, &d.data_points, &at)?;
                    }
                    MetricData::Summary(d) => {
                        add(&mut k.summary, place, metric, d, &d.data_points, &at)?;
                    }
                }
            }
        }
    }

    let mut out = Vec::new();
    let table = |kind| Table::Metrics(kind);
    for g in k.gauge.finish() {
        out.push(g.into_partition(table(MetricKind::Gauge), &ctx, |r| {
            kinds::gauge(r, &ctx, &mut w)
        })?);
    }
    for g in k.sum.finish() {
        out.push(g.into_partition(table(MetricKind::Sum), &ctx, |r| {
            kinds::sum(r, &ctx, &mut w)
        })?);
    }
    for g in k.histogram.finish() {
        let t = table(MetricKind::Histogram);
        out.push(g.into_partition(t, &ctx, |r| kinds::histogram(r, &ctx, &mut w))?);
    }
    for g in k.exponential.finish() {
        let t = table(MetricKind::ExponentialHistogram);
        out.push(g.into_partition(t, &ctx, |r| kinds::exponential_histogram(r, &ctx, &mut w))?);
    }
    for g in k.summary.finish() {
        out.push(g.into_partition(table(MetricKind::Summary), &ctx, |r| {
            kinds::summary(r, &ctx, &mut w)
        })?);
    }
    Ok(out)
}

/// The 14 leading columns every metric table shares.
pub(crate) struct Leading {
    rs: ResourceScopeCols,
    name: StrCol,
    description: StrCol,
    unit: StrCol,
    attributes: MapCol,
    start_time: PrimCol<TimestampNanosecondType>,
    time: PrimCol<TimestampNanosecondType>,
}

impl Leading {
    /// Columns sized for `rows`.
    pub(crate) fn with_capacity<D, P: Point>(
        ctx: &Contexts<'_>,
        rows: &[super::group::Timed<PointRow<'_, D, P>>],
    ) -> Self {
        let n = rows.len();
        let parts = Parts {
            schema_urls: true,
            scope_attributes: true,
            scope_dropped: true,
        };
        let metric_bytes = |f: fn(&Metric<'_>) -> usize| rows.iter().map(|r| f(r.row.metric)).sum();
        Self {
            rs: ResourceScopeCols::with_capacity(ctx, rows.iter().map(|r| r.row.scope), parts),
            name: StrCol::with_capacity(n, metric_bytes(|m| m.name.len())),
            description: StrCol::with_capacity(n, metric_bytes(|m| m.description.len())),
            unit: StrCol::with_capacity(n, metric_bytes(|m| m.unit.len())),
            attributes: map_col(rows.iter().map(|r| r.row.point.attributes())),
            start_time: PrimCol::with_capacity(n),
            time: PrimCol::with_capacity(n),
        }
    }

    /// Appends the leading columns of one point stored at `time`.
    pub(crate) fn append<D, P: Point>(
        &mut self,
        ctx: &Contexts<'_>,
        row: &PointRow<'_, D, P>,
        time: i64,
        w: &mut AttrWriter,
    ) {
        self.rs.append(ctx, row.scope);
        self.name.push(&row.metric.name);
        self.description.push(&row.metric.description);
        self.unit.push(&row.metric.unit);
        w.append(&mut self.attributes, row.point.attributes());
        // Checked while grouping: every start time fits.
        self.start_time
            .push(i64::try_from(row.point.start_time_unix_nano()).unwrap_or(i64::MAX));
        self.time.push(time);
    }

    pub(crate) fn push_into(self, b: &mut Batch) -> Result<(), WriterError> {
        let rs = self.rs;
        b.push(RESOURCE_ATTRIBUTES, rs.resource_attrs)?;
        b.push(RESOURCE_SCHEMA_URL, rs.resource_schema_url)?;
        b.push(SCOPE_NAME, rs.scope_name)?;
        b.push(SCOPE_VERSION, rs.scope_version)?;
        b.push(SCOPE_ATTRIBUTES, rs.scope_attrs)?;
        b.push(SCOPE_DROPPED_ATTR_COUNT, rs.scope_dropped)?;
        b.push(SCOPE_SCHEMA_URL, rs.scope_schema_url)?;
        b.push(SERVICE_NAME, rs.service)?;
        b.push(METRIC_NAME, self.name)?;
        b.push(METRIC_DESCRIPTION, self.description)?;
        b.push(METRIC_UNIT, self.unit)?;
        b.push(ATTRIBUTES, self.attributes)?;
        b.push(START_TIME_UNIX, self.start_time)?;
        b.push(TIME_UNIX, self.time)
    }
}

/// The five `Exemplars.*` list columns.
pub(crate) struct ExemplarCols {
    filtered_attributes: ListCol<MapCol>,
    time: ListCol<PrimCol<TimestampNanosecondType>>,
    value: ListCol<PrimCol<Float64Type>>,
    span_id: ListCol<StrCol>,
    trace_id: ListCol<StrCol>,
}

impl ExemplarCols {
    pub(crate) fn with_capacity(n: usize, exemplars: usize) -> Self {
        let e = exemplars;
        Self {
            filtered_attributes: ListCol::new(n, MapCol::with_capacity(e, e, e * 32)),
            time: ListCol::new(n, PrimCol::with_capacity(e)),
            value: ListCol::new(n, PrimCol::with_capacity(e)),
            span_id: ListCol::new(n, StrCol::with_capacity(e, e * 16)),
            trace_id: ListCol::new(n, StrCol::with_capacity(e, e * 32)),
        }
    }

    pub(crate) fn append(&mut self, exemplars: &[Exemplar<'_>], w: &mut AttrWriter) {
        let mut hex = [0u8; 32];
        for x in exemplars {
            w.append(self.filtered_attributes.items(), &x.filtered_attributes);
            // Checked while grouping: every exemplar time fits.
            self.time
                .items()
                .push(i64::try_from(x.time_unix_nano).unwrap_or(i64::MAX));
            self.value.items().push(x.value.as_f64());
            self.span_id.items().push(hex_id(&x.span_id, &mut hex));
            self.trace_id.items().push(hex_id(&x.trace_id, &mut hex));
        }
        self.filtered_attributes.close();
        self.time.close();
        self.value.close();
        self.span_id.close();
        self.trace_id.close();
    }

    pub(crate) fn push_into(self, b: &mut Batch) -> Result<(), WriterError> {
        b.push(EXEMPLARS_FILTERED_ATTRIBUTES, self.filtered_attributes)?;
        b.push(EXEMPLARS_TIME_UNIX, self.time)?;
        b.push(EXEMPLARS_VALUE, self.value)?;
        b.push(EXEMPLARS_SPAN_ID, self.span_id)?;
        b.push(EXEMPLARS_TRACE_ID, self.trace_id)
    }
}

/// Number of exemplars of the rows, to size the exemplar columns.
pub(crate) fn exemplar_count<D, P: Point>(
    rows: &[super::group::Timed<PointRow<'_, D, P>>],
) -> usize {
    rows.iter().map(|r| r.row.point.exemplars().len()).sum()
}
