#include "http/route_helpers.hpp"

#include "actors/metrics.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"

namespace petcare::http {

namespace {
constexpr const char* nil_uuid = "00000000-0000-0000-0000-000000000000";
} // namespace

storage::actor_ctx ctx_of(const call& c) {
  return {c.user_id, c.request_id, c.route};
}

std::string path_id(const call& c, const std::string& name) {
  auto i = c.params.find(name);
  if (i == c.params.end())
    return nil_uuid;
  return actors::normalize_uuid(i->second).value_or(nil_uuid);
}

void fail(const call_ptr& c, const caf::error& err) {
  auto p = to_problem(err);
  if (p.status == 429) {
    actors::metrics::instance().inc("rate_limit_rejections_total", {{"limit", p.reason}});
    config::log(config::log_level::warn, "security.rate_limited",
                {{"limit", p.reason}, {"userId", c->user_id}, {"requestId", c->request_id},
                 {"ipHash", c->ip_hash}});
  }
  if (p.status == 403 || p.code == "HOUSEHOLD_NOT_FOUND") {
    actors::metrics::instance().inc("authz_denied_total", {{"code", p.code}});
    config::log(config::log_level::warn, "security.authz_denied",
                {{"userId", c->user_id}, {"method", c->method}, {"route", c->route},
                 {"code", p.code}, {"ipHash", c->ip_hash}, {"requestId", c->request_id}});
  }
  c->fail(p);
}

} // namespace petcare::http
