#include "http/route_helpers.hpp"

#include "actors/rate_limit.hpp"

#include <restinio/all.hpp>

#include "actors/household_ops.hpp"
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

void reject_auth(const call_ptr& c, const caf::error& err) {
  auto p = to_problem(err);
  auto reason = p.code == "AUTH_REQUIRED" ? "missing" : p.reason.empty() ? "malformed" : p.reason;
  actors::metrics::instance().inc("auth_failures_total", {{"reason", reason}});
  config::log(config::log_level::warn, "security.authn_failed",
              {{"reason", reason}, {"ipHash", c->ip_hash}, {"requestId", c->request_id}});
  c->fail(p);
}

void fail(const call_ptr& c, const caf::error& err) {
  auto p = to_problem(err);
  if (p.status == 429) {
    actors::metrics::instance().inc("rate_limit_rejections_total", {{"limit", p.reason}});
    if (actors::first_rejection(p.reason + '|' + c->user_id + '|' + c->ip_hash, p.retry_after))
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

void require_leader(const call_ptr& c, caf::event_based_actor* self, const std::string& hid,
                    std::function<void()> then) {
  actors::visible_household(self, c->rt, c->user_id, hid, [=](caf::expected<storage::household_row> h) {
    if (!h)
      return fail(c, h.error());
    if (h->leader_id == c->user_id)
      return then();
    auto who = ctx_of(*c);
    actors::with_db<bool>(
      self, c->rt,
      [who, hid](storage::database& db) {
        auto err = storage::households::audit_denied(db, who, hid, who.route, "NOT_HOUSEHOLD_LEADER");
        return err ? caf::expected<bool>{std::move(err)} : caf::expected<bool>{true};
      },
      [c](caf::expected<bool>) { fail(c, storage::refused("NOT_HOUSEHOLD_LEADER")); });
  });
}

std::optional<std::string_view> query_params::get(std::string_view name) const {
  auto i = values.find(name);
  return i == values.end() ? std::nullopt : std::optional<std::string_view>{i->second};
}

query_params read_params(const call& c, std::initializer_list<std::string_view> known) {
  query_params q;
  auto parsed = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(c.req->header().query());
  if (!parsed) {
    q.error = "The query string is malformed.";
    return q;
  }
  for (const auto& [key, value] : *parsed)
    for (auto name : known)
      if (key == name && !q.values.emplace(std::string{name}, std::string{value}).second && q.error.empty())
        q.error = std::string{name} + " must be given at most once.";
  return q;
}

} // namespace petcare::http
