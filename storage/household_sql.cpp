#include "storage/household_sql.hpp"

#include <caf/make_message.hpp>

#include "storage/webhook_sql.hpp"

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

std::string statement_name(const std::string& sql) {
  uint64_t h = 14695981039346656037ull; // FNV-1a 64
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ull;
  }
  static const char* hex = "0123456789abcdef";
  std::string name = "hh_";
  for (int i = 60; i >= 0; i -= 4)
    name.push_back(hex[(h >> i) & 0xf]);
  return name;
}

std::optional<locked_household> lock_household(pqxx::work& tx, const std::string& hid) {
  auto r = prepared(tx, "SELECT id::text, name, description, leader_id::text, status = 'active' "
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
  // One statement: the household row repeated on each of its active members
  // (one row with NULL member columns when it has none).
  household_row h;
  auto r = prepared(tx, 
    "SELECT h.id::text, h.name, h.description, h.status, h.leader_id::text, "
    "coalesce(h.invite_code, ''), coalesce(" PETCARE_MS("h.invite_code_expires_at") ", 0), "
    PETCARE_MS("h.created_at") ", " PETCARE_MS("h.updated_at") ", "
    "m.user_id::text, u.display_name, u.email, m.role, m.is_temporary, "
    "coalesce(" PETCARE_MS("m.temporary_expires_at") ", 0), " PETCARE_MS("m.joined_at") ", "
    "coalesce(m.invited_by::text, ''), m.welcome_pending "
    "FROM households h LEFT JOIN (household_members m JOIN users u ON u.id = m.user_id) "
    "ON m.household_id = h.id AND m.status = 'active' "
    "WHERE h.id = $1 ORDER BY m.joined_at, m.user_id",
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
  h.members.reserve(r.size());
  for (const auto& x : r) {
    if (x[9].is_null())
      continue;
    h.members.push_back({x[9].as<std::string>(), x[10].as<std::string>(), x[11].as<std::string>(),
                         x[12].as<std::string>(), x[13].as<bool>(), x[14].as<int64_t>(),
                         x[15].as<int64_t>(), x[16].as<std::string>(), x[17].as<bool>()});
  }
  return h;
}

std::string role_of(pqxx::transaction_base& tx, const std::string& hid, const std::string& user) {
  auto r = prepared(tx, "SELECT m.role FROM household_members m WHERE m.household_id = $1 AND "
                          "m.user_id = $2 AND " PETCARE_ACTIVE("m"),
                          hid, user);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

int active_count(pqxx::transaction_base& tx, const std::string& hid) {
  return prepared(tx, "SELECT count(*) FROM household_members m WHERE m.household_id = $1 AND "
                 PETCARE_ACTIVE("m"),
                 hid)[0][0]
    .as<int>();
}

std::string household_of(pqxx::transaction_base& tx, const std::string& user) {
  auto r = prepared(tx, "SELECT m.household_id::text FROM household_members m WHERE "
                          "m.user_id = $1 AND " PETCARE_ACTIVE("m"),
                          user);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

std::string display_name(pqxx::transaction_base& tx, const std::string& user) {
  auto r = prepared(tx, "SELECT display_name FROM users WHERE id = $1", user);
  return r.empty() ? std::string{} : r[0][0].as<std::string>();
}

void notify(pqxx::work& tx, const std::string& user, const std::string& type,
            const std::string& title, const std::string& body, const nlohmann::json& data) {
  prepared0(tx, "INSERT INTO notifications (user_id, type, title, body, data) "
                  "VALUES ($1, $2, $3, $4, $5::jsonb)",
                  user, type, title, body, data.dump());
  commit_tally::notification(type);
}

void audit(pqxx::work& tx, const std::string& hid, const std::string& actor,
           const std::string& action, const std::string& target, const std::string& subject,
           const nlohmann::json& metadata, const std::string& request_id) {
  prepared0(tx, "INSERT INTO audit_log (household_id, actor_user_id, action, target_user_id, "
                  "subject_id, metadata, request_id) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
                  opt(hid), opt(actor), action, opt(target), opt(subject),
                  metadata.is_null() ? std::string{"{}"} : metadata.dump(),
                  request_id.empty() ? std::string{"unknown"} : request_id);
  enqueue_webhooks(tx, hid, actor, action, target, subject, metadata); // SPEC §4.5, same transaction
  commit_tally::audited({action, hid, actor, target});
}

std::vector<std::string> expire_due(pqxx::work& tx, const std::string& where,
                                    const std::string& arg, const std::string& request_id) {
  auto rows = prepared(tx, 
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
    auto h = prepared(tx, "SELECT name, leader_id::text FROM households WHERE id = $1", hid);
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
  auto rows = prepared(tx, 
    "UPDATE household_join_requests SET status = 'withdrawn', close_reason = "
    "'joined_other_household', responded_at = now() WHERE user_id = $1 AND status = 'pending' "
    "AND household_id <> $2 RETURNING id::text, household_id::text",
    user, keep_hid);
  for (const auto& r : rows)
    audit(tx, r[1].as<std::string>(), "", "join_request.closed", user, r[0].as<std::string>(),
          {{"reason", "joined_other_household"}}, request_id);
}

namespace {

nlohmann::json nullable(const pqxx::field& f) {
  return f.is_null() ? nlohmann::json(nullptr) : nlohmann::json(f.as<std::string>());
}

} // namespace

nlohmann::json member_json_of(const pqxx::row& r, int at) {
  return {{"userId", r[at].as<std::string>()},    {"displayName", r[at + 1].as<std::string>()},
          {"role", r[at + 2].as<std::string>()},  {"isTemporary", r[at + 3].as<bool>()},
          {"temporaryExpiresAt", nullable(r[at + 4])}, {"joinedAt", r[at + 5].as<std::string>()},
          {"invitedBy", nullable(r[at + 6])}};
}

nlohmann::json member_json(pqxx::transaction_base& tx, const std::string& member_row_id) {
  auto r = prepared1(tx, "SELECT " PETCARE_MEMBER_JSON_COLUMNS " FROM household_members WHERE id = $1",
                     member_row_id);
  return member_json_of(r, 0);
}

nlohmann::json request_json_of(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},          {"householdId", r[1].as<std::string>()},
          {"userId", r[2].as<std::string>()},      {"status", r[3].as<std::string>()},
          {"via", r[4].as<std::string>()},         {"requestedAt", r[5].as<std::string>()},
          {"respondedAt", nullable(r[6])},         {"respondedBy", nullable(r[7])}};
}

nlohmann::json request_json(pqxx::transaction_base& tx, const std::string& request_id) {
  auto r = prepared1(tx, "SELECT " PETCARE_REQUEST_JSON_COLUMNS " FROM household_join_requests WHERE id = $1",
                     request_id);
  return request_json_of(r);
}

caf::error check_can_request(pqxx::work& tx, const actor_ctx& who, const std::string& hid,
                             std::string& requester) {
  // The user row lock serialises one user's concurrent creates and joins; the
  // checks run in the next statement, so they see everything committed before it.
  auto me = prepared1(tx, "SELECT display_name, email FROM users WHERE id = $1 FOR UPDATE", who.user_id);
  auto c = prepared1(tx, 
    "SELECT EXISTS (SELECT 1 FROM household_members m WHERE m.user_id = $1 AND " PETCARE_ACTIVE("m") "), "
    "EXISTS (SELECT 1 FROM household_join_requests WHERE household_id = $2 AND user_id = $1 AND "
    "status = 'pending'), "
    "(SELECT count(*) FROM household_members m WHERE m.household_id = $2 AND " PETCARE_ACTIVE("m") ")::int",
    who.user_id, hid);
  if (c[0].as<bool>())
    return refused("ALREADY_IN_HOUSEHOLD");
  if (c[1].as<bool>())
    return refused("DUPLICATE_REQUEST");
  if (c[2].as<int>() >= 15)
    return refused("HOUSEHOLD_AT_CAPACITY");
  // Lapsed temporary rows already count as inactive above, so expiring them
  // after the checks changes no outcome (a refusal rolls everything back).
  expire_due(tx, "m.user_id = $1", who.user_id, who.request_id);
  requester = me[0].as<std::string>() + " (" + me[1].as<std::string>() + ")";
  return caf::none;
}

caf::error check_can_request(pqxx::work& tx, const actor_ctx& who, const std::string& hid) {
  std::string requester;
  return check_can_request(tx, who, hid, requester);
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
