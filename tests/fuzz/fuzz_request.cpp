/// libFuzzer target (a): the request path without I/O. Raw bytes are parsed by
/// http_parser (the parser RESTinio runs), then the steps of
/// http/pipeline.cpp in its order — sizes (413/431), routing (404/405), the
/// rate limits (stub: allowed), the bearer token (401), token verification
/// (the real HS256 check; the session lookup is stubbed as "active"),
/// Idempotency-Key format, body media type and JSON (415/400), and the
/// handler's field validation — each refusal checked by check_input_problem.

#include <http_parser.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "actors/errc.hpp"
#include "actors/tokens.hpp"
#include "actors/validation.hpp"
#include "fuzz_common.hpp"
#include "http/request_rules.hpp"

using namespace petcare;
using petcare::fuzz::require;

namespace {

/// Secret of the seed corpus's tokens (tests/fuzz/corpus/request/*).
constexpr const char* secret = "fuzz-jwt-secret-0123456789-abcdefghijklmnopqrstu";
constexpr int64_t now_s = 1795000000; // fixed: runs are reproducible
constexpr int64_t body_limit = 16384; // HTTP_BODY_LIMIT_BYTES default

struct message {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool in_value = false;
  bool complete = false;
};

message& msg_of(http_parser* p) { return *static_cast<message*>(p->data); }

int on_url(http_parser* p, const char* at, size_t n) {
  msg_of(p).url.append(at, n);
  return 0;
}
int on_field(http_parser* p, const char* at, size_t n) {
  auto& m = msg_of(p);
  if (m.in_value || m.headers.empty())
    m.headers.emplace_back();
  m.in_value = false;
  m.headers.back().first.append(at, n);
  return 0;
}
int on_value(http_parser* p, const char* at, size_t n) {
  auto& m = msg_of(p);
  m.in_value = true;
  m.headers.back().second.append(at, n);
  return 0;
}
int on_body(http_parser* p, const char* at, size_t n) {
  msg_of(p).body.append(at, n);
  return 0;
}
int on_complete(http_parser* p) {
  msg_of(p).complete = true;
  http_parser_pause(p, 1); // one request per input, like one exchange
  return 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// First field of that name, like restinio's opt_value_of.
std::optional<std::string_view> header(const message& m, std::string_view name) {
  for (auto& [k, v] : m.headers)
    if (iequals(k, name))
      return std::string_view{v};
  return std::nullopt;
}

const http::router& routes() {
  static const http::router r = [] {
    using http::body_rule;
    struct row {
      const char* method;
      const char* path;
      bool auth;
      body_rule body;
      bool auth_limit;
      bool operational;
    };
    static const row rows[] = {
#include "fuzz_routes.inc"
    };
    http::router out;
    for (auto& x : rows)
      out.add({x.method, x.path, http::handler{}, x.auth, x.body, x.auth_limit, x.operational});
    return out;
  }();
  return r;
}

void refuse(const http::problem& p, const std::string& request_id) {
  fuzz::check_input_problem(p, request_id);
}

/// What actors::authenticate answers for a token before the session lookup.
std::optional<http::problem> verify(const std::string& token) {
  auto check = actors::verify_access_token(secret, token, now_s);
  switch (check.status) {
    case actors::token_status::ok:
      require(actors::is_uuid(check.claims.sub) && actors::is_uuid(check.claims.sid), "claims ids");
      return std::nullopt;
    case actors::token_status::expired:
      return http::to_problem(actors::make_error(actors::errc::token_expired));
    default:
      return http::to_problem(actors::refusal(actors::errc::invalid_token, "malformed"));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  message m;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &m;
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = on_url;
  settings.on_header_field = on_field;
  settings.on_header_value = on_value;
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  http_parser_execute(&parser, &settings, reinterpret_cast<const char*>(data), size);
  if (!m.complete)
    return 0; // RESTinio closes the connection on a parse error: no answer to check

  const std::string method = http_method_str(static_cast<http_method>(parser.method));
  // restinio: path() is the target up to '?' (itself before any '#').
  std::string_view target = m.url;
  target = target.substr(0, target.find('#'));
  const std::string path{target.substr(0, target.find('?'))};

  auto given = header(m, "X-Request-Id");
  const std::string request_id = given && http::valid_request_id(*given) ? std::string{*given}
                                                                         : "00000000-0000-4000-8000-000000000000";
  if (given && http::valid_request_id(*given))
    require(given->size() <= 128, "request id length");

  size_t header_bytes = m.url.size();
  for (auto& [k, v] : m.headers)
    header_bytes += k.size() + v.size() + 4;
  const bool v1 = path == "/v1" || path.rfind("/v1/", 0) == 0;
  const char* too_large = http::size_refusal(header_bytes, m.body.size(), body_limit);
  if (too_large != nullptr && !v1)
    return refuse(http::problem_for(too_large), request_id), 0;
  // CORS preflight with no configured origins.
  if (too_large == nullptr && method == "OPTIONS" && header(m, "Origin")
      && header(m, "Access-Control-Request-Method"))
    return refuse(http::problem_for("CORS_ORIGIN_DENIED"), request_id), 0;

  auto found = routes().find(method, path);
  if (auto refused = http::route_refusal(found)) {
    if (std::strcmp(refused, "METHOD_NOT_ALLOWED") == 0)
      require(!found.allow.empty(), "405 without Allow");
    if (!v1 || too_large == nullptr)
      return refuse(http::problem_for(refused), request_id), 0;
  }
  if (!v1)
    return 0; // operational route: its handler does I/O
  // Global limit stub: allowed. Oversize /v1 requests are refused after it.
  if (too_large != nullptr)
    return refuse(http::problem_for(too_large), request_id), 0;
  if (found.found == nullptr)
    return refuse(http::problem_for(http::route_refusal(found)), request_id), 0;
  const http::route& r = *found.found;
  for (auto& [name, value] : found.params)
    require(!value.empty() && value.find('/') == std::string::npos, "path parameter", name);

  if (r.auth) {
    auto token = http::bearer_token(header(m, "Authorization"));
    if (token.empty())
      return refuse(http::to_problem(actors::make_error(actors::errc::auth_required)), request_id), 0;
    if (auto p = verify(token))
      return refuse(*p, request_id), 0;
  }
  if (auto key = header(m, "Idempotency-Key"); key && (method == "POST" || method == "PATCH"))
    if (!http::valid_idempotency_key(*key))
      return refuse(http::validation_error("Idempotency-Key must be 1-255 visible ASCII characters."),
                    request_id),
             0;

  http::parsed_body parsed{http::body_status::absent, nlohmann::json::object()};
  if (auto p = http::body_refusal(r.body, header(m, "Content-Type"), m.body, parsed))
    return refuse(*p, request_id), 0;
  require(parsed.value.is_object(), "accepted body is an object");
  if (auto p = fuzz::validate_body(r.method + " " + r.path, parsed.value))
    return refuse(*p, request_id), 0;
  return 0;
}
