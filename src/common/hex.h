// Hex and base64 codecs for ids and bytes values. Ids are stored as lowercase
// hex; Tempo's JSON carries bytes as base64.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signaldb {

// Lowercase hex of `bytes`.
std::string HexEncode(std::string_view bytes);
// Appends the lowercase hex of `bytes` to `out`.
void AppendHex(std::string& out, std::string_view bytes);
// Decodes case-insensitive hex; nullopt on an odd length or a non-hex digit.
std::optional<std::string> HexDecode(std::string_view hex);
// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
// Standard or URL-safe ('-', '_') base64, padded or not.
std::optional<std::string> Base64Decode(std::string_view text);
// Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' with
// `keep_slash`), with upper-case hex digits: URL path segments and query
// values, and SigV4's UriEncode.
std::string PercentEncode(std::string_view text, bool keep_slash = false);

}  // namespace signaldb
