#pragma once
/// Request-body acceptance of SPEC §4.1: media type, whole-body UTF-8, strict
/// JSON object without duplicated keys. Never throws.

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace petcare::http {

/// How a request body was judged.
enum class body_status {
  absent,                 ///< no body: empty, with no Content-Type or with application/json
  ok,                     ///< a JSON object
  malformed,              ///< 400 MALFORMED_JSON
  unsupported_media_type, ///< 415 UNSUPPORTED_MEDIA_TYPE
};

/// Result of parse_body: `value` is the object when ok, an empty object when absent.
struct parsed_body {
  body_status status;
  nlohmann::json value;
};

/// Judges a request body. `content_type` is the header value, std::nullopt when
/// the header is missing. A non-empty body needs a JSON media type (415
/// otherwise, also without Content-Type); invalid UTF-8, invalid JSON, an escaped
/// lone surrogate, a non-object top level or a key repeated in any object ⇒ malformed.
parsed_body parse_body(const std::optional<std::string_view>& content_type, std::string_view body);

/// True for `application/json`, optionally with `charset=utf-8`; media type
/// and charset name and value compare case-insensitively, the value may be
/// quoted, whitespace around ';' and '=' is allowed. Any other parameter or charset ⇒ false.
bool is_json_media_type(std::string_view content_type);

} // namespace petcare::http
