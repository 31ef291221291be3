#include "objstore/s3_xml.h"

#include <cstdio>
#include <ctime>
#include <sstream>

#include "common/strings.h"
#include "pugixml.hpp"

namespace signaldb::objstore {
namespace {

bool Load(pugi::xml_document& doc, std::string_view body) {
  return !body.empty() && doc.load_buffer(body.data(), body.size());
}

std::string Text(const pugi::xml_node& parent, const char* name) {
  return parent.child(name).text().as_string();
}

}  // namespace

std::optional<S3ErrorBody> ParseS3Error(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return std::nullopt;
  pugi::xml_node error = doc.child("Error");
  if (!error) return std::nullopt;
  return S3ErrorBody{Text(error, "Code"), Text(error, "Message")};
}

absl::StatusOr<ListPage> ParseListObjectsV2(std::string_view body) {
  pugi::xml_document doc;
  pugi::xml_node result;
  if (Load(doc, body)) result = doc.child("ListBucketResult");
  if (!result) {
    return absl::InternalError(StrCat(
        "S3 ListObjectsV2 answer is not a ListBucketResult document (", body.size(), " bytes)"));
  }
  ListPage page;
  for (pugi::xml_node item : result.children("Contents")) {
    ObjectInfo info;
    info.key = Text(item, "Key");
    info.size = item.child("Size").text().as_ullong();
    info.modified =
        ParseIsoTime(Text(item, "LastModified")).value_or(std::chrono::system_clock::time_point());
    page.objects.push_back(std::move(info));
  }
  page.truncated = std::string_view(result.child("IsTruncated").text().as_string()) == "true";
  page.next_continuation_token = Text(result, "NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return absl::InternalError("S3 ListObjectsV2 page is truncated but has no continuation token");
  }
  return page;
}

absl::StatusOr<std::string> ParseUploadId(std::string_view body) {
  pugi::xml_document doc;
  std::string id;
  if (Load(doc, body)) id = Text(doc.child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) return absl::InternalError("S3 CreateMultipartUpload answer has no UploadId");
  return id;
}

std::string CompleteMultipartBody(const std::vector<std::string>& etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(static_cast<unsigned long long>(i + 1));
    part.append_child("ETag").text().set(etags[i].c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

std::optional<std::chrono::system_clock::time_point> ParseIsoTime(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto point = std::chrono::system_clock::from_time_t(::timegm(&tm));
  // Fractional seconds, when present: ".789".
  if (static_cast<size_t>(consumed) < s.size() && s[consumed] == '.') {
    int64_t nanos = 0;
    int digits = 0;
    for (size_t i = consumed + 1; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]));
         ++i, ++digits) {
      if (digits < 9) nanos = nanos * 10 + (s[i] - '0');
    }
    for (; digits < 9; ++digits) nanos *= 10;
    point += std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::nanoseconds(nanos));
  }
  return point;
}

}  // namespace signaldb::objstore
