#include "actors/household_ops.hpp"
#include "actors/household_tx.hpp"
#include "actors/invite_code.hpp"
#include "actors/metrics.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "http/fields.hpp"
#include "http/route_helpers.hpp"
#include "http/routes.hpp"
#include "http/views.hpp"

namespace petcare::http {

namespace {

using storage::households::approval;
constexpr int64_t day_ms = 86400000;




/// Answers a transaction with `status` and `body(result)`.
template <class F>
actors::callback<storage::tx_result> answer(const call_ptr& c, int status, F body) {
  return [c, status, body](caf::expected<storage::tx_result> r) {
    if (!r)
      return fail(c, r.error());
    if (status == 204)
      return c->reply_empty(204);
    c->reply(status, body(*r));
  };
}

/// RFC 3339 end of temporary access: future and ≤ 365 days ahead (SPEC §3.5).
std::string check_end(const nlohmann::json& v, int64_t& out) {
  if (!v.is_string())
    return "temporaryExpiresAt must be an RFC 3339 date-time string.";
  auto t = actors::parse_rfc3339_ms(v.get<std::string>());
  if (!t)
    return "temporaryExpiresAt must be an RFC 3339 date-time with a time zone offset.";
  auto now = actors::now_ms();
  if (*t <= now)
    return "temporaryExpiresAt must be in the future.";
  if (*t > now + 365 * day_ms)
    return "temporaryExpiresAt must be at most 365 days ahead.";
  out = *t;
  return {};
}

void create(const call_ptr& c, caf::event_based_actor* self) {
  std::optional<problem> err;
  auto name = required_string(c->body, "name", err);
  auto desc = optional_string(c->body, "description", err);
  if (err)
    return c->fail(*err);
  auto checked = actors::check_household_name(*name);
  if (!checked.ok()) {
    auto p = problem_for("INVALID_HOUSEHOLD_NAME");
    p.message = checked.error;
    return c->fail(p);
  }
  auto d = actors::normalize_description(desc.value);
  if (!d.ok())
    return c->fail(validation_error(d.error));
  actors::create_household(self, c->rt, ctx_of(*c), checked.value, d.value,
                           answer(c, 201, [c](const storage::tx_result& r) {
                             return nlohmann::json{{"household", household_json(r.household, c->user_id)}};
                           }));
}

void my_household(const call_ptr& c, caf::event_based_actor* self) {
  actors::my_household(self, c->rt, c->user_id, [c](caf::expected<storage::household_row> h) {
    if (!h)
      return c->fail(h.error());
    c->reply(200, household_view_json(*h, c->user_id));
  });
}

void get_household(const call_ptr& c, caf::event_based_actor* self) {
  actors::visible_household(self, c->rt, c->user_id, path_id(*c, "householdId"),
                            [c](caf::expected<storage::household_row> h) {
                              if (!h)
                                return fail(c, h.error());
                              c->reply(200, household_view_json(*h, c->user_id));
                            });
}

void patch_household(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  storage::households::patch_fields p;
  std::optional<problem> err;
  auto name = optional_string(c->body, "name", err);
  auto desc = optional_string(c->body, "description", err);
  if (err) {
    m.validation_error = err->message;
  } else if (!name.present && !desc.present) {
    m.validation_error = "At least one of name or description is required.";
  } else if (name.present && name.is_null) {
    m.validation_error = "name must not be null.";
  }
  std::optional<problem> name_problem;
  if (m.validation_error.empty() && name.present) {
    auto checked = actors::check_household_name(name.value);
    if (!checked.ok())
      name_problem = problem_for("INVALID_HOUSEHOLD_NAME"), name_problem->message = checked.error;
    p.name = checked.value;
  }
  if (m.validation_error.empty() && desc.present) {
    auto d = actors::normalize_description(desc.value);
    if (!d.ok())
      m.validation_error = d.error;
    p.description_set = true;
    p.description = d.value;
  }
  m.run = actors::tx::update(m.who, m.hid, p);
  if (name_problem) {
    // INVALID_HOUSEHOLD_NAME is a field error: after visibility and role.
    m.refusal = "INVALID_HOUSEHOLD_NAME";
    auto message = name_problem->message;
    return actors::checked_mutation(self, c->rt, m, [c, message](caf::expected<storage::tx_result> r) {
      auto p = to_problem(r.error());
      if (p.code == "INVALID_HOUSEHOLD_NAME")
        p.message = message;
      if (p.status == 403 || p.code == "HOUSEHOLD_NOT_FOUND")
        return fail(c, r.error());
      c->fail(p);
    });
  }
  actors::checked_mutation(self, c->rt, m, answer(c, 200, [c](const storage::tx_result& r) {
                             return nlohmann::json{{"household", household_json(r.household, c->user_id)}};
                           }));
}

void regenerate(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  int days = 30;
  if (auto i = c->body.find("expiresInDays"); i != c->body.end()) {
    if (i->is_null())
      days = 0;
    else if (i->is_number_integer() && (*i == 7 || *i == 30 || *i == 90))
      days = i->get<int>();
    else
      m.validation_error = "expiresInDays must be 7, 30, 90 or null.";
  }
  m.limit = actors::code_regenerate_limit();
  m.limit_key = m.hid;
  m.run = actors::tx::regenerate_code(m.who, m.hid, days);
  actors::checked_mutation(self, c->rt, m, answer(c, 200, [c](const storage::tx_result& r) {
                             auto h = household_json(r.household, c->user_id);
                             return nlohmann::json{{"inviteCode", h["inviteCode"]},
                                                   {"inviteCodeExpiresAt", h["inviteCodeExpiresAt"]}};
                           }));
}

void welcome_ack(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  m.leader_only = false;
  m.run = actors::tx::acknowledge_welcome(m.who, m.hid);
  actors::checked_mutation(self, c->rt, m, answer(c, 204, [](const storage::tx_result&) { return nlohmann::json{}; }));
}

void join(const call_ptr& c, caf::event_based_actor* self) {
  std::optional<problem> err;
  auto raw = required_string(c->body, "inviteCode", err);
  if (err)
    return c->fail(*err);
  auto code = actors::normalize_invite_code(*raw);
  if (code.status == actors::code_input::empty)
    return c->fail(validation_error("inviteCode is required."));
  if (code.status == actors::code_input::malformed)
    return c->fail(problem_for("INVALID_INVITE_CODE"));
  actors::join_household(self, c->rt, ctx_of(*c), c->client_ip, code.code,
                         answer(c, 201, [](const storage::tx_result& r) { return r.body; }));
}

approval parse_approval(const nlohmann::json& body) {
  approval a;
  auto t = body.find("isTemporary");
  auto e = body.find("temporaryExpiresAt");
  bool has_t = t != body.end() && !t->is_null();
  bool has_e = e != body.end() && !e->is_null();
  if (has_t && !t->is_boolean()) {
    a.validation_error = "isTemporary must be a boolean.";
    return a;
  }
  a.is_temporary = has_t && t->get<bool>();
  if (!a.is_temporary) {
    if (has_e)
      a.validation_error = "temporaryExpiresAt requires isTemporary: true.";
    return a;
  }
  if (!has_e) {
    a.validation_error = "temporaryExpiresAt is required when isTemporary is true.";
    return a;
  }
  a.validation_error = check_end(*e, a.temporary_expires_at);
  return a;
}

void approve(const call_ptr& c, caf::event_based_actor* self) {
  auto rid = path_id(*c, "requestId");
  auto a = parse_approval(c->body);
  auto who = ctx_of(*c);
  actors::on_request(self, c->rt, rid, actors::tx::approve(who, rid, a),
                     answer(c, 200, [](const storage::tx_result& r) { return r.body; }));
}

void reject(const call_ptr& c, caf::event_based_actor* self) {
  auto rid = path_id(*c, "requestId");
  auto who = ctx_of(*c);
  actors::on_request(self, c->rt, rid, actors::tx::reject(who, rid),
                     answer(c, 200, [](const storage::tx_result& r) { return r.body; }));
}

void withdraw(const call_ptr& c, caf::event_based_actor* self) {
  auto rid = path_id(*c, "requestId");
  auto who = ctx_of(*c);
  actors::on_request(self, c->rt, rid, actors::tx::withdraw(who, rid),
                     answer(c, 200, [](const storage::tx_result& r) { return r.body; }));
}

void remove_member(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  auto user = path_id(*c, "userId");
  if (user == c->user_id) {
    m.refusal = "CANNOT_REMOVE_SELF";
    m.refusal_denies = true;
  }
  m.limit = actors::member_remove_limit();
  m.limit_key = m.hid;
  m.run = actors::tx::remove_member(m.who, m.hid, user);
  actors::checked_mutation(self, c->rt, m, answer(c, 204, [](const storage::tx_result&) { return nlohmann::json{}; }));
}

void leave(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  m.leader_only = false;
  std::string successor;
  bool given = false;
  if (auto i = c->body.find("successorId"); i != c->body.end() && !i->is_null()) {
    given = true;
    if (i->is_string())
      successor = actors::normalize_uuid(i->get<std::string>()).value_or("");
    else
      m.validation_error = "successorId must be a string.";
  }
  m.run = actors::tx::leave(m.who, m.hid, successor, given);
  actors::checked_mutation(self, c->rt, m, answer(c, 200, [](const storage::tx_result& r) { return r.body; }));
}

void transfer(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  std::string next;
  auto i = c->body.find("newLeaderId");
  if (i == c->body.end() || i->is_null())
    m.validation_error = "newLeaderId is required.";
  else if (i->is_string())
    next = actors::normalize_uuid(i->get<std::string>()).value_or("");
  else
    m.validation_error = "newLeaderId must be a string.";
  m.run = actors::tx::transfer(m.who, m.hid, next);
  actors::checked_mutation(self, c->rt, m, answer(c, 200, [](const storage::tx_result& r) { return r.body; }));
}

void extend(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  auto user = path_id(*c, "userId");
  int64_t until = 0;
  auto i = c->body.find("temporaryExpiresAt");
  std::string problem_text = i == c->body.end() || i->is_null()
                               ? std::string{"temporaryExpiresAt is required."}
                               : check_end(*i, until);
  m.run = actors::tx::extend(m.who, m.hid, user, until, problem_text);
  actors::checked_mutation(self, c->rt, m, answer(c, 200, [](const storage::tx_result& r) { return r.body; }));
}

} // namespace

void add_household_routes(router& r) {
  r.add({"POST", "/v1/households", create, true, body_rule::required});
  r.add({"GET", "/v1/households/me", my_household, true, body_rule::none});
  r.add({"POST", "/v1/households/join", join, true, body_rule::required});
  r.add({"GET", "/v1/households/{householdId}", get_household, true, body_rule::none});
  r.add({"PATCH", "/v1/households/{householdId}", patch_household, true, body_rule::required});
  r.add({"POST", "/v1/households/{householdId}/invite-code", regenerate, true, body_rule::optional});
  r.add({"POST", "/v1/households/{householdId}/welcome-ack", welcome_ack, true, body_rule::optional});
  r.add({"DELETE", "/v1/households/{householdId}/members/{userId}", remove_member, true, body_rule::none});
  r.add({"POST", "/v1/households/{householdId}/leave", leave, true, body_rule::optional});
  r.add({"POST", "/v1/households/{householdId}/leadership", transfer, true, body_rule::required});
  r.add({"POST", "/v1/households/{householdId}/members/{userId}/extend", extend, true, body_rule::required});
  r.add({"POST", "/v1/join-requests/{requestId}/approve", approve, true, body_rule::optional});
  r.add({"POST", "/v1/join-requests/{requestId}/reject", reject, true, body_rule::optional});
  r.add({"POST", "/v1/join-requests/{requestId}/withdraw", withdraw, true, body_rule::optional});
}

} // namespace petcare::http
