/// libFuzzer target (c): body acceptance (http/json_body: media type, UTF-8,
/// strict JSON object, duplicate keys) and the field validation of every
/// request body shape. The first input byte picks the Content-Type variant and
/// the route; the rest is the body.

#include <cstdint>
#include <string>

#include "actors/validation.hpp"
#include "fuzz_common.hpp"
#include "http/json_body.hpp"
#include "http/request_rules.hpp"

using namespace petcare;
using petcare::fuzz::require;

namespace {

const char* const content_types[] = {
  "application/json", "application/json; charset=utf-8", "Application/JSON ; Charset=\"UTF-8\"",
  "text/plain", "application/json; charset=latin1", "application/json;", "",
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const uint8_t pick = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t n_ct = sizeof content_types / sizeof content_types[0];
  std::optional<std::string_view> ct;
  if (pick % (n_ct + 1) < n_ct)
    ct = content_types[pick % (n_ct + 1)];
  const std::string route = fuzz::body_routes[(pick / (n_ct + 1)) % fuzz::body_route_count];

  auto parsed = http::parse_body(ct, body);
  switch (parsed.status) {
    case http::body_status::absent:
      require(body.empty(), "absent only for an empty body");
      break;
    case http::body_status::unsupported_media_type:
      require(!ct || !http::is_json_media_type(*ct), "415 for a JSON media type");
      break;
    case http::body_status::malformed:
      require(!body.empty(), "malformed empty body");
      break;
    case http::body_status::ok: {
      require(parsed.value.is_object(), "ok is an object");
      require(actors::valid_utf8(body), "ok body is valid UTF-8");
      // What we accepted prints and is accepted again as the same document.
      auto text = parsed.value.dump();
      auto again = http::parse_body(std::string_view{"application/json"}, text);
      require(again.status == http::body_status::ok && again.value == parsed.value, "round trip", text);
      break;
    }
  }
  http::parsed_body out{http::body_status::absent, nlohmann::json::object()};
  auto refused = http::body_refusal(http::body_rule::required, ct, body, out);
  require(refused.has_value() == (parsed.status == http::body_status::malformed
                                  || parsed.status == http::body_status::unsupported_media_type),
          "body_refusal agrees with parse_body");
  if (refused)
    return fuzz::check_input_problem(*refused, "r"), 0;
  if (auto p = fuzz::validate_body(route, out.value))
    fuzz::check_input_problem(*p, "r");
  return 0;
}
