#include "acceptor/otlp_http.h"

#include <google/protobuf/util/json_util.h>

#include <memory>

#include "acceptor/decompress.h"
#include "acceptor/otlp_json_wire.h"
#include "acceptor/remote_write.h"
#include "common/strings.h"
#include "net/http_server.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "spdlog/spdlog.h"

namespace signaldb::acceptor {
namespace {

namespace tsvc = opentelemetry::proto::collector::trace::v1;
namespace lsvc = opentelemetry::proto::collector::logs::v1;
namespace msvc = opentelemetry::proto::collector::metrics::v1;

enum class Encoding { kProtobuf, kJson };

std::string MediaType(const httplib::Request& req) {
  std::string ct = req.get_header_value("Content-Type");
  return ToLower(Trim(std::string_view(ct).substr(0, ct.find(';'))));
}

const char* ContentType(Encoding e) { return e == Encoding::kJson ? "application/json" : "application/x-protobuf"; }

// gRPC code numbers, as google.rpc.Status carries them.
int GrpcCode(absl::StatusCode code) { return static_cast<int>(code); }

void ReplyStatus(httplib::Response& res, Encoding enc, int http, absl::StatusCode code, const std::string& message) {
  google::rpc::Status st;
  st.set_code(GrpcCode(code));
  st.set_message(message);
  std::string body;
  if (enc == Encoding::kJson) {
    (void)google::protobuf::util::MessageToJsonString(st, &body);
  } else {
    body = st.SerializeAsString();
  }
  res.status = http;
  res.set_content(body, ContentType(enc));
}

// Maps an ingest failure to its HTTP answer.
void ReplyError(httplib::Response& res, Encoding enc, const absl::Status& st, int retry_after) {
  int http;
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument: http = 400; break;
    case absl::StatusCode::kOutOfRange: http = 413; break;
    case absl::StatusCode::kUnimplemented: http = 415; break;
    case absl::StatusCode::kResourceExhausted: http = 429; break;
    case absl::StatusCode::kUnauthenticated: http = 401; break;
    case absl::StatusCode::kPermissionDenied: http = 403; break;
    case absl::StatusCode::kNotFound: http = 404; break;
    default: http = 503; break;  // storage trouble: retryable
  }
  if (http == 429 || http == 503) res.set_header("Retry-After", std::to_string(retry_after));
  ReplyStatus(res, enc, http, st.code(), std::string(st.message()));
}

void MethodNotAllowed(httplib::Server& server, const std::string& path) {
  auto handler = [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "POST");
    Encoding enc = MediaType(req) == "application/x-protobuf" ? Encoding::kProtobuf : Encoding::kJson;
    ReplyStatus(res, enc, 405, absl::StatusCode::kUnimplemented, "405 method not allowed, supported: [POST]");
  };
  server.Get(path, handler);
  server.Put(path, handler);
  server.Delete(path, handler);
  server.Patch(path, handler);
  server.Options(path, handler);
}

// Who an HTTP request says it is (headers; auth.h).
auth::Credentials HttpCredentials(const httplib::Request& req) {
  return auth::CredentialsFrom([&](const char* name) { return req.get_header_value(name); });
}

template <typename Request, typename Response>
void RegisterSignal(httplib::Server& server, Ingestor* ingestor, const std::string& path, Signal signal,
                    void (*set_partial)(Response&, int64_t, const std::string&)) {
  server.Post(path, [=](const httplib::Request& req, httplib::Response& res) {
    std::string media = MediaType(req);
    Encoding enc;
    if (media == "application/x-protobuf" || media == "application/protobuf") enc = Encoding::kProtobuf;
    else if (media == "application/json") enc = Encoding::kJson;
    else {
      return ReplyStatus(res, Encoding::kJson, 415, absl::StatusCode::kInvalidArgument,
                         StrCat("415 unsupported media type '", media,
                                "', supported: [application/json, application/x-protobuf]"));
    }
    const int retry_after = ingestor->limits().retry_after_seconds;
    auto tenant = ingestor->Authenticate(HttpCredentials(req));
    if (!tenant.ok()) return ReplyError(res, enc, tenant.status(), retry_after);
    const uint64_t limit = ingestor->limits().max_message_bytes;
    auto admission = ingestor->Admit(req.body.size());
    if (!admission.ok()) return ReplyError(res, enc, admission.status(), retry_after);
    auto body = Decompress(net::RequestContentEncoding(req), req.body, limit);
    if (!body.ok()) return ReplyError(res, enc, body.status(), retry_after);
    // The decompressed size counts too; the compressed copy is released below.
    auto inflated = ingestor->Admit(body->size());
    if (!inflated.ok()) return ReplyError(res, enc, inflated.status(), retry_after);

    std::string protobuf;
    std::string_view payload = *body;
    if (enc == Encoding::kJson) {
      // Straight to wire bytes, as a protobuf client would have sent them.
      if (auto st = OtlpJsonToWire(*body, Request::descriptor(), &protobuf); !st.ok()) {
        return ReplyError(res, enc, st, retry_after);
      }
      payload = protobuf;
    }
    auto result = ingestor->Export(*tenant, signal, payload);
    if (!result.ok()) {
      if (result.status().code() != absl::StatusCode::kInvalidArgument) {
        spdlog::warn("{} export failed: {}", path, result.status().ToString());
      }
      return ReplyError(res, enc, result.status(), retry_after);
    }
    Response response;
    // Truncation alone is a warning: partialSuccess with 0 rejected.
    if (result->rejected > 0 || !result->message.empty()) {
      set_partial(response, static_cast<int64_t>(result->rejected), result->message);
    }
    std::string out;
    if (enc == Encoding::kJson) (void)google::protobuf::util::MessageToJsonString(response, &out);
    else out = response.SerializeAsString();
    res.status = 200;
    res.set_content(out, ContentType(enc));
  });
  MethodNotAllowed(server, path);
}

}  // namespace

void RegisterOtlpHttp(httplib::Server& server, Ingestor* ingestor) {
  RegisterSignal<tsvc::ExportTraceServiceRequest, tsvc::ExportTraceServiceResponse>(
      server, ingestor, "/v1/traces", Signal::kTraces,
      [](tsvc::ExportTraceServiceResponse& r, int64_t n, const std::string& msg) {
        r.mutable_partial_success()->set_rejected_spans(n);
        r.mutable_partial_success()->set_error_message(msg);
      });
  RegisterSignal<lsvc::ExportLogsServiceRequest, lsvc::ExportLogsServiceResponse>(
      server, ingestor, "/v1/logs", Signal::kLogs,
      [](lsvc::ExportLogsServiceResponse& r, int64_t n, const std::string& msg) {
        r.mutable_partial_success()->set_rejected_log_records(n);
        r.mutable_partial_success()->set_error_message(msg);
      });
  RegisterSignal<msvc::ExportMetricsServiceRequest, msvc::ExportMetricsServiceResponse>(
      server, ingestor, "/v1/metrics", Signal::kMetrics,
      [](msvc::ExportMetricsServiceResponse& r, int64_t n, const std::string& msg) {
        r.mutable_partial_success()->set_rejected_data_points(n);
        r.mutable_partial_success()->set_error_message(msg);
      });
}

void RegisterRemoteWrite(httplib::Server& server, Ingestor* ingestor) {
  server.Post("/api/v1/write", [=](const httplib::Request& req, httplib::Response& res) {
    auto text = [&](int code, const std::string& msg) {
      res.status = code;
      res.set_content(msg + "\n", "text/plain; charset=utf-8");
    };
    std::string ct = ToLower(req.get_header_value("Content-Type"));
    if (ct.find("io.prometheus.write.v2") != std::string::npos) {
      return text(415, "remote write 2.0 (io.prometheus.write.v2.Request) is not supported; send 1.0 "
                       "(application/x-protobuf)");
    }
    std::string media = MediaType(req);
    if (!media.empty() && media != "application/x-protobuf") {
      return text(415, StrCat("unsupported Content-Type '", media, "', expected application/x-protobuf"));
    }
    std::string enc = ToLower(Trim(net::RequestContentEncoding(req)));
    if (!enc.empty() && enc != "snappy") {
      return text(415, StrCat("unsupported Content-Encoding '", enc, "', expected snappy"));
    }
    const int retry_after = ingestor->limits().retry_after_seconds;
    auto tenant = ingestor->Authenticate(HttpCredentials(req));
    if (!tenant.ok()) {
      const auto code = tenant.status().code();
      return text(code == absl::StatusCode::kUnauthenticated    ? 401
                  : code == absl::StatusCode::kPermissionDenied ? 403
                  : code == absl::StatusCode::kNotFound         ? 404
                                                                : 400,
                  std::string(tenant.status().message()));
    }
    auto admission = ingestor->Admit(req.body.size());
    if (!admission.ok()) {
      res.set_header("Retry-After", std::to_string(retry_after));
      return text(429, std::string(admission.status().message()));
    }
    auto body = SnappyUncompress(req.body, ingestor->limits().max_message_bytes);
    if (!body.ok()) return text(body.status().code() == absl::StatusCode::kOutOfRange ? 413 : 400,
                                std::string(body.status().message()));
    auto conv = ConvertRemoteWrite(*body);
    if (!conv.ok()) return text(400, std::string(conv.status().message()));
    std::string rejected;  // what was not stored, if anything
    if (conv->rejected_series > 0) {
      rejected = StrCat(conv->rejected_series, " series rejected: ", conv->first_error);
    }
    if (conv->series > 0) {
      std::string payload = conv->request.SerializeAsString();
      auto result = ingestor->Export(*tenant, Signal::kMetrics, payload);
      if (!result.ok()) {
        int code = result.status().code() == absl::StatusCode::kResourceExhausted ? 429
                   : result.status().code() == absl::StatusCode::kOutOfRange      ? 413
                   : result.status().code() == absl::StatusCode::kInvalidArgument ? 400
                                                                                   : 503;
        if (code == 429 || code == 503) res.set_header("Retry-After", std::to_string(retry_after));
        return text(code, std::string(result.status().message()));
      }
      // Labels are data point attributes: a series over the attribute
      // limits has all its samples rejected (reject mode) or stored with
      // its labels truncated (204, as for any stored write).
      if (result->rejected > 0) {
        rejected += StrCat(rejected.empty() ? "" : "; ", result->rejected, " samples rejected: ", result->message);
      }
    }
    if (!rejected.empty()) {
      // The rest is stored; as Prometheus answers a partly bad write, 400
      // tells the sender not to retry what was refused.
      return text(400, rejected);
    }
    res.status = 204;
  });
  MethodNotAllowed(server, "/api/v1/write");
}

}  // namespace signaldb::acceptor
