// Common HTTP rules (SPEC §4.1, §3.9 headers and limits, §9 CORS and headers)
// against the real binary: envelope, request ids, security headers, body and
// media-type rules, size limits, routing errors, rate limits, CORS.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include "fixtures/api_fixture.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;

const std::regex uuid_v4{"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"};
const std::regex digits{"^[0-9]+$"};
const std::string allowed_origin = "http://localhost:5173";

const std::string valid_register =
  R"({"email":"rules@example.com","password":"correct horse battery","displayName":"Rules"})";

/// §4.1/§9 headers every response carries (test instances are not strict: no HSTS).
boost::test_tools::assertion_result common_headers(const http_response& r) {
  boost::test_tools::assertion_result res{true};
  auto want = [&](const char* name, const std::string& value) {
    auto got = r.header(name);
    if (!got || *got != value) {
      res = boost::test_tools::assertion_result{false};
      res.message() << name << " is '" << got.value_or("<absent>") << "', want '" << value << "'; ";
    }
  };
  want("Cache-Control", "no-store");
  want("X-Content-Type-Options", "nosniff");
  want("X-Frame-Options", "DENY");
  want("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  want("Referrer-Policy", "no-referrer");
  if (!r.has_header("X-Request-Id") || r.has_header("Strict-Transport-Security")) {
    res = boost::test_tools::assertion_result{false};
    res.message() << "X-Request-Id missing or HSTS present outside strict mode; ";
  }
  if (r.status == 0)
    res.message() << describe(r);
  return res;
}

/// X-RateLimit-* present with integer values (Limit = `limit` when given).
boost::test_tools::assertion_result rate_headers(const http_response& r, const std::string& limit) {
  boost::test_tools::assertion_result res{true};
  for (const char* name : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}) {
    auto v = r.header(name);
    if (!v || !std::regex_match(*v, digits)) {
      res = boost::test_tools::assertion_result{false};
      res.message() << name << " missing or not an integer: '" << v.value_or("<absent>") << "'; ";
    }
  }
  if (!limit.empty() && r.header("X-RateLimit-Limit").value_or("") != limit) {
    res = boost::test_tools::assertion_result{false};
    res.message() << "X-RateLimit-Limit is not " << limit;
  }
  return res;
}

long remaining(const http_response& r) {
  return std::stol(r.header("X-RateLimit-Remaining").value_or("-1"));
}

http_response preflight(const http_client& c, const std::string& origin, const std::string& path) {
  return c.call("OPTIONS", path,
                {{"Origin", origin},
                 {"Access-Control-Request-Method", "POST"},
                 {"Access-Control-Request-Headers", "content-type, authorization"}});
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(http_rules_tests, api_fixture)

BOOST_AUTO_TEST_CASE(error_body_is_exactly_the_envelope_with_the_request_id) {
  auto r = client().get("/v1/no-such-thing");
  BOOST_TEST(is_error(r, 404, "NOT_FOUND", msg::not_found));
  auto rid = r.header("X-Request-Id").value_or("");
  BOOST_TEST(std::regex_match(rid, uuid_v4), rid);
  BOOST_TEST(r.json == json({{"error", {{"code", "NOT_FOUND"}, {"message", msg::not_found},
                                        {"requestId", rid}}}}));
  // Fresh ids per request.
  auto again = client().get("/v1/no-such-thing");
  BOOST_TEST(again.header("X-Request-Id").value_or("") != rid);
}

BOOST_AUTO_TEST_CASE(client_request_ids_are_echoed_only_when_they_match_the_pattern) {
  for (std::string id : {std::string{"abc"}, std::string{"A.b_c:d-e.123"}, std::string(128, 'x'),
                         std::string{"7"}}) {
    BOOST_TEST_CONTEXT("X-Request-Id " << id) {
      auto r = client().get("/v1/no-such-thing", {{"X-Request-Id", id}});
      BOOST_TEST(r.header("X-Request-Id").value_or("") == id);
      BOOST_TEST(r.json["error"]["requestId"] == id);
      auto ok = client().get("/health", {{"X-Request-Id", id}});
      BOOST_TEST(ok.status == 200);
      BOOST_TEST(ok.header("X-Request-Id").value_or("") == id);
    }
  }
  for (std::string id : {std::string(129, 'x'), std::string{"has space"}, std::string{"semi;colon"},
                         std::string{"slash/x"}, std::string{"caf\xc3\xa9"}, std::string{"a,b"}}) {
    BOOST_TEST_CONTEXT("X-Request-Id " << id) {
      auto r = client().get("/v1/no-such-thing", {{"X-Request-Id", id}});
      auto got = r.header("X-Request-Id").value_or("");
      BOOST_TEST(std::regex_match(got, uuid_v4), got);
      BOOST_TEST(r.json["error"]["requestId"] == got);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_response_carries_the_security_and_cache_headers) {
  auto u = register_user("headers@example.com");
  const auto& c = client();
  const std::vector<std::pair<std::string, http_response>> answers{
    {"GET /health", c.get("/health")},
    {"GET /health/live", c.get("/health/live")},
    {"GET /health/ready", c.get("/health/ready")},
    {"GET /metrics", c.get("/metrics")},
    {"GET /openapi.json", c.get("/openapi.json")},
    {"GET /nope (outside /v1)", c.get("/nope")},
    {"GET /v1/me 200", c.get("/v1/me", auth_header(u.access))},
    {"GET /v1/me 401", c.get("/v1/me")},
    {"GET /v1/unknown 404", c.get("/v1/unknown")},
    {"PATCH /v1/me 405", c.call("PATCH", "/v1/me")},
    {"POST register 400", c.post_raw("/v1/auth/register", "{")},
    {"POST register 415", c.post_raw("/v1/auth/register", valid_register, "text/plain")},
    {"OPTIONS preflight 204", preflight(c, allowed_origin, "/v1/auth/login")},
    {"OPTIONS preflight 403", preflight(c, "http://evil.example", "/v1/auth/login")},
    {"POST logout 204", c.call("POST", "/v1/auth/logout", auth_header(u.access))},
  };
  for (auto& [name, r] : answers)
    BOOST_TEST(common_headers(r), name);
}

BOOST_AUTO_TEST_CASE(malformed_json_bodies_are_rejected) {
  const std::string tail = R"(,"password":"correct horse battery","displayName":"X"})";
  const std::vector<std::pair<std::string, std::string>> bodies{
    {"truncated", "{"},
    {"trailing comma", R"({"email":"a@example.com",)" + tail.substr(1, tail.size() - 2) + ",}"},
    {"duplicate key", R"({"email":"a@example.com","email":"b@example.com")" + tail},
    {"nested duplicate key", R"({"email":"a@example.com","meta":{"k":1,"k":2})" + tail},
    {"lone high surrogate", R"({"email":"a@example.com","displayName":"X\ud800","password":"correct horse battery"})"},
    {"lone low surrogate", R"({"email":"a@example.com","displayName":"\udc00X","password":"correct horse battery"})"},
    {"invalid UTF-8 in a string", "{\"email\":\"a@example.com\",\"displayName\":\"X\xff\",\"password\":\"correct horse battery\"}"},
    {"overlong UTF-8", "{\"email\":\"a@example.com\",\"displayName\":\"X\xc0\xaf\",\"password\":\"correct horse battery\"}"},
    {"invalid UTF-8 outside strings", "{\"email\":\"a@example.com\"" + tail.substr(0, tail.size() - 1) + "\xff}"},
    {"top-level array", "[" + valid_register + "]"},
    {"empty array", "[]"},
    {"top-level string", R"("a@example.com")"},
    {"top-level number", "42"},
    {"top-level null", "null"},
    {"two objects", valid_register + valid_register},
    {"trailing garbage", valid_register + " x"},
  };
  for (auto& [name, body] : bodies) {
    BOOST_TEST_CONTEXT(name) {
      auto r = client().post_raw("/v1/auth/register", body);
      BOOST_TEST(is_error(r, 400, "MALFORMED_JSON", msg::malformed_json));
    }
  }
  BOOST_TEST(pg::count("SELECT count(*) FROM users") == 0);
  // A proper surrogate pair and unknown fields are fine.
  auto ok = client().post_raw(
    "/v1/auth/register",
    R"({"email":"emoji@example.com","password":"correct horse battery","displayName":"Pat \ud83d\ude00","extra":[1,{"x":null}]})");
  BOOST_TEST_REQUIRE(ok.status == 201, describe(ok));
  BOOST_TEST(ok.json["user"]["displayName"] == "Pat \xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(only_json_bodies_in_utf8_are_accepted) {
  for (std::optional<std::string> type :
       {std::optional<std::string>{"text/plain"}, std::optional<std::string>{"application/json; charset=latin1"},
        std::optional<std::string>{"application/json; charset=iso-8859-1"},
        std::optional<std::string>{"application/x-www-form-urlencoded"},
        std::optional<std::string>{"application/jsonx"}, std::optional<std::string>{}}) {
    BOOST_TEST_CONTEXT("Content-Type " << type.value_or("<none>")) {
      auto r = client().post_raw("/v1/auth/register", valid_register, type);
      BOOST_TEST(is_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", msg::unsupported_media_type));
    }
  }
  BOOST_TEST(pg::count("SELECT count(*) FROM users") == 0);
  // Authentication comes before the media type.
  BOOST_TEST(is_error(client().post_raw("/v1/auth/logout", "{}", "text/plain"), 401,
                      "AUTH_REQUIRED", msg::auth_required));
  // Case-insensitive type and parameter, whitespace around ';'.
  int n = 0;
  for (std::string type : {"Application/JSON ; Charset=UTF-8", "application/json;charset=utf-8",
                           "application/json"}) {
    BOOST_TEST_CONTEXT("Content-Type " << type) {
      json body{{"email", "ok" + std::to_string(++n) + "@example.com"},
                {"password", "correct horse battery"},
                {"displayName", "Ok"}};
      auto r = client().post_raw("/v1/auth/register", body.dump(), type);
      BOOST_TEST(r.status == 201, describe(r));
    }
  }
}

BOOST_AUTO_TEST_CASE(bodies_over_the_limit_are_413) {
  // A login body of exactly HTTP_BODY_LIMIT_BYTES (16384) is read; one byte more is not.
  auto body_of = [](size_t size) {
    std::string head = R"({"email":"big@example.com","password":"wrong password","pad":")";
    std::string end = "\"}";
    return head + std::string(size - head.size() - end.size(), 'a') + end;
  };
  auto at_limit = client().post_raw("/v1/auth/login", body_of(16384));
  BOOST_TEST(is_error(at_limit, 401, "INVALID_CREDENTIALS", msg::invalid_credentials));
  auto over = client().post_raw("/v1/auth/login", body_of(16385));
  BOOST_TEST(is_error(over, 413, "PAYLOAD_TOO_LARGE", msg::payload_too_large));
  auto far_over = client().post_raw("/v1/auth/login", body_of(200000));
  BOOST_TEST(is_error(far_over, 413, "PAYLOAD_TOO_LARGE", msg::payload_too_large));
  // 413 is the first check: before routing and media type.
  BOOST_TEST(is_error(client().post_raw("/v1/no-such-thing", body_of(16385), "text/plain"), 413,
                      "PAYLOAD_TOO_LARGE", msg::payload_too_large));
}

BOOST_AUTO_TEST_CASE(headers_over_16_kib_are_431) {
  auto big = client().get("/v1/me", {{"X-Padding", std::string(17 * 1024, 'h')}});
  BOOST_TEST(is_error(big, 431, "HEADERS_TOO_LARGE", msg::headers_too_large));
  auto split = client().get("/v1/me", {{"X-Padding-1", std::string(9 * 1024, 'h')},
                                       {"X-Padding-2", std::string(9 * 1024, 'h')}});
  BOOST_TEST(is_error(split, 431, "HEADERS_TOO_LARGE", msg::headers_too_large));
  auto fine = client().get("/v1/me", {{"X-Padding", std::string(8 * 1024, 'h')}});
  BOOST_TEST(is_error(fine, 401, "AUTH_REQUIRED", msg::auth_required));
}

BOOST_AUTO_TEST_CASE(far_oversized_bodies_and_headers_are_answered_not_dropped) {
  // Well past what the HTTP parser used to accept (1 MiB body, 64 KiB field): the
  // client still gets the contract's answer with the envelope, not a closed connection.
  const std::string two_mib(2 * 1024 * 1024, 'a');
  auto body = R"({"email":"big@example.com","password":"wrong password","pad":")" + two_mib + "\"}";
  auto login = client().post_raw("/v1/auth/login", body);
  BOOST_TEST(login.transport_error.empty(), login.transport_error);
  BOOST_TEST(is_error(login, 413, "PAYLOAD_TOO_LARGE", msg::payload_too_large));
  BOOST_TEST(common_headers(login));
  auto u = register_user("big-body@example.com");
  auto create = client().post_raw("/v1/households", body, "application/json", auth_header(u.access));
  BOOST_TEST(is_error(create, 413, "PAYLOAD_TOO_LARGE", msg::payload_too_large));
  BOOST_TEST(pg::count("SELECT count(*) FROM households") == 0);

  const std::string seventy_kib(70 * 1024, 'h');
  auto get = client().get("/v1/me", {{"X-Padding", seventy_kib}});
  BOOST_TEST(get.transport_error.empty(), get.transport_error);
  BOOST_TEST(is_error(get, 431, "HEADERS_TOO_LARGE", msg::headers_too_large));
  BOOST_TEST(common_headers(get));
  auto post = client().post("/v1/households", {{"name", "Header Home"}},
                            {{"Authorization", "Bearer " + u.access}, {"X-Padding", seventy_kib}});
  BOOST_TEST(is_error(post, 431, "HEADERS_TOO_LARGE", msg::headers_too_large));
  BOOST_TEST(pg::count("SELECT count(*) FROM households") == 0);

  // The instance is unharmed.
  BOOST_TEST(client().get("/v1/me", auth_header(u.access)).status == 200);
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_methods) {
  for (std::string path : {"/v1/no-such-thing", "/v1", "/v1/auth", "/v1/me/extra"}) {
    BOOST_TEST_CONTEXT(path) {
      auto r = client().get(path);
      BOOST_TEST(is_error(r, 404, "NOT_FOUND", msg::not_found));
      BOOST_TEST(rate_headers(r, "1000000"));
    }
  }
  // 405 (with Allow) comes before authentication.
  const std::vector<std::tuple<std::string, std::string, std::string>> wrong{
    {"PATCH", "/v1/me", "GET"}, {"DELETE", "/v1/me", "GET"}, {"GET", "/v1/auth/login", "POST"},
    {"PUT", "/v1/auth/register", "POST"}, {"GET", "/v1/auth/logout", "POST"}};
  for (auto& [method, path, allow] : wrong) {
    BOOST_TEST_CONTEXT(method << " " << path) {
      auto r = client().call(method, path);
      BOOST_TEST(is_error(r, 405, "METHOD_NOT_ALLOWED", msg::method_not_allowed));
      BOOST_TEST(r.header("Allow").value_or("<absent>") == allow);
      BOOST_TEST(rate_headers(r, "1000000"));
    }
  }
}

BOOST_AUTO_TEST_CASE(v1_responses_carry_rate_limit_headers_and_probes_do_not) {
  auto first = client().get("/v1/me");
  auto second = client().get("/v1/me");
  BOOST_TEST(rate_headers(first, "1000000"));
  BOOST_TEST(rate_headers(second, "1000000"));
  BOOST_TEST(remaining(second) < remaining(first));
  BOOST_TEST(remaining(first) <= 1000000 - 1);
  auto reset = std::stol(first.header("X-RateLimit-Reset").value_or("-1"));
  BOOST_TEST((reset >= 0 && reset <= 900), "reset " << reset);
  auto created = client().post_raw("/v1/auth/register", valid_register);
  BOOST_TEST(created.status == 201);
  BOOST_TEST(rate_headers(created, "1000000"));
  for (std::string path : {"/health", "/health/live", "/health/ready", "/metrics", "/openapi.json"}) {
    auto r = client().get(path);
    BOOST_TEST(r.status == 200, path);
    for (const char* name : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"})
      BOOST_TEST(!r.has_header(name), path << " has " << name);
  }
}

BOOST_AUTO_TEST_CASE(global_limit_answers_429_after_the_maximum) {
  service_process limited{env_overrides{{"RATE_LIMIT_MAX_REQUESTS", "3"}}};
  const auto& c = limited.client();
  auto reg = c.post_raw("/v1/auth/register", valid_register);
  BOOST_TEST_REQUIRE(reg.status == 201, describe(reg));
  BOOST_TEST(rate_headers(reg, "3"));
  BOOST_TEST(remaining(reg) == 2);
  auto a = c.get("/v1/me");
  auto b = c.get("/v1/me");
  BOOST_TEST(is_error(a, 401, "AUTH_REQUIRED", msg::auth_required));
  BOOST_TEST(remaining(a) == 1);
  BOOST_TEST(remaining(b) == 0);
  auto limited_answer = c.get("/v1/me");
  BOOST_TEST(is_error(limited_answer, 429, "RATE_LIMIT_EXCEEDED", msg::global_limit));
  BOOST_TEST(rate_headers(limited_answer, "3"));
  auto retry = std::stol(limited_answer.header("Retry-After").value_or("0"));
  BOOST_TEST((retry >= 1 && retry <= 900), "Retry-After " << retry);
  // Routing errors come before the limit; probes are exempt.
  BOOST_TEST(is_error(c.get("/v1/no-such-thing"), 404, "NOT_FOUND", msg::not_found));
  BOOST_TEST(is_error(c.call("PATCH", "/v1/me"), 405, "METHOD_NOT_ALLOWED", msg::method_not_allowed));
  BOOST_TEST(c.get("/health").status == 200);
  // A valid token is limited per user, not per IP.
  auto me = c.get("/v1/me", auth_header(reg.json["accessToken"].get<std::string>()));
  BOOST_TEST(me.status == 200, describe(me));
}

BOOST_AUTO_TEST_CASE(auth_limit_counts_every_sign_in_attempt) {
  auto email = "limited@example.com";
  insert_user(email, "the right password");
  service_process limited{env_overrides{{"AUTH_RATE_LIMIT_MAX_REQUESTS", "2"}}};
  const auto& c = limited.client();
  auto bad = c.post("/v1/auth/login", {{"email", email}, {"password", "wrong password"}});
  BOOST_TEST(is_error(bad, 401, "INVALID_CREDENTIALS", msg::invalid_credentials));
  auto malformed = c.post_raw("/v1/auth/login", "{");
  BOOST_TEST(is_error(malformed, 400, "MALFORMED_JSON", msg::malformed_json));
  // Checked before the body is read: even good credentials are refused now.
  auto third = c.post("/v1/auth/login", {{"email", email}, {"password", "the right password"}});
  BOOST_TEST(is_error(third, 429, "RATE_LIMIT_EXCEEDED", msg::auth_limit));
  auto reg = c.post_raw("/v1/auth/register", valid_register);
  BOOST_TEST(is_error(reg, 429, "RATE_LIMIT_EXCEEDED", msg::auth_limit));
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions") == 0);
  // Other /v1 routes are not affected by the sign-in limit.
  BOOST_TEST(is_error(c.get("/v1/me"), 401, "AUTH_REQUIRED", msg::auth_required));
}

BOOST_AUTO_TEST_CASE(cors_allows_listed_origins_only) {
  const auto& c = client();
  const std::string exposed =
    "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";
  for (std::string path : {"/health", "/v1/me"}) {
    auto r = c.get(path, {{"Origin", allowed_origin}});
    BOOST_TEST(r.header("Access-Control-Allow-Origin").value_or("") == allowed_origin, path);
    auto vary = r.header_values("Vary");
    BOOST_TEST((std::find(vary.begin(), vary.end(), "Origin") != vary.end()), path);
    BOOST_TEST(r.header("Access-Control-Expose-Headers").value_or("") == exposed, path);
    BOOST_TEST(!r.has_header("Access-Control-Allow-Credentials"), path);
    auto foreign = c.get(path, {{"Origin", "http://evil.example"}});
    BOOST_TEST(!foreign.has_header("Access-Control-Allow-Origin"), path);
  }

  auto pre = preflight(c, allowed_origin, "/v1/auth/login");
  BOOST_TEST(pre.status == 204, describe(pre));
  BOOST_TEST(pre.body.empty());
  BOOST_TEST(pre.header("Access-Control-Allow-Origin").value_or("") == allowed_origin);
  BOOST_TEST(pre.header("Access-Control-Allow-Methods").value_or("") == "GET, POST, PATCH, DELETE");
  BOOST_TEST(pre.header("Access-Control-Allow-Headers").value_or("")
             == "Authorization, Content-Type, X-Request-Id");
  BOOST_TEST(pre.header("Access-Control-Max-Age").value_or("") == "600");
  BOOST_TEST(pre.header("Access-Control-Expose-Headers").value_or("") == exposed);
  BOOST_TEST(!pre.has_header("Access-Control-Allow-Credentials"));
  // A /v1 preflight is a /v1 response: it carries the global limit's headers (SPEC §3.9).
  for (const char* h : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"})
    BOOST_TEST(pre.has_header(h), h);

  auto denied = preflight(c, "http://evil.example", "/v1/auth/login");
  BOOST_TEST(is_error(denied, 403, "CORS_ORIGIN_DENIED", msg::cors_origin_denied));
  BOOST_TEST(!denied.has_header("Access-Control-Allow-Origin"));
  BOOST_TEST(denied.has_header("X-RateLimit-Remaining"));
}

BOOST_AUTO_TEST_CASE(cors_origins_come_from_the_configuration) {
  service_process custom{env_overrides{{"CORS_ORIGINS", "https://app.example.com,https://admin.example.com"}}};
  auto admin = preflight(custom.client(), "https://admin.example.com", "/v1/me");
  BOOST_TEST(admin.status == 204, describe(admin));
  BOOST_TEST(admin.header("Access-Control-Allow-Origin").value_or("") == "https://admin.example.com");
  auto dev = preflight(custom.client(), allowed_origin, "/v1/me");
  BOOST_TEST(is_error(dev, 403, "CORS_ORIGIN_DENIED", msg::cors_origin_denied));
}

BOOST_AUTO_TEST_SUITE_END()
