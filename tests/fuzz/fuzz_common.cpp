#include "fuzz_common.hpp"

#include <cstring>

#include "actors/invite_code.hpp"
#include "actors/validation.hpp"
#include "http/fields.hpp"
#include "http/request_rules.hpp"

namespace petcare::fuzz {

using nlohmann::json;
using http::problem;

void check_input_problem(const problem& p, const std::string& request_id) {
  require(p.status >= 400 && p.status < 500, "pure input answered with a non-4xx", p.code);
  auto entry = http::problem_for(p.code == "INVALID_INVITE_CODE" && p.status == 404
                                   ? "INVALID_INVITE_CODE_LOOKUP"
                                   : p.code);
  require(entry.code == p.code && entry.status == p.status, "code not in the catalogue", p.code);
  require(!p.message.empty(), "empty message", p.code);
  if (p.status == 401)
    require(p.www_authenticate == (p.code != "INVALID_CREDENTIALS" && p.code != "INVALID_REFRESH_TOKEN"),
            "WWW-Authenticate rule", p.code);
  auto text = http::problem_json(p, request_id);
  auto doc = json::parse(text, nullptr, false);
  require(!doc.is_discarded() && doc.is_object() && doc.size() == 1 && doc.contains("error"),
          "error body shape", text);
  const auto& e = doc["error"];
  require(e.is_object() && e.size() == 3, "error object keys", text);
  for (const char* k : {"code", "message", "requestId"})
    require(e.contains(k) && e[k].is_string(), "error key missing or not a string", k);
  require(e["code"] == p.code && e["requestId"] == request_id, "error body content", text);
  for (char ch : p.code)
    require((ch >= 'A' && ch <= 'Z') || ch == '_', "code not UPPER_SNAKE", p.code);
}

namespace {

constexpr int64_t day_ms = 86400000;
constexpr int64_t fixed_now_ms = 1795000000000; // 2026-11-18; fixed so runs are reproducible

std::optional<problem> fail(std::string message) { return http::validation_error(message); }

std::string check_end(const json& v) {
  if (!v.is_string())
    return "temporaryExpiresAt must be an RFC 3339 date-time string.";
  auto t = actors::parse_rfc3339_ms(v.get<std::string>());
  if (!t)
    return "temporaryExpiresAt must be an RFC 3339 date-time with a time zone offset.";
  if (*t <= fixed_now_ms)
    return "temporaryExpiresAt must be in the future.";
  if (*t > fixed_now_ms + 365 * day_ms)
    return "temporaryExpiresAt must be at most 365 days ahead.";
  // A time we accept must print and parse back to itself.
  auto again = actors::parse_rfc3339_ms(actors::format_time_ms(*t));
  require(again && *again == *t, "RFC 3339 round trip", v.get<std::string>());
  return {};
}

std::optional<problem> register_body(const json& b) {
  std::optional<problem> err;
  auto email = http::required_string(b, "email", err);
  auto password = http::required_string(b, "password", err);
  auto display = http::required_string(b, "displayName", err);
  if (err)
    return err;
  auto normalized = actors::normalize_email(*email);
  if (!normalized)
    return http::problem_for("INVALID_EMAIL");
  require(actors::normalize_email(*normalized) == normalized, "email normalising not idempotent", *email);
  if (!actors::valid_password(*password, *normalized))
    return http::problem_for("WEAK_PASSWORD");
  auto name = actors::normalize_display_name(*display);
  if (!name)
    return fail("displayName must be 1-50 characters without control or direction-override characters.");
  require(actors::normalize_display_name(*name) == name, "displayName not idempotent", *display);
  require(actors::valid_utf8(*name) && !actors::has_control(*name), "displayName output", *name);
  return std::nullopt;
}

std::optional<problem> login_body(const json& b) {
  std::optional<problem> err;
  auto email = http::required_string(b, "email", err);
  auto password = http::required_string(b, "password", err);
  if (err)
    return err;
  (void)actors::normalize_email(*email);
  return std::nullopt;
}

std::optional<problem> one_string(const json& b, const char* name) {
  std::optional<problem> err;
  http::required_string(b, name, err);
  return err;
}

std::optional<problem> household_name(const std::string& raw) {
  auto checked = actors::check_household_name(raw);
  if (!checked.ok()) {
    auto p = http::problem_for("INVALID_HOUSEHOLD_NAME");
    p.message = checked.error;
    return p;
  }
  require(actors::check_household_name(checked.value).value == checked.value, "name not idempotent", raw);
  auto prefix = actors::invite_prefix(checked.value);
  require(prefix.size() >= 3 && prefix.size() <= 6, "invite prefix length", prefix);
  return std::nullopt;
}

std::optional<problem> description(const std::string& raw) {
  auto d = actors::normalize_description(raw);
  if (!d.ok())
    return fail(d.error);
  if (d.value) {
    require(actors::code_points(*d.value) <= 200 && !actors::has_control(*d.value), "description output",
            *d.value);
    require(actors::normalize_description(*d.value).value == d.value, "description not idempotent", raw);
  }
  return std::nullopt;
}

std::optional<problem> create_body(const json& b) {
  std::optional<problem> err;
  auto name = http::required_string(b, "name", err);
  auto desc = http::optional_string(b, "description", err);
  if (err)
    return err;
  if (auto p = household_name(*name))
    return p;
  return description(desc.value);
}

std::optional<problem> patch_body(const json& b) {
  std::optional<problem> err;
  auto name = http::optional_string(b, "name", err);
  auto desc = http::optional_string(b, "description", err);
  if (err)
    return err;
  if (!name.present && !desc.present)
    return fail("At least one of name or description is required.");
  if (name.present && name.is_null)
    return fail("name must not be null.");
  if (desc.present)
    if (auto p = description(desc.value))
      return p;
  if (name.present)
    return household_name(name.value); // after visibility and role in the service
  return std::nullopt;
}

std::optional<problem> join_body(const json& b) {
  std::optional<problem> err;
  auto raw = http::required_string(b, "inviteCode", err);
  if (err)
    return err;
  auto code = actors::normalize_invite_code(*raw);
  if (code.status == actors::code_input::empty)
    return fail("inviteCode is required.");
  if (code.status == actors::code_input::malformed)
    return http::problem_for("INVALID_INVITE_CODE");
  require(actors::valid_invite_code_format(code.code), "normalised code format", code.code);
  return std::nullopt;
}

std::optional<problem> regenerate_body(const json& b) {
  if (auto i = b.find("expiresInDays"); i != b.end())
    if (!i->is_null() && !(i->is_number_integer() && (*i == 7 || *i == 30 || *i == 90)))
      return fail("expiresInDays must be 7, 30, 90 or null.");
  return std::nullopt;
}

std::optional<problem> uuid_field(const json& b, const char* name, bool required) {
  auto i = b.find(name);
  if (i == b.end() || i->is_null())
    return required ? fail(std::string{name} + " is required.") : std::nullopt;
  if (!i->is_string())
    return fail(std::string{name} + " must be a string.");
  if (auto u = actors::normalize_uuid(i->get<std::string>()))
    require(actors::is_uuid(*u) && actors::normalize_uuid(*u) == u, "uuid normalising", *u);
  return std::nullopt;
}

std::optional<problem> extend_body(const json& b) {
  auto i = b.find("temporaryExpiresAt");
  if (i == b.end() || i->is_null())
    return fail("temporaryExpiresAt is required.");
  auto e = check_end(*i);
  return e.empty() ? std::nullopt : fail(e);
}

std::optional<problem> approve_body(const json& b) {
  auto t = b.find("isTemporary");
  auto e = b.find("temporaryExpiresAt");
  bool has_t = t != b.end() && !t->is_null();
  bool has_e = e != b.end() && !e->is_null();
  if (has_t && !t->is_boolean())
    return fail("isTemporary must be a boolean.");
  if (!(has_t && t->get<bool>()))
    return has_e ? fail("temporaryExpiresAt requires isTemporary: true.") : std::nullopt;
  if (!has_e)
    return fail("temporaryExpiresAt is required when isTemporary is true.");
  auto err = check_end(*e);
  return err.empty() ? std::nullopt : fail(err);
}

std::optional<problem> invite_body(const json& b) {
  std::optional<problem> err;
  auto email = http::required_string(b, "email", err);
  if (err)
    return err;
  if (!actors::normalize_email(*email))
    return http::problem_for("INVALID_EMAIL");
  auto f = http::optional_string(b, "personalMessage", err);
  if (err)
    return err;
  if (!f.present || f.is_null)
    return std::nullopt;
  auto v = f.value;
  auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; };
  while (!v.empty() && space(v.back()))
    v.pop_back();
  size_t start = 0;
  while (start < v.size() && space(v[start]))
    ++start;
  v.erase(0, start);
  std::string controls_removed;
  for (char ch : v)
    if (ch != '\n' && ch != '\r' && ch != '\t')
      controls_removed += ch;
  if (actors::has_control(controls_removed))
    return fail("personalMessage must not contain control characters other than line breaks.");
  if (actors::code_points(v) > 500)
    return fail("personalMessage must be 500 characters or less.");
  return std::nullopt;
}

std::optional<problem> token_body(const json& b) {
  std::optional<problem> err;
  auto token = http::required_string(b, "token", err);
  if (!err && token->empty())
    err = http::validation_error("token is required.");
  return err;
}

} // namespace

const char* const body_routes[] = {
  "POST /v1/auth/register",
  "POST /v1/auth/login",
  "POST /v1/auth/refresh",
  "POST /v1/households",
  "PATCH /v1/households/{householdId}",
  "POST /v1/households/join",
  "POST /v1/households/{householdId}/invite-code",
  "POST /v1/households/{householdId}/leave",
  "POST /v1/households/{householdId}/leadership",
  "POST /v1/households/{householdId}/members/{userId}/extend",
  "POST /v1/join-requests/{requestId}/approve",
  "POST /v1/households/{householdId}/email-invites",
  "POST /v1/email-invites/preview",
  "POST /v1/email-invites/accept",
};
const size_t body_route_count = sizeof body_routes / sizeof body_routes[0];

std::optional<problem> validate_body(const std::string& r, const json& b) {
  if (r == "POST /v1/auth/register")
    return register_body(b);
  if (r == "POST /v1/auth/login")
    return login_body(b);
  if (r == "POST /v1/auth/refresh")
    return one_string(b, "refreshToken");
  if (r == "POST /v1/households")
    return create_body(b);
  if (r == "PATCH /v1/households/{householdId}")
    return patch_body(b);
  if (r == "POST /v1/households/join")
    return join_body(b);
  if (r == "POST /v1/households/{householdId}/invite-code")
    return regenerate_body(b);
  if (r == "POST /v1/households/{householdId}/leave")
    return uuid_field(b, "successorId", false);
  if (r == "POST /v1/households/{householdId}/leadership")
    return uuid_field(b, "newLeaderId", true);
  if (r == "POST /v1/households/{householdId}/members/{userId}/extend")
    return extend_body(b);
  if (r == "POST /v1/join-requests/{requestId}/approve")
    return approve_body(b);
  if (r == "POST /v1/households/{householdId}/email-invites")
    return invite_body(b);
  if (r == "POST /v1/email-invites/preview" || r == "POST /v1/email-invites/accept")
    return token_body(b);
  return std::nullopt;
}

} // namespace petcare::fuzz
