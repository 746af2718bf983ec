#include "http/request_rules.hpp"

#include <algorithm>
#include <cctype>

namespace petcare::http {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (char ch : id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == ':'
          || ch == '-'))
      return false;
  return true;
}

const char* size_refusal(size_t header_bytes, size_t body_bytes, int64_t body_limit) {
  if (header_bytes > header_limit)
    return "HEADERS_TOO_LARGE";
  if (static_cast<int64_t>(body_bytes) > body_limit)
    return "PAYLOAD_TOO_LARGE";
  return nullptr;
}

const char* route_refusal(const match& m) {
  if (m.found != nullptr)
    return nullptr;
  return m.allow.empty() ? "NOT_FOUND" : "METHOD_NOT_ALLOWED";
}

std::string bearer_token(std::optional<std::string_view> authorization) {
  if (!authorization)
    return {};
  std::string v{*authorization};
  if (v.size() < 7 || !std::equal(v.begin(), v.begin() + 7, "Bearer ",
                                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return {};
  auto token = v.substr(7);
  while (!token.empty() && token.front() == ' ')
    token.erase(token.begin());
  while (!token.empty() && token.back() == ' ')
    token.pop_back();
  return token;
}

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255)
    return false;
  for (char ch : key)
    if (ch < 0x21 || ch > 0x7e)
      return false;
  return true;
}

std::optional<problem> body_refusal(body_rule rule, const std::optional<std::string_view>& content_type,
                                    std::string_view body, parsed_body& out) {
  if (rule == body_rule::none)
    return std::nullopt;
  out = parse_body(content_type, body);
  if (out.status == body_status::unsupported_media_type)
    return problem_for("UNSUPPORTED_MEDIA_TYPE");
  if (out.status == body_status::malformed)
    return problem_for("MALFORMED_JSON");
  return std::nullopt;
}

std::string problem_json(const problem& p, const std::string& request_id) {
  nlohmann::json body{
    {"error", {{"code", p.code}, {"message", p.message}, {"requestId", request_id}}}};
  // replace: a message is never user input, but an answer must never throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace petcare::http
