// End to end: spans sent over OTLP/HTTP JSON by the real OpenTelemetry JS
// SDK exporter are found through Tempo's GET /api/search with TraceQL, as
// Grafana calls it (JSON and protobuf answers, Tempo's error texts), with
// one flush in between so traces span the buffer and a Parquet file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

import { Server, tempDataDir } from './lib/server.mjs';
import protobuf from 'protobufjs';
import { loadRoot } from './lib/proto.mjs';

const dataDir = tempDataDir('search');
const server = new Server(dataDir, { SIGNALDB_WRITER__FLUSH_INTERVAL: '200ms' });
const protoRoot = loadRoot();
after(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const t0 = 1700000000;  // seconds

async function send(service, build) {
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${server.ports.otlpHttp}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  build(provider.getTracer('it-search'));
  await provider.forceFlush();
  await provider.shutdown();
}

async function search(params, accept) {
  const url = new URL(`${server.baseUrl}/tempo/api/search`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return fetch(url, accept ? { headers: { Accept: accept } } : {});
}

async function searchJson(params) {
  const res = await search(params);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.match(res.headers.get('content-type'), /application\/json/);
  return JSON.parse(body);
}

let checkoutId;
let checkoutRootSpanId;
let cartId;
let cartRootSpanId;

test('ingest traces with the SDK over OTLP/HTTP JSON, one flush between them', async () => {
  await server.start();
  await send('it-frontend', (tracer) => {
    const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: [t0, 0] });
    checkoutId = root.spanContext().traceId;
    checkoutRootSpanId = root.spanContext().spanId;
    const ctx = trace.setSpan(context.active(), root);
    const charge = tracer.startSpan('charge', { kind: SpanKind.CLIENT, startTime: [t0, 10e6],
      attributes: { 'http.response.status_code': 502, 'payment.amount': 12.5 } }, ctx);
    charge.setStatus({ code: SpanStatusCode.ERROR, message: 'declined' });
    charge.end([t0, 60e6]);
    root.end([t0, 200e6]);
  });
  // Wait for the first trace to be flushed to a Parquet file and that file
  // committed (searches plan it: they inspect its bytes).
  for (let i = 0; ; ++i) {
    const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST',
      body: "SELECT count(*) FROM duckdb_tables() WHERE false" });
    assert.equal(res.status, 200);
    const files = fs.readdirSync(dataDir, { recursive: true }).filter((f) => String(f).endsWith('.parquet'));
    const planned = files.length > 0 && Number((await searchJson({ q: '{ }' })).metrics.inspectedBytes) > 0;
    if (planned) break;
    assert.ok(i < 100, 'no committed Parquet file after 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await send('it-cart', (tracer) => {
    const root = tracer.startSpan('GET /cart', { kind: SpanKind.SERVER, startTime: [t0 + 10, 0],
      attributes: { 'http.request.method': 'GET' } });
    cartId = root.spanContext().traceId;
    cartRootSpanId = root.spanContext().spanId;
    root.end([t0 + 10, 30e6]);
  });
});

test('TraceQL search answers as Tempo does', async () => {
  const strip = (id) => id.replace(/^0+/, '');
  let body = await searchJson({ q: '{ span.http.response.status_code >= 500 && status = error }' });
  assert.equal(body.traces.length, 1);
  const t = body.traces[0];
  assert.equal(t.traceID, strip(checkoutId));
  assert.equal(t.rootServiceName, 'it-frontend');
  assert.equal(t.rootTraceName, 'GET /checkout');
  assert.equal(t.startTimeUnixNano, `${t0}000000000`);
  assert.equal(t.durationMs, 200);
  assert.equal(t.spanSets[0].matched, 1);
  assert.deepEqual(t.spanSet, t.spanSets[0]);
  const span = t.spanSets[0].spans[0];
  assert.match(span.spanID, /^[0-9a-f]{16}$/);
  assert.equal(span.durationNanos, '50000000');
  const attrs = Object.fromEntries(span.attributes.map((a) => [a.key, a.value]));
  assert.deepEqual(attrs['http.response.status_code'], { intValue: '502' });
  assert.deepEqual(attrs.status, { stringValue: 'error' });
  assert.deepEqual(t.serviceStats, { 'it-frontend': { spanCount: 2, errorCount: 1 } });
  assert.ok(Number(body.metrics.inspectedBytes) > 0);

  // Newest first; a structural query; the legacy tags parameter.
  body = await searchJson({ q: '{ }' });
  assert.deepEqual(body.traces.map((x) => x.traceID), [strip(cartId), strip(checkoutId)]);
  body = await searchJson({ q: '{ kind = server } > { .payment.amount > 10 }' });
  assert.deepEqual(body.traces.map((x) => x.traceID), [strip(checkoutId)]);
  body = await searchJson({ tags: 'http.request.method=get' });
  assert.deepEqual(body.traces.map((x) => x.traceID), [strip(cartId)]);
  body = await searchJson({ q: '{ }', limit: '1' });
  assert.equal(body.traces.length, 1);
  body = await searchJson({ q: '{ }', minDuration: '100ms' });
  assert.deepEqual(body.traces.map((x) => x.traceID), [strip(checkoutId)]);
  body = await searchJson({ q: '{ }', start: String(t0 + 5), end: String(t0 + 20) });
  assert.deepEqual(body.traces.map((x) => x.traceID), [strip(cartId)]);
  body = await searchJson({ q: '{ name = "no such span" }' });
  assert.equal(body.traces, undefined);  // an empty list is omitted, as jsonpb does

  // Protobuf, as Grafana may ask for it.
  const res = await search({ q: '{ resource.service.name = "it-cart" }' }, 'application/protobuf');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/protobuf');
  const T = protoRoot.lookupType('tempopb.SearchResponse');
  const decoded = T.toObject(T.decode(new Uint8Array(await res.arrayBuffer())), { longs: String });
  assert.equal(decoded.traces[0].traceID, strip(cartId));
});

async function getJson(path) {
  const res = await fetch(`${server.baseUrl}/tempo${path}`);
  const body = await res.text();
  assert.equal(res.status, 200, `${path}: ${body}`);
  return JSON.parse(body);
}

test('tag names and typed tag values for the query builder', async () => {
  let body = await getJson('/api/v2/search/tags');
  const scopes = Object.fromEntries(body.scopes.map((s) => [s.name, s.tags]));
  assert.deepEqual(scopes.resource, ['service.name']);
  assert.deepEqual(scopes.span, ['http.request.method', 'http.response.status_code', 'payment.amount']);
  assert.ok(scopes.intrinsic.includes('duration') && scopes.intrinsic.includes('span:status'));
  body = await getJson('/api/v2/search/tags?scope=span&q=' + encodeURIComponent('{ resource.service.name = "it-cart" }'));
  assert.deepEqual(body.scopes, [{ name: 'span', tags: ['http.request.method'] }]);
  body = await getJson('/api/search/tags');
  assert.deepEqual(body.tagNames, ['http.request.method', 'http.response.status_code', 'payment.amount', 'service.name']);

  const values = async (tag, q) =>
    (await getJson(`/api/v2/search/tag/${encodeURIComponent(tag)}/values${q ? '?q=' + encodeURIComponent(q) : ''}`)).tagValues;
  assert.deepEqual(await values('span.http.response.status_code'), [{ type: 'int', value: '502' }]);
  assert.deepEqual(await values('.payment.amount'), [{ type: 'float', value: '12.5' }]);
  assert.deepEqual(await values('resource.service.name'),
    [{ type: 'string', value: 'it-cart' }, { type: 'string', value: 'it-frontend' }]);
  assert.deepEqual(await values('resource.service.name', '{ name = "charge" }'), [{ type: 'string', value: 'it-frontend' }]);
  assert.deepEqual(await values('resource.service.name', '{ name = '), // half-typed: ignored
    [{ type: 'string', value: 'it-cart' }, { type: 'string', value: 'it-frontend' }]);
  assert.deepEqual((await values('name')).map((v) => v.value), ['GET /cart', 'GET /checkout', 'charge']);
  assert.deepEqual(await values('status'), [{ type: 'keyword', value: 'ok' }, { type: 'keyword', value: 'error' },
    { type: 'keyword', value: 'unset' }]);
  const bad = await fetch(`${server.baseUrl}/tempo/api/v2/search/tag/service.name/values`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /please provide a valid tagName/);
  body = await getJson('/api/search/tag/service.name/values');
  assert.deepEqual(body.tagValues, ['it-cart', 'it-frontend']);
  body = await getJson('/api/search/tag/status.code/values');
  assert.deepEqual(body.tagValues, ['unset', 'ok', 'error']);
});

test('TraceQL metrics query_range and query', async () => {
  let body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ } | count_over_time() by (resource.service.name)')}&start=${t0}&end=${t0 + 20}&step=10`);
  const series = Object.fromEntries(body.series.map((s) => [s.labels[0].value.stringValue,
    s.samples.map((x) => [Number(x.timestampMs) / 1000 - t0, x.value ?? 0])]));
  assert.equal(body.series[0].labels[0].key, 'resource.service.name');
  // Aligned to the step with one leading bucket; zero values are omitted by jsonpb, as Tempo's.
  assert.deepEqual(series['it-frontend'], [[-10, 0], [0, 2], [10, 0]]);
  assert.deepEqual(series['it-cart'], [[-10, 0], [0, 0], [10, 1]]);
  body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ span.payment.amount > 0 } | max_over_time(duration)')}&start=${t0}&end=${t0 + 20}&step=10s`);
  assert.deepEqual(body.series[0].labels, [{ key: '__name__', value: { stringValue: 'max_over_time' } }]);
  assert.deepEqual(body.series[0].samples, [{ timestampMs: `${t0}000`, value: 0.05 }]);
  body = await getJson(`/api/metrics/query?q=${encodeURIComponent('{ } | count_over_time()')}&start=${t0}&end=${t0 + 20}`);
  assert.deepEqual(body.series, [{ labels: [{ key: '__name__', value: { stringValue: 'count_over_time' } }], value: 3 }]);
  // Metrics math: the error ratio per step (no spans at t0 - 10: 0 / 0, no sample).
  const ratio = '({ status = error } | count_over_time()) / ({ } | count_over_time())';
  body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent(ratio)}&start=${t0}&end=${t0 + 20}&step=10&exemplars=1`);
  assert.deepEqual(body.series.map((s) => [s.labels, s.samples]), [[
    [{ key: '__name__', value: { stringValue: '(count_over_time / count_over_time)' } }],
    [{ timestampMs: `${t0}000`, value: 0.5 }, { timestampMs: `${t0 + 10}000` }]]]);
  body = await getJson(`/api/metrics/query?q=${encodeURIComponent(`${ratio} * 3`)}&start=${t0}&end=${t0 + 20}`);
  assert.equal(body.series[0].value, 1);
  // Over a structural operator: the charge, child of the server span.
  body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ kind = server } > { .payment.amount > 10 } | count_over_time() by (name)')}&start=${t0}&end=${t0 + 20}&step=10&exemplars=0`);
  assert.deepEqual(body.series.map((s) => [s.labels, s.samples]), [[[{ key: 'name', value: { stringValue: 'charge' } }],
    [{ timestampMs: `${t0 - 10}000` }, { timestampMs: `${t0}000`, value: 1 }, { timestampMs: `${t0 + 10}000` }]]]);
  assert.equal(body.series[0].exemplars.length, 1);  // exemplars=0 asks for Tempo's default
  const bad = async (q, extra, text) => {
    const res = await fetch(`${server.baseUrl}/tempo/api/metrics/query_range?q=${encodeURIComponent(q)}${extra}`);
    assert.equal(res.status, 400);
    assert.ok((await res.text()).includes(text));
  };
  await bad('{ }', `&start=${t0}&end=${t0 + 20}`, 'not a metrics query');
  await bad('{ } | rate()', `&start=${t0}&end=${t0 + 20}&exemplars=x`, 'invalid exemplars: x');
  await bad('{ } | rate()', `&start=${t0}&end=${t0 + 200000}`, 'exceeds the maximum allowed duration of 24h0m0s');
  await bad('{ } | rate()', `&start=${t0 + 20}&end=${t0}`, 'end must be greater than start');
  await bad('{ } | rate()', `&start=${t0}&end=${t0 + 20000}&step=1`, 'step of 1s is too small');
});

test('query_range exemplars: one span per trace, in JSON and protobuf', async () => {
  const strip = (id) => id.replace(/^0+/, '');
  const range = `&start=${t0}&end=${t0 + 20}&step=10`;
  const exemplar = (traceId, spanId, seconds, value) => ({
    labels: [{ key: 'trace:id', value: { stringValue: strip(traceId) } }, { key: 'span:id', value: { stringValue: spanId } }],
    value, timestampMs: `${seconds}000`,
  });
  // The slowest span of each trace carries its duration in seconds.
  let body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ } | max_over_time(duration) by (resource.service.name)')}${range}`);
  const byService = Object.fromEntries(body.series.map((s) => [s.labels[0].value.stringValue, s.exemplars]));
  assert.deepEqual(byService['it-frontend'], [exemplar(checkoutId, checkoutRootSpanId, t0, 0.2)]);
  assert.deepEqual(byService['it-cart'], [exemplar(cartId, cartRootSpanId, t0 + 10, 0.03)]);
  // Counting functions carry no value: NaN, which jsonpb writes as a string.
  body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ } | count_over_time()')}${range}&exemplars=5`);
  assert.deepEqual(body.series[0].exemplars, [exemplar(checkoutId, checkoutRootSpanId, t0, 'NaN'),
    exemplar(cartId, cartRootSpanId, t0 + 10, 'NaN')]);
  // The hint wins over the parameter; instant answers have none.
  body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ } | count_over_time() with(exemplars=false)')}${range}&exemplars=5`);
  assert.equal(body.series[0].exemplars, undefined);
  body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ } | count_over_time() with(exemplars=1)')}${range}`);
  assert.equal(body.series[0].exemplars.length, 1);
  // Protobuf carries the same.
  const res = await fetch(`${server.baseUrl}/tempo/api/metrics/query_range?q=${encodeURIComponent('{ } | max_over_time(duration)')}${range}`,
    { headers: { Accept: 'application/protobuf' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/protobuf');
  const T = protoRoot.lookupType('tempopb.QueryRangeResponse');
  const decoded = T.toObject(T.decode(new Uint8Array(await res.arrayBuffer())), { longs: String });
  assert.deepEqual(decoded.series[0].exemplars.map((e) => [e.labels[0].value.stringValue, e.value, e.timestampMs]),
    [[strip(checkoutId), 0.2, `${t0}000`], [strip(cartId), 0.03, `${t0 + 10}000`]]);
});

test('compare(): baseline and selection series per attribute value', async () => {
  const range = `&start=${t0}&end=${t0 + 20}&step=10`;
  const body = await getJson(`/api/metrics/query_range?q=${encodeURIComponent('{ } | compare({ status = error }, 1)')}${range}`);
  assertStrict(protoRoot.lookupType('tempopb.QueryRangeResponse'), body, 'compare');
  const find = (type, key) => body.series.find((s) => s.labels[0].value.stringValue === type && s.labels[1].key === key);
  const counts = (s) => s.samples.map((x) => x.value ?? 0);  // jsonpb leaves out zeros
  // The declined charge is the selection; its typed attribute values label the series.
  const code = find('selection', 'span.http.response.status_code');
  assert.deepEqual(code.labels[1].value, { intValue: '502' });
  assert.deepEqual(counts(code), [0, 1, 0]);
  assert.deepEqual(find('selection', 'statusMessage').labels[1].value, { stringValue: 'declined' });
  assert.deepEqual(counts(find('selection_total', 'status')), [0, 1, 0]);
  assert.deepEqual(find('baseline_total', 'name').labels[1].value, { stringValue: 'nil' });
  assert.deepEqual(counts(find('baseline_total', 'name')), [0, 1, 1]);
  // Top 1: the baseline's two span names (one span each) keep the first by text and flag the attribute.
  assert.deepEqual(find('baseline', 'name').labels[1].value, { stringValue: 'GET /cart' });
  const flagged = body.series.filter((s) => s.labels[0].key === '__meta_error').map((s) => s.labels[1].key).sort();
  assert.deepEqual(flagged, ['name', 'resource.service.name', 'rootName', 'rootServiceName']);
  assert.deepEqual(body.series.find((s) => s.labels[0].key === '__meta_error' && s.labels[1].key === 'name'),
    { labels: [{ key: '__meta_error', value: { stringValue: '__too_many_values__' } }, { key: 'name', value: { stringValue: 'nil' } }] });
  // Exemplars ride on the totals.
  assert.ok(find('selection_total', 'status').exemplars.length === 1);
  const bad = await fetch(`${server.baseUrl}/tempo/api/metrics/query_range?q=${encodeURIComponent('{ } | compare({ status = error }, 0)')}${range}`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /compare\(\) top number of values must be integer greater than 0/);
});

// Grafana decodes Tempo's JSON strictly (jsonpb: an unknown field is an
// error): every key must be a field of the message, recursively.
function assertStrict(type, obj, where) {
  assert.ok(obj !== null && typeof obj === 'object' && !Array.isArray(obj), `${where}: not an object`);
  for (const [key, value] of Object.entries(obj)) {
    const field = Object.values(type.fields).find((f) => f.name === key || f.options?.json_name === key
      || f.name.replace(/_([a-z])/g, (_, c) => c.toUpperCase()) === key);
    assert.ok(field, `${where}: unknown field ${key} of ${type.fullName}`);
    field.resolve();
    if (!field.resolvedType || !(field.resolvedType instanceof protobuf.Type)) continue;
    const items = field.map ? Object.values(value) : field.repeated ? value : [value];
    for (const [i, item] of items.entries()) assertStrict(field.resolvedType, item, `${where}.${key}[${i}]`);
  }
}

test("Grafana's call sequence: every answer parses as Grafana parses it", async () => {
  const get = async (pathAndQuery, accept) => {
    const res = await fetch(`${server.baseUrl}/tempo${pathAndQuery}`, accept ? { headers: { Accept: accept } } : {});
    assert.equal(res.status, 200, pathAndQuery);
    return res;
  };
  const strict = async (pathAndQuery, typeName) => {
    const body = await (await get(pathAndQuery)).json();
    assertStrict(protoRoot.lookupType(typeName), body, pathAndQuery);
    return body;
  };
  // The check itself catches what Grafana would reject.
  assert.throws(() => assertStrict(protoRoot.lookupType('tempopb.QueryRangeResponse'),
    { series: [{ labels: [], promLabels: 'x' }] }, 'self-test'), /unknown field promLabels/);
  const info = await (await get('/api/status/buildinfo')).json();
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  assert.equal(await (await get('/api/echo')).text(), 'echo\n');
  await strict('/api/v2/search/tags?scope=span', 'tempopb.SearchTagsV2Response');
  await strict(`/api/v2/search/tag/${encodeURIComponent('resource.service.name')}/values`, 'tempopb.SearchTagValuesV2Response');
  const found = await strict(`/api/search?q=${encodeURIComponent('{ resource.service.name = "it-frontend" }')}&limit=20&spss=3&start=${t0 - 60}&end=${t0 + 60}`,
    'tempopb.SearchResponse');
  const id = found.traces[0].traceID;
  const raw = new Uint8Array(await (await get(`/api/v2/traces/${id}`, 'application/protobuf')).arrayBuffer());
  const T = protoRoot.lookupType('tempopb.TraceByIDResponse');
  const trace = T.decode(raw);
  assert.equal(trace.trace.resourceSpans.length, 1);
  const metrics = await strict(`/api/metrics/query_range?q=${encodeURIComponent('{ } | rate() by (resource.service.name)')}&start=${t0}&end=${t0 + 60}&step=15s&exemplars=100`,
    'tempopb.QueryRangeResponse');
  assert.ok(metrics.series.every((s) => s.exemplars.length > 0));  // the strict check covered exemplars
});

test('SQL answers page and come as CSV', async () => {
  const sql = (body, query = '', headers = {}) =>
    fetch(`${server.baseUrl}/api/v1/sql${query}`, { method: 'POST', body, headers });
  const q = 'SELECT span_name, duration_nanos FROM traces ORDER BY start_time_unix_nano';
  let res = await sql(q, '?limit=2');
  let body = await res.json();
  assert.equal(res.status, 200);
  assert.deepEqual(body.rows, [['GET /checkout', '200000000'], ['charge', '50000000']]);
  assert.equal(body.truncated, true);
  assert.equal(body.next_offset, 2);
  res = await sql(q, '?limit=2&offset=2');
  body = await res.json();
  assert.deepEqual(body.rows, [['GET /cart', '30000000']]);
  assert.equal(body.truncated, undefined);
  res = await sql(`SELECT 'a,b' AS x, 'say "hi"' AS y, NULL AS z, 1.5 AS w`, '?format=csv');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/csv/);
  assert.equal(await res.text(), 'x,y,z,w\r\n"a,b","say ""hi""",,1.5\r\n');
  res = await sql(q, '?limit=1', { Accept: 'text/csv' });
  assert.equal(res.headers.get('x-signaldb-next-offset'), '1');
  assert.equal(await res.text(), 'span_name,duration_nanos\r\nGET /checkout,200000000\r\n');
  res = await sql(q, '?format=xml');
  assert.equal(res.status, 400);
  res = await sql(q, '?offset=-1');
  assert.equal(res.status, 400);
});

test('bad searches get Tempo\'s 400 texts', async () => {
  const expect400 = async (params, text) => {
    const res = await search(params);
    assert.equal(res.status, 400);
    const body = await res.text();
    assert.ok(body.includes(text), `${JSON.stringify(params)}: ${body}`);
  };
  await expect400({ q: '{ .a = }' }, 'invalid TraceQL query: parse error at line 1, col 8: syntax error: unexpected CLOSE_BRACE');
  await expect400({ q: '{ 1 = "a" }' }, 'invalid TraceQL query');
  await expect400({ q: '{ }', tags: 'a=b' }, "invalid request: can't specify tags and q in the same query");
  await expect400({ q: '{ }', limit: '0' }, 'invalid limit: must be a positive number');
  await expect400({ q: '{ }', start: '20', end: '10' }, 'http parameter start must be before end. received start=20 end=10');
  await expect400({ q: '{ }', minDuration: '2s', maxDuration: '1s' }, 'invalid maxDuration: must be greater than minDuration');
  await expect400({ tags: 'a=b a=c' }, 'invalid tags: tag a has been set twice');
  await expect400({ q: '{ } | rate()' }, 'answered by the metrics API');  // metrics belong to /api/metrics
  const piped = await searchJson({ q: '{ } | count() > 1' });
  assert.deepEqual(piped.traces.map((x) => x.traceID), [checkoutId.replace(/^0+/, '')]);
  // A pipeline may start with a scalar filter: as if { } came first.
  const bare = await searchJson({ q: 'count() > 1' });
  assert.deepEqual(bare.traces.map((x) => x.traceID), [checkoutId.replace(/^0+/, '')]);
  // The server still answers.
  assert.equal((await searchJson({ q: '{ }' })).traces.length, 2);
});
