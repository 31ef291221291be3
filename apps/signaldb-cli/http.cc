#include "http.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace signaldb::cli {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

}  // namespace

ExitCode ExitCodeForStatus(int http_status) {
  if (http_status >= 200 && http_status < 300) return kExitOk;
  switch (http_status) {
    case 400:
      return kExitUsage;
    case 401:
    case 403:
      return kExitAuth;
    case 404:
      return kExitNotFound;
    case 409:
      return kExitConflict;
    case 429:
      return kExitRateLimit;
    default:
      return kExitFailure;
  }
}

absl::StatusOr<BaseUrl> ParseBaseUrl(const std::string& url) {
  BaseUrl out;
  std::string rest = url;
  size_t sep = rest.find("://");
  if (sep == std::string::npos) {
    out.scheme = "http";  // host:port alone is taken as plain HTTP
  } else {
    out.scheme = Lower(rest.substr(0, sep));
    rest = rest.substr(sep + 3);
  }
  if (out.scheme != "http" && out.scheme != "https") {
    return absl::InvalidArgumentError("unsupported URL scheme \"" + out.scheme + "\" in " + url +
                                      " (use http:// or https://)");
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError("the URL may not hold a query or fragment: " + url);
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  if (authority.find('@') != std::string::npos) {
    return absl::InvalidArgumentError(
        "credentials in the URL are not supported; use --admin-key or --api-key");
  }
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos)
      return absl::InvalidArgumentError("unclosed [ in the URL's host: " + url);
    out.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return absl::InvalidArgumentError("bad host in URL: " + url);
      port_text = after.substr(1);
      if (port_text.empty()) return absl::InvalidArgumentError("empty port in URL: " + url);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return absl::InvalidArgumentError("empty port in URL: " + url);
    }
  }
  if (out.host.empty()) return absl::InvalidArgumentError("no host in URL: " + url);
  if (port_text.empty()) {
    out.port = out.scheme == "https" ? 443 : 80;
  } else {
    auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), out.port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || out.port < 1 ||
        out.port > 65535) {
      return absl::InvalidArgumentError("bad port \"" + port_text + "\" in URL: " + url);
    }
  }
  return out;
}

std::string ErrorMessage(const HttpResponse& response, const std::string& fallback) {
  std::string message;
  auto json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    for (const char* key : {"error", "message"}) {
      auto it = json.find(key);
      if (it != json.end() && it->is_string() && !it->get<std::string>().empty()) {
        message = it->get<std::string>();
        break;
      }
    }
    auto field = json.find("field");
    if (!message.empty() && field != json.end() && field->is_string()) {
      message += " (field: " + field->get<std::string>() + ")";
    }
  }
  if (message.empty() && !json.is_object()) {
    std::string body = Trim(response.body);
    message = Trim(body.substr(0, body.find('\n')));
    if (message.size() > 500) message = message.substr(0, 500) + "...";
  }
  if (message.empty()) message = fallback;
  if (message.empty()) {
    message = "HTTP " + std::to_string(response.status);
    std::string reason = ReasonPhrase(response.status);
    if (!reason.empty()) message += " " + reason;
  }
  if (response.status == 429 && !response.retry_after.empty()) {
    message += " (retry after " + response.retry_after + " s)";
  }
  return message;
}

}  // namespace signaldb::cli
