#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/telemetry.hpp"
#include "actors/validation.hpp"
#include "http/routes.hpp"
#include "storage/crypto.hpp"

namespace petcare::http {

namespace {

constexpr auto health_timeout = std::chrono::milliseconds{1500};

void health(const call_ptr& c, caf::event_based_actor*) {
  c->reply(200, {{"status", "healthy"},
                 {"timestamp", actors::format_time_s(actors::now_ms() / 1000)},
                 {"version", c->rt->cfg.app_version}});
}

void live(const call_ptr& c, caf::event_based_actor*) {
  auto uptime = actors::now_ms() / 1000 - actors::process_start_unix();
  c->reply(200, {{"status", "alive"},
                 {"uptime", uptime},
                 {"memoryUsage", std::to_string(actors::memory_percent()) + "%"},
                 {"cpuUsage", std::to_string(actors::cpu_percent()) + "%"}});
}

nlohmann::json ready_body(const actors::health_report& h, const char* status) {
  auto word = [](bool ok) { return ok ? "healthy" : "unhealthy"; };
  return {{"status", status},
          {"checks",
           {{"database", word(h.database)},
            {"redis", word(h.redis)},
            {"dependencies", word(h.dependencies)}}}};
}

void ready(const call_ptr& c, caf::event_based_actor* self) {
  auto root = c->rt->lookup(actors::names::root);
  if (!root || c->rt->shutting_down->load())
    return c->reply(503, ready_body({}, "not_ready"));
  self->request(root, health_timeout, atom::health_v)
    .then(
      [c](const actors::health_report& h) {
        if (h.shutting_down || !h.database || !h.dependencies)
          return c->reply(503, ready_body(h, "not_ready"));
        c->reply(200, ready_body(h, h.redis ? "ready" : "degraded"));
      },
      [c](const caf::error&) { c->reply(503, ready_body({}, "not_ready")); });
}

void metrics_handler(const call_ptr& c, caf::event_based_actor*) {
  auto& token = c->rt->cfg.metrics_token;
  if (!token.empty()) {
    auto h = c->req->header().opt_value_of(restinio::http_field::authorization);
    std::string given = h ? std::string{*h} : std::string{};
    if (!storage::crypto::equal(given, "Bearer " + token))
      return c->fail(problem_for("AUTH_REQUIRED"));
  }
  auto& m = actors::metrics::instance();
  m.set("http_requests_in_flight", {}, static_cast<double>(in_flight().load()));
  m.set("build_info", {{"version", c->rt->cfg.app_version}}, 1);
  c->reply_raw(200, "text/plain; version=0.0.4; charset=utf-8", m.render());
}

void openapi(const call_ptr& c, caf::event_based_actor*) {
  static const std::string doc = openapi_document(c->rt->cfg.app_version);
  c->reply_raw(200, "application/json; charset=utf-8", doc);
}

} // namespace

void add_operational_routes(router& r) {
  auto op = [&r](const char* path, handler h) {
    r.add({"GET", path, std::move(h), false, body_rule::none, false, true});
  };
  op("/health", health);
  op("/health/live", live);
  op("/health/ready", ready);
  op("/metrics", metrics_handler);
  op("/openapi.json", openapi);
}

} // namespace petcare::http
