// Protobuf helpers for tests: our .proto files loaded into protobufjs (to
// decode Tempo API protobuf responses) and into grpc-js (a raw OTLP client).
import path from 'node:path';
import protobuf from 'protobufjs';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { repoRoot } from './server.mjs';

const protoDir = path.join(repoRoot, 'proto');

export function loadRoot() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(protoDir, target);
  root.loadSync(['opentelemetry/proto/trace/v1/trace.proto', 'tempopb/tempo.proto']);
  return root;
}

export function traceServiceClient(target) {
  const def = protoLoader.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', {
    includeDirs: [protoDir], longs: String, enums: Number, bytes: Buffer, defaults: false, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def);
  const Ctor = pkg.opentelemetry.proto.collector.trace.v1.TraceService;
  return new Ctor(target, grpc.credentials.createInsecure());
}

export function exportRaw(client, request) {
  return new Promise((resolve, reject) => {
    client.Export(request, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
