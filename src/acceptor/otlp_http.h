// OTLP/HTTP (POST /v1/traces, /v1/logs, /v1/metrics) and Prometheus
// remote_write (POST /api/v1/write) on the acceptor's HTTP port.
//
// OTLP: protobuf or JSON bodies (Content-Type), gzip/deflate/zstd/snappy or
// no compression (Content-Encoding), size limit applied after decompression.
// Answers mirror the request's encoding: 200 with an empty
// Export*ServiceResponse, or with partialSuccess when records were rejected;
// errors carry a google.rpc.Status: 400 malformed, 405 wrong method, 413 too
// large, 415 unsupported type or encoding, 429/503 with Retry-After when
// overloaded or storage is unavailable.
#pragma once

#include <httplib.h>

#include "acceptor/ingestor.h"

namespace signaldb::acceptor {

void RegisterOtlpHttp(httplib::Server& server, Ingestor* ingestor);
void RegisterRemoteWrite(httplib::Server& server, Ingestor* ingestor);

}  // namespace signaldb::acceptor
