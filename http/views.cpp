#include "http/views.hpp"

#include "actors/runtime.hpp"
#include "actors/validation.hpp"

namespace petcare::http {

namespace {

nlohmann::json time_or_null(int64_t ms) {
  return ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(actors::format_time_ms(ms));
}

} // namespace

nlohmann::json member_json(const storage::member_row& m) {
  return {{"userId", m.user_id},
          {"displayName", m.display_name},
          {"role", m.role},
          {"isTemporary", m.is_temporary},
          {"temporaryExpiresAt", time_or_null(m.is_temporary ? m.temporary_expires_at : 0)},
          {"joinedAt", actors::format_time_ms(m.joined_at)},
          {"invitedBy", m.invited_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.invited_by)}};
}

nlohmann::json household_json(const storage::household_row& h, const std::string& caller) {
  auto now = actors::now_ms();
  int count = 0;
  for (auto& m : h.members)
    count += storage::active_at(m, now) ? 1 : 0;
  nlohmann::json out{{"id", h.id},
                     {"name", h.name},
                     {"description", h.description ? nlohmann::json(*h.description) : nlohmann::json(nullptr)},
                     {"leaderId", h.leader_id},
                     {"memberCount", count},
                     {"createdAt", actors::format_time_ms(h.created_at)},
                     {"updatedAt", actors::format_time_ms(h.updated_at)}};
  if (caller == h.leader_id) {
    out["inviteCode"] = h.invite_code;
    out["inviteCodeExpiresAt"] = time_or_null(h.invite_code_expires_at);
  }
  return out;
}

nlohmann::json household_view_json(const storage::household_row& h, const std::string& caller) {
  auto now = actors::now_ms();
  auto members = nlohmann::json::array();
  bool welcome = false;
  std::string role = "member";
  for (auto& m : h.members) {
    if (!storage::active_at(m, now))
      continue;
    members.push_back(member_json(m));
    if (m.user_id == caller) {
      welcome = m.welcome_pending;
      role = m.role;
    }
  }
  return {{"household", household_json(h, caller)},
          {"members", members},
          {"myRole", role},
          {"showWelcome", welcome}};
}

} // namespace petcare::http
