#include "http/call.hpp"

#include "actors/metrics.hpp"
#include "config/log.hpp"
#include "http/request_rules.hpp"

namespace petcare::http {

namespace {

constexpr const char* json_type = "application/json; charset=utf-8";

bool origin_allowed(const call& c, const std::string& origin) {
  for (auto& o : c.rt->cfg.cors_origins)
    if (o == origin || o == "*")
      return true;
  return false;
}

} // namespace

std::atomic<int64_t>& in_flight() {
  static std::atomic<int64_t> n{0};
  return n;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::vector<std::pair<std::string, std::string>> common_headers(const call& c) {
  std::vector<std::pair<std::string, std::string>> h{
    {"X-Request-Id", c.request_id},
    {"Cache-Control", "no-store"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
    {"Referrer-Policy", "no-referrer"},
  };
  if (c.rt->cfg.strict)
    h.emplace_back("Strict-Transport-Security", "max-age=31536000");
  auto origin = c.req->header().opt_value_of("Origin");
  if (origin && origin_allowed(c, std::string{*origin})) {
    h.emplace_back("Access-Control-Allow-Origin", std::string{*origin});
    h.emplace_back("Vary", "Origin");
    h.emplace_back("Access-Control-Expose-Headers",
                   "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, "
                   "X-RateLimit-Reset");
  }
  return h;
}

bool call::take_over() {
  if (answered_.exchange(true))
    return false;
  finish(200);
  return true;
}

std::chrono::milliseconds call::remaining() const {
  auto budget = std::chrono::milliseconds{rt->cfg.request_timeout_ms};
  auto used = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  return std::max(std::chrono::milliseconds{1}, budget - used);
}

void call::reply(int status, const nlohmann::json& body) {
  send(status, json_type, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
       nullptr);
}

void call::reply_raw(int status, const std::string& content_type, std::string body) {
  send(status, content_type, std::move(body), nullptr);
}

void call::reply_empty(int status) {
  send(status, {}, {}, nullptr);
}

void call::fail(const problem& p) {
  if (p.status >= 500 && p.code == "INTERNAL_ERROR")
    config::log(config::log_level::error, "http.internal_error",
                {{"requestId", request_id}, {"route", route}, {"detail", p.reason}});
  if (p.code == "SERVICE_UNAVAILABLE" && rt && rt->shutting_down && rt->shutting_down->load()
      && p.retry_after != 1) {
    // Draining (SPEC §4.2): another instance can answer at once.
    auto draining = p;
    draining.retry_after = 1;
    return send(draining.status, json_type, problem_json(draining, request_id), &draining);
  }
  send(p.status, json_type, problem_json(p, request_id), &p);
}

void call::fail(const caf::error& err) {
  fail(to_problem(err));
}

void call::send(int status, const std::string& content_type, std::string body,
                const problem* p) {
  if (answered_.exchange(true))
    return;
  if (before_send) {
    auto hook = std::move(before_send);
    before_send = nullptr;
    auto self = shared_from_this();
    std::optional<problem> kept;
    if (p != nullptr)
      kept = *p;
    auto text = body;
    hook(status, text, [self, status, content_type, body = std::move(body), kept]() mutable {
      self->transmit(status, content_type, std::move(body), kept ? &*kept : nullptr);
    });
    return;
  }
  transmit(status, content_type, std::move(body), p);
}

void call::transmit(int status, const std::string& content_type, std::string body,
                    const problem* p) {
  auto r = req->create_response(
    restinio::http_status_line_t{restinio::http_status_code_t{static_cast<std::uint16_t>(status)},
                                 reason_phrase(status)});
  for (auto& [k, v] : common_headers(*this))
    r.append_header(k, v);
  if (!content_type.empty())
    r.append_header(restinio::http_field::content_type, content_type);
  for (auto& [k, v] : headers)
    r.append_header(k, v);
  if (p != nullptr) {
    if (p->retry_after > 0)
      r.append_header("Retry-After", std::to_string(p->retry_after));
    if (p->www_authenticate)
      r.append_header("WWW-Authenticate", "Bearer");
  }
  if (rt->shutting_down->load())
    r.connection_close();
  r.set_body(std::move(body));
  r.done();
  finish(status);
}

void call::finish(int status) {
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto& m = actors::metrics::instance();
  m.inc("http_requests_total", {{"method", method}, {"route", route}, {"status", std::to_string(status)}});
  m.observe("http_request_duration_seconds", {{"method", method}, {"route", route}}, elapsed);
  in_flight().fetch_sub(1);
  auto level = quiet ? config::log_level::debug : config::log_level::info;
  if (config::log_enabled(level))
    config::log(level, "http.access",
                {{"requestId", request_id},
                 {"method", method},
                 {"route", route},
                 {"status", status},
                 {"durationMs", static_cast<int64_t>(elapsed * 1000.0 + 0.5)},
                 {"userId", user_id.empty() ? nlohmann::json() : nlohmann::json(user_id)},
                 {"ipHash", ip_hash}});
}

} // namespace petcare::http
