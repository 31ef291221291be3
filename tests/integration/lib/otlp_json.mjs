// A one-span OTLP/JSON traces request ending now: trace id `traceHex`
// (32 hex digits; its first 16 are the span id), service `service`, span
// name `op-<service>`.
export function otlpJson(traceHex, service) {
  const now = BigInt(Date.now()) * 1000000n;
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ spans: [{
        traceId: traceHex, spanId: traceHex.slice(0, 16), name: `op-${service}`, kind: 2,
        startTimeUnixNano: String(now - 5000000n), endTimeUnixNano: String(now),
      }] }],
    }],
  };
}
