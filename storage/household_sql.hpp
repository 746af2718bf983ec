#pragma once
/// Private to storage/households*.cpp: SQL building blocks shared by the
/// household transactions.

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "storage/households.hpp"
#include "storage/pg_detail.hpp"

namespace petcare::storage::detail {

/// ISO-8601 UTC with milliseconds, rendered by PostgreSQL.
#define PETCARE_ISO(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/// SQL predicate: a member row that grants access now (SPEC §3.5).
#define PETCARE_ACTIVE(alias) \
  "(" alias ".status = 'active' AND (NOT " alias ".is_temporary OR " alias ".temporary_expires_at > now()))"

pqxx::connection& conn(database& db);

/// Name of the prepared statement for `sql`: a stable hash of its text.
std::string statement_name(const std::string& sql);

/// Runs `sql` as a named prepared statement. libpqxx 6.4 only records the
/// definition in `prepare()` (a no-op when already recorded with the same text)
/// and prepares it on the server the first time this connection executes it,
/// so every pool connection parses and plans each statement once.
template <class... Args>
pqxx::result prepared(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const auto name = statement_name(sql);
  tx.conn().prepare(name, sql);
  return tx.exec_prepared(name, std::forward<Args>(args)...);
}

template <class... Args>
pqxx::row prepared1(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const auto name = statement_name(sql);
  tx.conn().prepare(name, sql);
  return tx.exec_prepared1(name, std::forward<Args>(args)...);
}

template <class... Args>
void prepared0(pqxx::transaction_base& tx, const std::string& sql, Args&&... args) {
  const auto name = statement_name(sql);
  tx.conn().prepare(name, sql);
  tx.exec_prepared0(name, std::forward<Args>(args)...);
}

struct locked_household {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::string leader_id;
  bool active = false;
};

/// Locks the household row; nullopt when it does not exist.
std::optional<locked_household> lock_household(pqxx::work& tx, const std::string& hid);

/// The household and its active rows, as the actor caches it.
household_row snapshot(pqxx::transaction_base& tx, const std::string& hid);

/// Active (unexpired) role of `user` in `hid`: "leader", "member" or "" for none.
std::string role_of(pqxx::transaction_base& tx, const std::string& hid, const std::string& user);

int active_count(pqxx::transaction_base& tx, const std::string& hid);

/// Household of the user's active unexpired membership, "" when none.
std::string household_of(pqxx::transaction_base& tx, const std::string& user);

std::string display_name(pqxx::transaction_base& tx, const std::string& user);

/// Inserts a notification (SPEC §3.10).
void notify(pqxx::work& tx, const std::string& user, const std::string& type,
            const std::string& title, const std::string& body, const nlohmann::json& data);

/// Appends an audit row; empty strings become NULL.
void audit(pqxx::work& tx, const std::string& hid, const std::string& actor,
           const std::string& action, const std::string& target, const std::string& subject,
           const nlohmann::json& metadata, const std::string& request_id);

/// Expires active temporary rows past their end matching `where` (with `$1`
/// bound to `arg`), with notifications and audit as the sweep does; returns
/// the affected household ids.
std::vector<std::string> expire_due(pqxx::work& tx, const std::string& where, const std::string& arg,
                                    const std::string& request_id);

/// Withdraws the user's other pending requests (joined another household).
void close_other_requests(pqxx::work& tx, const std::string& user, const std::string& keep_hid,
                          const std::string& request_id);

/// Member JSON of SPEC §4.1 for one row of `household_members` (by row id).
nlohmann::json member_json(pqxx::transaction_base& tx, const std::string& member_row_id);

/// The columns `member_json_of` reads, for a RETURNING clause on household_members.
#define PETCARE_MEMBER_JSON_COLUMNS                                                              \
  "user_id::text, (SELECT u.display_name FROM users u WHERE u.id = household_members.user_id), " \
  "role, is_temporary, CASE WHEN temporary_expires_at IS NULL THEN NULL ELSE "                   \
  PETCARE_ISO("temporary_expires_at") " END, " PETCARE_ISO("joined_at") ", invited_by::text"

/// Member JSON from the PETCARE_MEMBER_JSON_COLUMNS starting at column `at`.
nlohmann::json member_json_of(const pqxx::row& r, int at);

/// JoinRequest JSON of SPEC §4.1.
nlohmann::json request_json(pqxx::transaction_base& tx, const std::string& request_id);

/// The columns `request_json_of` reads, for a RETURNING clause on household_join_requests.
#define PETCARE_REQUEST_JSON_COLUMNS                                                      \
  "id::text, household_id::text, user_id::text, status, via, " PETCARE_ISO("requested_at") \
  ", CASE WHEN responded_at IS NULL THEN NULL ELSE " PETCARE_ISO("responded_at") " END, "  \
  "responded_by::text"

/// JoinRequest JSON from the PETCARE_REQUEST_JSON_COLUMNS starting at column 0.
nlohmann::json request_json_of(const pqxx::row& r);

/// The checks before a new join request, shared by invite codes and email
/// invites (SPEC §3.3, §3.4): locks the user row, expires their lapsed
/// temporary rows, then ALREADY_IN_HOUSEHOLD → DUPLICATE_REQUEST → HOUSEHOLD_AT_CAPACITY.
caf::error check_can_request(pqxx::work& tx, const actor_ctx& who, const std::string& hid);

/// As above; on success also sets `requester` to "Display Name (email)" of `who`,
/// read under the same row lock.
caf::error check_can_request(pqxx::work& tx, const actor_ctx& who, const std::string& hid,
                             std::string& requester);

/// Refuses unless `who` is an active member (404 HOUSEHOLD_NOT_FOUND) and the
/// leader (403 NOT_HOUSEHOLD_LEADER). A 403 writes its `authorization.denied`
/// audit row and commits `tx` (so the caller must return the error at once).
caf::error check_leader(pqxx::work& tx, const actor_ctx& who, const std::string& hid);

} // namespace petcare::storage::detail
