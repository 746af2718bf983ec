#include "http/errors.hpp"

#include <caf/sec.hpp>

#include <unordered_map>

#include "actors/errc.hpp"
#include "storage/errc.hpp"

namespace petcare::http {

namespace {

struct entry {
  int status;
  const char* message;
};

const std::unordered_map<std::string, entry>& catalogue() {
  static const std::unordered_map<std::string, entry> c{
    {"MALFORMED_JSON", {400, "Request body must be a valid UTF-8 JSON object."}},
    {"VALIDATION_ERROR", {400, "Request validation failed."}},
    {"INVALID_EMAIL", {400, "Invalid email address"}},
    {"WEAK_PASSWORD", {400, "Password must be 8-128 characters and must not be your email address."}},
    {"INVALID_HOUSEHOLD_NAME", {400, "Household name must be 2-50 characters"}},
    {"INVALID_INVITE_CODE", {400, "Invalid invite code format. Expected format: PREFIX-WORD-WORD"}},
    {"INVALID_SUCCESSOR", {400, "The new leader must be another current, permanent member of the household."}},
    {"AUTH_REQUIRED", {401, "Authentication is required."}},
    {"INVALID_TOKEN", {401, "The access token is invalid or has been revoked."}},
    {"TOKEN_EXPIRED", {401, "The access token has expired."}},
    {"INVALID_CREDENTIALS", {401, "Email or password is incorrect."}},
    {"INVALID_REFRESH_TOKEN", {401, "The refresh token is invalid, expired or revoked."}},
    {"NOT_HOUSEHOLD_LEADER", {403, "Only the household leader can perform this action."}},
    {"CANNOT_REMOVE_SELF", {403, "Leaders cannot remove themselves. Transfer leadership or leave household."}},
    {"CORS_ORIGIN_DENIED", {403, "Origin not allowed."}},
    {"NOT_FOUND", {404, "Resource not found."}},
    {"NOT_IN_HOUSEHOLD", {404, "You are not a member of a household."}},
    {"HOUSEHOLD_NOT_FOUND", {404, "Household not found."}},
    {"MEMBER_NOT_FOUND", {404, "Member not found in this household."}},
    {"REQUEST_NOT_FOUND", {404, "Join request not found."}},
    {"INVITE_NOT_FOUND", {404, "Invite not found."}},
    {"NOTIFICATION_NOT_FOUND", {404, "Notification not found."}},
    {"WEBHOOK_NOT_FOUND", {404, "Webhook not found."}},
    {"INVALID_INVITE_CODE_LOOKUP", {404, "Invalid invite code. Please check and try again."}},
    {"FEATURE_DISABLED", {404, "Email invites are not available."}},
    {"METHOD_NOT_ALLOWED", {405, "Method not allowed."}},
    {"EMAIL_ALREADY_REGISTERED", {409, "An account with this email already exists."}},
    {"ALREADY_IN_HOUSEHOLD", {409, "You already belong to a household. Leave your current household first."}},
    {"DUPLICATE_REQUEST", {409, "You already have a pending request for this household"}},
    {"HOUSEHOLD_AT_CAPACITY", {409, "Household has reached maximum capacity (15 members)"}},
    {"REQUEST_ALREADY_ANSWERED", {409, "This request has already been answered."}},
    {"CANNOT_WITHDRAW_RESPONDED_REQUEST", {409, "Cannot withdraw a request that has already been answered."}},
    {"NO_ELIGIBLE_SUCCESSOR", {409, "Temporary members cannot become leader. Remove them before leaving."}},
    {"NOT_TEMPORARY_MEMBER", {409, "This member does not have temporary access."}},
    {"ALREADY_MEMBER", {409, "This person is already a member of your household."}},
    {"INVITE_ALREADY_PENDING", {409, "An invite to this address is already pending."}},
    {"INVITE_NOT_PENDING", {409, "This invite is no longer pending."}},
    {"WEBHOOK_LIMIT_REACHED", {409, "This household already has the maximum number of webhooks."}},
    {"IDEMPOTENCY_KEY_IN_USE", {409, "A request with this Idempotency-Key is still being processed."}},
    {"EXPIRED_INVITE_CODE", {410, "This invite code has expired. Please ask the household leader for a new code."}},
    {"INVITE_CODE_REGENERATED", {410, "Invalid invite code. This code may have been regenerated. Contact household leader for new code."}},
    {"INVITE_EXPIRED", {410, "This invite has expired. Please ask the household leader for a new one."}},
    {"INVITE_NO_LONGER_VALID", {410, "This invite is no longer valid."}},
    {"PAYLOAD_TOO_LARGE", {413, "Request body is too large."}},
    {"UNSUPPORTED_MEDIA_TYPE", {415, "Content-Type must be application/json."}},
    {"IDEMPOTENCY_KEY_REUSED", {422, "This Idempotency-Key was already used for a different request."}},
    {"RATE_LIMIT_EXCEEDED", {429, "Too many requests. Please try again later."}},
    {"HEADERS_TOO_LARGE", {431, "Request headers are too large."}},
    {"INTERNAL_ERROR", {500, "An unexpected error occurred."}},
    {"SERVICE_UNAVAILABLE", {503, "The service is temporarily unavailable. Please retry."}},
    {"REQUEST_TIMEOUT", {503, "The request took too long. Please retry."}},
  };
  return c;
}

const std::unordered_map<std::string, std::string>& limit_messages() {
  static const std::unordered_map<std::string, std::string> m{
    {"global", "Too many requests. Please try again later."},
    {"auth", "Too many sign-in attempts. Please try again later."},
    {"join_request", "Too many join requests. Please try again later."},
    {"code_lookup", "Too many invite code attempts. Please try again later."},
    {"household_create", "Too many households created. Please try again tomorrow."},
    {"code_regenerate", "Too many invite code regenerations. Please try again tomorrow."},
    {"member_remove", "Too many member removals. Please try again tomorrow."},
    {"email_invite", "Too many email invites. Please try again later."},
  };
  return m;
}

/// The (code, message) context of a refusal; message may be empty.
std::pair<std::string, std::string> context_of(const caf::error& err) {
  const auto& ctx = err.context();
  std::pair<std::string, std::string> out;
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    out.first = ctx.get_as<std::string>(0);
  if (ctx.size() >= 2 && ctx.match_element<std::string>(1))
    out.second = ctx.get_as<std::string>(1);
  return out;
}

} // namespace

problem problem_for(const std::string& code) {
  problem p;
  auto i = catalogue().find(code);
  if (i == catalogue().end())
    return p;
  p.status = i->second.status;
  p.code = code == "INVALID_INVITE_CODE_LOOKUP" ? "INVALID_INVITE_CODE" : code;
  p.message = i->second.message;
  if (p.status == 401 && code != "INVALID_CREDENTIALS" && code != "INVALID_REFRESH_TOKEN")
    p.www_authenticate = true;
  if (code == "SERVICE_UNAVAILABLE")
    p.retry_after = 5;
  if (code == "REQUEST_TIMEOUT" || code == "IDEMPOTENCY_KEY_IN_USE")
    p.retry_after = 1;
  return p;
}

problem validation_error(const std::string& message) {
  auto p = problem_for("VALIDATION_ERROR");
  p.message = message;
  return p;
}

problem to_problem(const caf::error& err) {
  using actors::errc;
  if (err.category() == actors::errc_category) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang rejects it).
    const auto ctx = context_of(err);
    const std::string& code = ctx.first;
    const std::string& message = ctx.second;
    auto with = [&](const char* fallback) {
      auto p = problem_for(code.empty() ? fallback : code);
      if (!message.empty())
        p.message = message;
      return p;
    };
    switch (static_cast<errc>(err.code())) {
      case errc::auth_required: return problem_for("AUTH_REQUIRED");
      case errc::invalid_token: {
        auto p = problem_for("INVALID_TOKEN");
        p.reason = code;
        return p;
      }
      case errc::token_expired: {
        auto p = problem_for("TOKEN_EXPIRED");
        p.reason = "expired";
        return p;
      }
      case errc::invalid_credentials: {
        auto p = problem_for("INVALID_CREDENTIALS");
        p.reason = "bad_credentials";
        return p;
      }
      case errc::invalid_refresh_token: {
        auto p = problem_for("INVALID_REFRESH_TOKEN");
        p.reason = code.empty() ? "malformed" : code;
        return p;
      }
      case errc::email_already_registered: return problem_for("EMAIL_ALREADY_REGISTERED");
      case errc::rate_limited: {
        auto p = problem_for("RATE_LIMIT_EXCEEDED");
        const auto& ctx = err.context();
        if (ctx.size() == 2 && ctx.match_element<std::string>(0)
            && ctx.match_element<int64_t>(1)) {
          auto m = limit_messages().find(ctx.get_as<std::string>(0));
          if (m != limit_messages().end())
            p.message = m->second;
          p.reason = ctx.get_as<std::string>(0);
          p.retry_after = static_cast<int>(std::max<int64_t>(1, ctx.get_as<int64_t>(1)));
        }
        return p;
      }
      case errc::service_unavailable: {
        auto p = problem_for("SERVICE_UNAVAILABLE");
        if (code == "draining" || code == "mailbox_full")
          p.retry_after = 1;
        return p;
      }
      case errc::request_timeout: return problem_for("REQUEST_TIMEOUT");
      case errc::not_found: return with("NOT_FOUND");
      case errc::forbidden: return with("NOT_HOUSEHOLD_LEADER");
      case errc::conflict: return with("INTERNAL_ERROR");
      case errc::gone: return with("INTERNAL_ERROR");
      case errc::validation: return with("VALIDATION_ERROR");
    }
  }
  if (err.category() == storage::errc_category) {
    switch (static_cast<storage::errc>(err.code())) {
      case storage::errc::unavailable: return problem_for("SERVICE_UNAVAILABLE");
      case storage::errc::timeout: return problem_for("SERVICE_UNAVAILABLE");
      case storage::errc::not_found: return problem_for("NOT_FOUND");
      case storage::errc::refused: {
        auto [code, message] = context_of(err);
        auto p = problem_for(code);
        if (!message.empty())
          p.message = message;
        return p;
      }
      default: {
        auto p = problem_for("INTERNAL_ERROR");
        const auto& ctx = err.context();
        if (ctx.size() == 1 && ctx.match_element<std::string>(0))
          p.reason = ctx.get_as<std::string>(0);
        return p;
      }
    }
  }
  if (err == caf::sec::request_timeout)
    return problem_for("REQUEST_TIMEOUT");
  if (err == caf::sec::request_receiver_down)
    return problem_for("SERVICE_UNAVAILABLE");
  auto p = problem_for("INTERNAL_ERROR");
  p.reason = "caf error category " + caf::to_string(err.category()) + " code "
             + std::to_string(err.code());
  return p;
}

} // namespace petcare::http
