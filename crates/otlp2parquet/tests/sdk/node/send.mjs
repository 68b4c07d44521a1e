// Sends traces, logs and metrics with the real OpenTelemetry JS SDK as OTLP/JSON.
//
//     node send.mjs ENDPOINT SERVICE none|gzip RUN_ID
//
// These exporters post with `Transfer-Encoding: chunked` and no Content-Length, which is what this
// sender exists to exercise. Every provider is shut down before exiting (that flushes). Prints one
// JSON document on stdout: what was sent, as the rows the server must store (attribute values already
// stringified the way docs/schema.md#value-strings stores them). Exits non-zero when an export did
// not succeed.
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType } from '@opentelemetry/sdk-metrics';

const [endpoint, service, compression, runId] = process.argv.slice(2);
if (!runId || !['none', 'gzip'].includes(compression)) {
  console.error('usage: node send.mjs ENDPOINT SERVICE none|gzip RUN_ID');
  process.exit(2);
}
const N_STEPS = 4;
const BOUNDS = [1, 10, 100];
const LATENCIES = [0.5, 2, 20, 20, 150];
const EXP_VALUES = [0.5, 2, 8, 0];

const failures = [];
// Remembers every export whose result is not SUCCESS (code 0).
function recording(exporter, label) {
  const inner = exporter.export.bind(exporter);
  exporter.export = (items, done) => inner(items, (result) => {
    if (result.code !== 0) failures.push(`${label}: ${result.error ?? result.code}`);
    done(result);
  });
  return exporter;
}

const opts = (path) => ({ url: `${endpoint}${path}`, compression: compression === 'gzip' ? 'gzip' : 'none' });
const resource = resourceFromAttributes({ 'service.name': service, 'test.run_id': runId, 'test.sdk': 'node' });

const tp = new BasicTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(recording(new OTLPTraceExporter(opts('/v1/traces')), 'traces'))],
});
const lp = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: recording(new OTLPLogExporter(opts('/v1/logs')), 'logs') })],
});
const mp = new MeterProvider({
  resource,
  // One collection, at shutdown: the interval is far longer than the run.
  readers: [new PeriodicExportingMetricReader({
    exporter: recording(new OTLPMetricExporter(opts('/v1/metrics')), 'metrics'),
    exportIntervalMillis: 3_600_000,
  })],
  views: [
    { instrumentName: 'sdk.latency', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: BOUNDS } } },
    { instrumentName: 'sdk.latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
  ],
});

const spans = [];
const logs = [];
const tracer = tp.getTracer('sdk-test.tracer', '1.2.3');
const logger = lp.getLogger('sdk-test.logger', '1.2.3');

const root = tracer.startSpan('POST /orders', {
  kind: SpanKind.SERVER,
  attributes: { 'http.request.method': 'POST', 'http.response.status_code': 201, 'test.run_id': runId },
});
root.addEvent('request.received', { bytes: 64 });
const rootCtx = trace.setSpan(context.active(), root);
for (let i = 0; i < N_STEPS; i++) {
  const child = tracer.startSpan(`db-${i}`, { kind: SpanKind.CLIENT }, rootCtx);
  child.setAttributes({ 'db.index': i, 'db.ratio': 0.75, 'db.cached': i % 2 === 1, 'db.tags': ['x', 'y'] });
  const events = [];
  if (i === N_STEPS - 1) {
    child.recordException(new Error('connection reset'));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'db failed' });
    events.push('exception');
  }
  const sc = child.spanContext();
  spans.push({
    name: `db-${i}`, kind: 'SPAN_KIND_CLIENT', trace_id: sc.traceId, span_id: sc.spanId,
    parent_span_id: root.spanContext().spanId,
    status_code: events.length ? 'STATUS_CODE_ERROR' : 'STATUS_CODE_UNSET',
    status_message: events.length ? 'db failed' : '',
    attributes: { 'db.index': String(i), 'db.ratio': '0.75', 'db.cached': String(i % 2 === 1), 'db.tags': '["x","y"]' },
    events,
  });
  // A log emitted in the child's context carries its trace and span ids.
  const [severityNumber, severityText] = [
    [SeverityNumber.DEBUG, 'DEBUG'], [SeverityNumber.INFO, 'INFO'], [SeverityNumber.WARN, 'WARN'], [SeverityNumber.ERROR, 'ERROR'],
  ][i % 4];
  const body = `query ${i} finished`;
  logger.emit({
    severityNumber, severityText, body, attributes: { 'db.index': i, 'run.id': runId },
    context: trace.setSpan(context.active(), child),
  });
  logs.push({
    body, severity_text: severityText, severity_number: severityNumber,
    attributes: { 'db.index': String(i), 'run.id': runId }, trace_id: sc.traceId, span_id: sc.spanId,
  });
  child.end();
}
root.setStatus({ code: SpanStatusCode.OK });
root.end();
const rc = root.spanContext();
spans.unshift({
  name: 'POST /orders', kind: 'SPAN_KIND_SERVER', trace_id: rc.traceId, span_id: rc.spanId, parent_span_id: '',
  status_code: 'STATUS_CODE_OK', status_message: '',
  attributes: { 'http.request.method': 'POST', 'http.response.status_code': '201', 'test.run_id': runId },
  events: ['request.received'],
});

// Outside any span: no trace context; a structured (map) body.
logger.emit({ severityNumber: SeverityNumber.FATAL, severityText: 'FATAL', body: 'disk full', attributes: { 'disk.free': 0, retryable: false } });
logs.push({ body: 'disk full', severity_text: 'FATAL', severity_number: SeverityNumber.FATAL, attributes: { 'disk.free': '0', retryable: 'false' }, trace_id: '', span_id: '' });
logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: { user: 'bob', n: 2 } });
logs.push({ body: '{"n":2,"user":"bob"}', severity_text: 'INFO', severity_number: SeverityNumber.INFO, attributes: {}, trace_id: '', span_id: '' });

const meter = mp.getMeter('sdk-test.meter', '0.1.0');
const requests = meter.createCounter('sdk.requests', { unit: '1', description: 'requests served' });
requests.add(2, { route: '/x' });
requests.add(9, { route: '/x' });
requests.add(1, { route: '/y' });
const inflight = meter.createUpDownCounter('sdk.inflight');
inflight.add(10);
inflight.add(-4);
const latency = meter.createHistogram('sdk.latency', { unit: 'ms' });
for (const v of LATENCIES) latency.record(v, { route: '/x' });
const latencyExp = meter.createHistogram('sdk.latency.exp', { unit: 'ms' });
for (const v of EXP_VALUES) latencyExp.record(v);
meter.createObservableGauge('sdk.temperature').addCallback((r) => r.observe(18.25, { room: 'hall' }));
meter.createObservableCounter('sdk.cpu.time').addCallback((r) => r.observe(4321, { cpu: '1' }));
meter.createObservableUpDownCounter('sdk.queue.depth').addCallback((r) => r.observe(-3));

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const buckets = new Array(BOUNDS.length + 1).fill(0);
for (const v of LATENCIES) {
  const i = BOUNDS.findIndex((b) => v <= b);
  buckets[i === -1 ? BOUNDS.length : i] += 1;
}
const metrics = {
  sum: [
    { name: 'sdk.requests', attributes: { route: '/x' }, value: 11, is_monotonic: true },
    { name: 'sdk.requests', attributes: { route: '/y' }, value: 1, is_monotonic: true },
    { name: 'sdk.inflight', attributes: {}, value: 6, is_monotonic: false },
    { name: 'sdk.cpu.time', attributes: { cpu: '1' }, value: 4321, is_monotonic: true },
    { name: 'sdk.queue.depth', attributes: {}, value: -3, is_monotonic: false },
  ],
  gauge: [{ name: 'sdk.temperature', attributes: { room: 'hall' }, value: 18.25 }],
  histogram: [{
    name: 'sdk.latency', attributes: { route: '/x' }, count: LATENCIES.length, sum: sum(LATENCIES),
    min: Math.min(...LATENCIES), max: Math.max(...LATENCIES), bounds: BOUNDS, bucket_counts: buckets,
  }],
  exponential_histogram: [{
    name: 'sdk.latency.exp', attributes: {}, count: EXP_VALUES.length, sum: sum(EXP_VALUES),
    min: Math.min(...EXP_VALUES), max: Math.max(...EXP_VALUES), zero_count: EXP_VALUES.filter((v) => v === 0).length,
  }],
};

await tp.shutdown();
await lp.shutdown();
await mp.shutdown();
if (failures.length) {
  console.error(`exports failed: ${failures.join('; ')}`);
  process.exit(1);
}
process.stdout.write(JSON.stringify({ sdk: 'node', service, run_id: runId, spans, logs, metrics }, null, 1));
