// Canonical form of OTLP trace data, so the same trace can be compared across
// encodings: OTLP/JSON from the SDK (hex ids, enum numbers), Tempo's JSON
// (base64 ids, enum names), protobufjs objects and grpc-js requests (Buffers).
// Zero values and empty lists are dropped, as proto3 does on the wire.

const KIND = { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 };
const STATUS = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function id(v, enc) {
  if (v === undefined || v === null || v === '') return undefined;
  let hex;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) hex = Buffer.from(v).toString('hex');
  else if (enc === 'hex') hex = String(v).toLowerCase();
  else hex = Buffer.from(String(v), 'base64').toString('hex');
  return /^0*$/.test(hex) ? undefined : hex;
}

function int(v) {
  if (v === undefined || v === null) return undefined;
  const s = String(v);
  return s === '0' ? undefined : s;
}

function num(v) { return v === undefined || v === null || v === 0 ? undefined : Number(v); }
function str(v) { return v === undefined || v === null || v === '' ? undefined : String(v); }
function enumOf(v, table) { return typeof v === 'string' ? table[v] : v; }

function bytesHex(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return Buffer.from(String(v), 'base64').toString('hex');
}

export function anyValue(v) {
  if (!v) return { unset: true };
  if ('stringValue' in v) return { string: v.stringValue };
  if ('boolValue' in v) return { bool: v.boolValue };
  if ('intValue' in v) return { int: String(v.intValue) };
  if ('doubleValue' in v) {
    const d = v.doubleValue;
    return { double: typeof d === 'string' ? d : Number(d) };
  }
  if ('bytesValue' in v) return { bytes: bytesHex(v.bytesValue) };
  if ('arrayValue' in v) return { array: (v.arrayValue?.values || []).map(anyValue) };
  if ('kvlistValue' in v) return { kvlist: keyValues(v.kvlistValue?.values) };
  return { unset: true };
}

export function keyValues(kvs) {
  return (kvs || []).map((kv) => ({ key: kv.key, value: anyValue(kv.value) }));
}

// Span attributes as a set: OTLP keys are unique, and storage keeps span
// attributes by value kind, so their order is not kept (Tempo's is not either).
export function attributeSet(kvs) {
  return keyValues(kvs).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function clean(o) {
  for (const k of Object.keys(o)) {
    if (o[k] === undefined || (Array.isArray(o[k]) && o[k].length === 0)) delete o[k];
  }
  return o;
}

// Canonical spans keyed by span id; `enc` is how ids are encoded in `data`.
export function canonicalSpans(resourceSpans, enc) {
  const out = {};
  for (const rs of resourceSpans || []) {
    const resource = clean({
      attributes: keyValues(rs.resource?.attributes),
      dropped: num(rs.resource?.droppedAttributesCount),
      schemaUrl: str(rs.schemaUrl),
    });
    for (const ss of rs.scopeSpans || []) {
      const scope = clean({
        name: str(ss.scope?.name), version: str(ss.scope?.version),
        attributes: keyValues(ss.scope?.attributes), dropped: num(ss.scope?.droppedAttributesCount),
        schemaUrl: str(ss.schemaUrl),
      });
      for (const s of ss.spans || []) {
        const spanId = id(s.spanId, enc);
        out[spanId] = clean({
          resource, scope,
          traceId: id(s.traceId, enc), spanId, parentSpanId: id(s.parentSpanId, enc),
          traceState: str(s.traceState), flags: num(s.flags), name: str(s.name),
          kind: num(enumOf(s.kind, KIND)),
          startTimeUnixNano: int(s.startTimeUnixNano), endTimeUnixNano: int(s.endTimeUnixNano),
          attributes: attributeSet(s.attributes), droppedAttributesCount: num(s.droppedAttributesCount),
          events: (s.events || []).map((e) => clean({
            timeUnixNano: int(e.timeUnixNano), name: str(e.name), attributes: keyValues(e.attributes),
            dropped: num(e.droppedAttributesCount),
          })),
          droppedEventsCount: num(s.droppedEventsCount),
          links: (s.links || []).map((l) => clean({
            traceId: id(l.traceId, enc), spanId: id(l.spanId, enc), traceState: str(l.traceState),
            attributes: keyValues(l.attributes), dropped: num(l.droppedAttributesCount), flags: num(l.flags),
          })),
          droppedLinksCount: num(s.droppedLinksCount),
          status: clean({ code: num(enumOf(s.status?.code, STATUS)), message: str(s.status?.message) }),
        });
      }
    }
  }
  return out;
}
