#include "actors/accounts.hpp"
#include "actors/metrics.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "http/fields.hpp"
#include "http/routes.hpp"

namespace petcare::http {

namespace {

nlohmann::json user_json(const storage::user_row& u) {
  return {{"id", u.id}, {"email", u.email}, {"displayName", u.display_name}};
}

nlohmann::json auth_json(const actors::auth_result& a) {
  return {{"user", user_json(a.user)},
          {"accessToken", a.access_token},
          {"refreshToken", a.refresh_token},
          {"expiresIn", a.expires_in}};
}

/// The User-Agent as stored: valid UTF-8 without controls, ≤ 200 code points.
std::string stored_user_agent(const call& c) {
  auto ua = c.req->header().opt_value_of(restinio::http_field::user_agent);
  if (!ua)
    return {};
  std::string v{*ua};
  if (!actors::valid_utf8(v) || actors::has_control(v))
    return {};
  size_t points = 0, i = 0;
  for (; i < v.size() && points < 200; ++i)
    if ((static_cast<unsigned char>(v[i]) & 0xC0) != 0x80)
      ++points;
  while (i < v.size() && (static_cast<unsigned char>(v[i]) & 0xC0) == 0x80)
    ++i;
  return v.substr(0, i);
}

actors::client_info client_of(const call& c) {
  return {stored_user_agent(c), c.ip_hash};
}

/// Answers `status` with an AuthResult, or the error.
actors::callback<actors::auth_result> answer_auth(const call_ptr& c, int status) {
  return [c, status](caf::expected<actors::auth_result> r) {
    if (!r) {
      auto p = to_problem(r.error());
      if (p.status == 401) {
        config::log(config::log_level::warn, "security.authn_failed",
                    {{"reason", p.reason}, {"ipHash", c->ip_hash}, {"requestId", c->request_id}});
        actors::metrics::instance().inc("auth_failures_total", {{"reason", p.reason}});
      }
      return c->fail(p);
    }
    c->user_id = r->user.id;
    c->reply(status, auth_json(*r));
  };
}

/// SPEC §4.1: a control character in a string field is a VALIDATION_ERROR naming
/// the field (password and refresh token have no rule that allows one).
std::optional<problem> control_refusal(const std::string& field, const std::string& value) {
  if (!actors::has_control(value))
    return std::nullopt;
  return validation_error(field + " must not contain control characters.");
}

void register_handler(const call_ptr& c, caf::event_based_actor* self) {
  std::optional<problem> err;
  auto email = required_string(c->body, "email", err);
  auto password = required_string(c->body, "password", err);
  auto display = required_string(c->body, "displayName", err);
  if (!err)
    err = control_refusal("password", *password);
  if (err)
    return c->fail(*err);
  auto normalized = actors::normalize_email(*email);
  if (!normalized)
    return c->fail(problem_for("INVALID_EMAIL"));
  if (!actors::valid_password(*password, *normalized))
    return c->fail(problem_for("WEAK_PASSWORD"));
  auto name = actors::normalize_display_name(*display);
  if (!name)
    return c->fail(validation_error(
      "displayName must be 1-50 characters without control or direction-override characters."));
  actors::register_account(self, c->rt, *normalized, *password, *name, client_of(*c),
                           answer_auth(c, 201));
}

void login_handler(const call_ptr& c, caf::event_based_actor* self) {
  std::optional<problem> err;
  auto email = required_string(c->body, "email", err);
  auto password = required_string(c->body, "password", err);
  if (!err)
    err = control_refusal("password", *password);
  if (err)
    return c->fail(*err);
  // A malformed email cannot exist; it still costs one dummy verification.
  auto normalized = actors::normalize_email(*email).value_or(std::string{});
  actors::login(self, c->rt, normalized, *password, client_of(*c), answer_auth(c, 200));
}

void refresh_handler(const call_ptr& c, caf::event_based_actor* self) {
  std::optional<problem> err;
  auto token = required_string(c->body, "refreshToken", err);
  if (!err)
    err = control_refusal("refreshToken", *token);
  if (err)
    return c->fail(*err);
  actors::refresh(self, c->rt, *token, answer_auth(c, 200));
}

void logout_handler(const call_ptr& c, caf::event_based_actor* self) {
  actors::logout(self, c->rt, {c->user_id, c->sid}, [c](caf::expected<bool> r) {
    if (!r)
      return c->fail(r.error());
    c->reply_empty(204);
  });
}

void me_handler(const call_ptr& c, caf::event_based_actor* self) {
  actors::me(self, c->rt, {c->user_id, c->sid}, [c](caf::expected<storage::me_row> r) {
    if (!r)
      return c->fail(r.error());
    c->reply(200, {{"user", user_json(r->user)},
                   {"householdId", r->household_id ? nlohmann::json(*r->household_id)
                                                   : nlohmann::json(nullptr)}});
  });
}

} // namespace

void add_account_routes(router& r) {
  r.add(with_secret_answer({"POST", "/v1/auth/register", register_handler, false, body_rule::required, true}));
  r.add(with_secret_answer({"POST", "/v1/auth/login", login_handler, false, body_rule::required, true}));
  r.add(with_secret_answer({"POST", "/v1/auth/refresh", refresh_handler, false, body_rule::required}));
  r.add({"POST", "/v1/auth/logout", logout_handler, true, body_rule::optional});
  r.add({"GET", "/v1/me", me_handler, true, body_rule::none});
}

} // namespace petcare::http
