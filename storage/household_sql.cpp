#include "storage/household_sql.hpp"

#include <caf/make_message.hpp>

namespace petcare::storage {

caf::error refused(const std::string& code, const std::string& message) {
  return caf::error{static_cast<uint8_t>(errc::refused), errc_category,
                    caf::make_message(code, message)};
}

bool active_at(const member_row& m, int64_t now_ms) {
  return !m.is_temporary || m.temporary_expires_at > now_ms;
}

namespace detail {

namespace {

std::optional<std::string> opt(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>{s};
}

} // namespace

pqxx::connection& conn(database& db) { return *db.internals().conn; }

std::optional<locked_household> lock_household(pqxx::work& tx, const std::string& hid) {
  auto r = tx.exec_params("SELECT id::text, name, description, leader_id::text, status = 'active' "
                          "FROM households WHERE id = $1 FOR UPDATE",
                          hid);
  if (r.empty())
    return std::nullopt;
  locked_household h;
  h.id = r[0][0].as<std::string>();
  h.name = r[0][1].as<std::string>();
  if (!r[0][2].is_null())
    h.description = r[0][2].as<std::string>();
  h.leader_id = r[0][3].as<std::string>();
  h.active = r[0][4].as<bool>();
  return h;
}

household_row snapshot(pqxx::transaction_base& tx, const std::string& hid) {
  household_row h;
  auto r = tx.exec_params(
    "SELECT id::text, name, description, status, leader_id::text, coalesce(invite_code, ''), "
    "coalesce(" PETCARE_MS("invite_code_expires_at") ", 0), " PETCARE_MS("created_at") ", "
    PETCARE_MS("updated_at") " FROM households WHERE id = $1",
    hid);
  if (r.empty())
    return h;
  auto row = r[0];
  h.id = row[0].as<std::string>();
  h.name = row[1].as<std::string>();
  if (!row[2].is_null())
    h.description = row[2].as<std::string>();
  h.status = row[3].as<std::string>();
  h.leader_id = row[4].as<std::string>();
  h.invite_code = row[5].as<std::string>();
  h.invite_code_expires_at = row[6].as<int64_t>();
  h.created_at = row[7].as<int64_t>();
  h.updated_at = row[8].as<int64_t>();
  auto m = tx.exec_params(
    "SELECT m.user_id::text, u.display_name, u.email, m.role, m.is_temporary, "
    "coalesce(" PETCARE_MS("m.temporary_expires_at") ", 0), " PETCARE_MS("m.joined_at") ", "
    "coalesce(m.invited_by::text, ''), m.welcome_pending "
    "FROM household_members m JOIN users u ON u.id = m.user_id "
    "WHERE m.household_id = $1 AND m.status = 'active' ORDER BY m.joined_at, m.user_id",
    hid);
  for (const auto& x : m)
    h.members.push_back({x[0].as<std::string>(), x[1].as<std::string>(), x[2].as<std::string>(),
                         x[3].as<std::string>(), x[4].as<bool>(), x[5].as<int64_t>(),
                         x[6].as<int64_t>(), x[7].as<std::string>(), x[8].as<bool>()});
  return h;
}

std::string role_of(pqxx::transaction_base& tx, const std::string& hid, const std::string& user) {
  auto r = tx.exec_params("SELECT m.role FROM household_members m WHERE m.household_id = $1 AND "
                          "m.user_id = $2 AND " PETCARE_ACTIVE("m"),
                          hid, user);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

int active_count(pqxx::transaction_base& tx, const std::string& hid) {
  return tx
    .exec_params("SELECT count(*) FROM household_members m WHERE m.household_id = $1 AND "
                 PETCARE_ACTIVE("m"),
                 hid)[0][0]
    .as<int>();
}

std::string household_of(pqxx::transaction_base& tx, const std::string& user) {
  auto r = tx.exec_params("SELECT m.household_id::text FROM household_members m WHERE "
                          "m.user_id = $1 AND " PETCARE_ACTIVE("m"),
                          user);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

std::string display_name(pqxx::transaction_base& tx, const std::string& user) {
  auto r = tx.exec_params("SELECT display_name FROM users WHERE id = $1", user);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

void notify(pqxx::work& tx, const std::string& user, const std::string& type,
            const std::string& title, const std::string& body, const nlohmann::json& data) {
  tx.exec_params0("INSERT INTO notifications (user_id, type, title, body, data) "
                  "VALUES ($1, $2, $3, $4, $5::jsonb)",
                  user, type, title, body, data.dump());
}

void audit(pqxx::work& tx, const std::string& hid, const std::string& actor,
           const std::string& action, const std::string& target, const std::string& subject,
           const nlohmann::json& metadata, const std::string& request_id) {
  tx.exec_params0("INSERT INTO audit_log (household_id, actor_user_id, action, target_user_id, "
                  "subject_id, metadata, request_id) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
                  opt(hid), opt(actor), action, opt(target), opt(subject),
                  metadata.is_null() ? std::string{"{}"} : metadata.dump(),
                  request_id.empty() ? std::string{"unknown"} : request_id);
}

std::vector<std::string> expire_due(pqxx::work& tx, const std::string& where,
                                    const std::string& arg, const std::string& request_id) {
  auto rows = tx.exec_params(
    "UPDATE household_members m SET status = 'expired', ended_at = m.temporary_expires_at, "
    "updated_at = now() WHERE m.status = 'active' AND m.is_temporary AND "
    "m.temporary_expires_at <= now() AND " + where
      + " RETURNING m.household_id::text, m.user_id::text, " PETCARE_ISO("m.temporary_expires_at"),
    arg);
  std::vector<std::string> touched;
  for (const auto& r : rows) {
    auto hid = r[0].as<std::string>();
    auto user = r[1].as<std::string>();
    auto at = r[2].as<std::string>();
    auto h = tx.exec_params("SELECT name, leader_id::text FROM households WHERE id = $1", hid);
    auto name = h[0][0].as<std::string>();
    auto leader = h[0][1].as<std::string>();
    nlohmann::json data{{"householdId", hid}, {"memberUserId", user}, {"expiredAt", at}};
    notify(tx, user, "temporary_access_expired", "Temporary access ended",
           "Your temporary access to " + name + " has expired", data);
    notify(tx, leader, "temporary_access_expired", "Temporary access ended",
           display_name(tx, user) + "'s temporary access to " + name + " has expired", data);
    audit(tx, hid, "", "temporary_access.expired", user, "", {{"expiredAt", at}}, request_id);
    touched.push_back(hid);
  }
  return touched;
}

void close_other_requests(pqxx::work& tx, const std::string& user, const std::string& keep_hid,
                          const std::string& request_id) {
  auto rows = tx.exec_params(
    "UPDATE household_join_requests SET status = 'withdrawn', close_reason = "
    "'joined_other_household', responded_at = now() WHERE user_id = $1 AND status = 'pending' "
    "AND household_id <> $2 RETURNING id::text, household_id::text",
    user, keep_hid);
  for (const auto& r : rows)
    audit(tx, r[1].as<std::string>(), "", "join_request.closed", user, r[0].as<std::string>(),
          {{"reason", "joined_other_household"}}, request_id);
}

nlohmann::json member_json(pqxx::transaction_base& tx, const std::string& member_row_id) {
  auto r = tx.exec_params1(
    "SELECT m.user_id::text, u.display_name, m.role, m.is_temporary, "
    "CASE WHEN m.temporary_expires_at IS NULL THEN NULL ELSE " PETCARE_ISO("m.temporary_expires_at")
    " END, " PETCARE_ISO("m.joined_at") ", m.invited_by::text "
    "FROM household_members m JOIN users u ON u.id = m.user_id WHERE m.id = $1",
    member_row_id);
  auto nullable = [](const pqxx::field& f) {
    return f.is_null() ? nlohmann::json(nullptr) : nlohmann::json(f.as<std::string>());
  };
  return {{"userId", r[0].as<std::string>()}, {"displayName", r[1].as<std::string>()},
          {"role", r[2].as<std::string>()},   {"isTemporary", r[3].as<bool>()},
          {"temporaryExpiresAt", nullable(r[4])}, {"joinedAt", r[5].as<std::string>()},
          {"invitedBy", nullable(r[6])}};
}

nlohmann::json request_json(pqxx::transaction_base& tx, const std::string& request_id) {
  auto r = tx.exec_params1(
    "SELECT id::text, household_id::text, user_id::text, status, via, " PETCARE_ISO("requested_at")
    ", CASE WHEN responded_at IS NULL THEN NULL ELSE " PETCARE_ISO("responded_at") " END, "
    "responded_by::text FROM household_join_requests WHERE id = $1",
    request_id);
  auto nullable = [](const pqxx::field& f) {
    return f.is_null() ? nlohmann::json(nullptr) : nlohmann::json(f.as<std::string>());
  };
  return {{"id", r[0].as<std::string>()},          {"householdId", r[1].as<std::string>()},
          {"userId", r[2].as<std::string>()},      {"status", r[3].as<std::string>()},
          {"via", r[4].as<std::string>()},         {"requestedAt", r[5].as<std::string>()},
          {"respondedAt", nullable(r[6])},         {"respondedBy", nullable(r[7])}};
}

caf::error check_can_request(pqxx::work& tx, const actor_ctx& who, const std::string& hid) {
  tx.exec_params("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", who.user_id);
  expire_due(tx, "m.user_id = $1", who.user_id, who.request_id);
  if (!household_of(tx, who.user_id).empty())
    return refused("ALREADY_IN_HOUSEHOLD");
  auto dup = tx.exec_params("SELECT 1 FROM household_join_requests WHERE household_id = $1 AND "
                            "user_id = $2 AND status = 'pending'",
                            hid, who.user_id);
  if (!dup.empty())
    return refused("DUPLICATE_REQUEST");
  if (active_count(tx, hid) >= 15)
    return refused("HOUSEHOLD_AT_CAPACITY");
  return caf::none;
}

caf::error check_leader(pqxx::work& tx, const actor_ctx& who, const std::string& hid) {
  auto role = role_of(tx, hid, who.user_id);
  if (role.empty())
    return refused("HOUSEHOLD_NOT_FOUND");
  if (role != "leader") {
    audit(tx, hid, who.user_id, "authorization.denied", "", "",
          {{"route", who.route}, {"code", "NOT_HOUSEHOLD_LEADER"}}, who.request_id);
    tx.commit();
    return refused("NOT_HOUSEHOLD_LEADER");
  }
  return caf::none;
}

} // namespace detail

} // namespace petcare::storage
