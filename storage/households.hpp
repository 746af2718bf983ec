#pragma once
/// Household transactions (SPEC §3, §4.4). Each mutation is one PostgreSQL
/// transaction that first locks the household row (`SELECT … FOR UPDATE`),
/// re-checks the rules against committed state, writes the change with its
/// notifications and audit rows, and returns the fresh household snapshot.
/// A rule refusal is `errc::refused` with context (code, message) where code
/// is the contract's error code (SPEC §4.2).

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace petcare::storage {

/// A refusal by the rules: `code` is the SPEC §4.2 error code.
caf::error refused(const std::string& code, const std::string& message = {});

struct member_row {
  std::string user_id;
  std::string display_name;
  std::string email;
  std::string role; ///< leader|member
  bool is_temporary = false;
  int64_t temporary_expires_at = 0; ///< 0 = none
  int64_t joined_at = 0;
  std::string invited_by; ///< empty = null
  bool welcome_pending = false;
};

/// The household and its `status='active'` member rows (temporary ones may
/// have passed their end: callers filter with `active_at`).
struct household_row {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::string status;
  std::string leader_id;
  std::string invite_code;
  int64_t invite_code_expires_at = 0; ///< 0 = never
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::vector<member_row> members;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, household_row&) {
  return f(caf::meta::type_name("household_row"));
}

/// True while a membership row grants access at `now_ms` (SPEC §3.5).
bool active_at(const member_row& m, int64_t now_ms);

/// What a mutation did, for the actor and the response.
struct tx_result {
  household_row household; ///< the snapshot after commit (status may be deactivated)
  nlohmann::json body;     ///< response payload (operation-specific)
  std::vector<std::string> events; ///< household change names (SPEC §4.5) for invalidations
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tx_result&) {
  return f(caf::meta::type_name("tx_result"));
}

/// Draws a fresh invite code for a prefix source (the household name); made above storage.
using code_generator = std::function<std::string(const std::string& name, int attempt)>;

/// Who asks and under which request id (audit `request_id`).
struct actor_ctx {
  std::string user_id;
  std::string request_id;
  std::string route; ///< template, for `authorization.denied` audit rows
};

namespace households {

/// The active household `id`; errc::not_found when absent or deactivated.
caf::expected<household_row> load(database& db, const std::string& id);

/// The household id of the user's active (unexpired) membership; "" when none.
caf::expected<std::string> of_user(database& db, const std::string& user_id);

/// The household a join request belongs to; errc::not_found when unknown.
caf::expected<std::string> of_request(database& db, const std::string& request_id);

caf::expected<tx_result> create(database& db, const actor_ctx& who, const std::string& name,
                                const std::optional<std::string>& description,
                                const code_generator& gen);

struct patch_fields {
  std::optional<std::string> name;
  bool description_set = false;
  std::optional<std::string> description; ///< nullopt with description_set = clear
};
caf::expected<tx_result> update(database& db, const actor_ctx& who, const std::string& hid,
                                const patch_fields& p);

/// `expires_in_days` 0 = never.
caf::expected<tx_result> regenerate_code(database& db, const actor_ctx& who,
                                         const std::string& hid, int expires_in_days,
                                         const code_generator& gen);

caf::expected<tx_result> acknowledge_welcome(database& db, const actor_ctx& who,
                                             const std::string& hid);

/// Finds the household of `code` (current, regenerated, unknown, expired).
caf::expected<std::string> lookup_code(database& db, const std::string& code);

/// Creates a pending request via invite code in household `hid`.
caf::expected<tx_result> join(database& db, const actor_ctx& who, const std::string& hid,
                              const std::string& code);

struct approval {
  bool is_temporary = false;
  int64_t temporary_expires_at = 0;
  std::string validation_error; ///< reported only after the role check (SPEC order)
};
caf::expected<tx_result> approve(database& db, const actor_ctx& who, const std::string& hid,
                                 const std::string& request_id, const approval& a);
caf::expected<tx_result> reject(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& request_id);
caf::expected<tx_result> withdraw(database& db, const actor_ctx& who, const std::string& hid,
                                  const std::string& request_id);

caf::expected<tx_result> remove_member(database& db, const actor_ctx& who,
                                       const std::string& hid, const std::string& user_id);

/// `successor` empty = choose; `successor_invalid` = a non-UUID was sent.
caf::expected<tx_result> leave(database& db, const actor_ctx& who, const std::string& hid,
                               const std::string& successor, bool successor_given);

caf::expected<tx_result> transfer(database& db, const actor_ctx& who, const std::string& hid,
                                  const std::string& new_leader);

caf::expected<tx_result> extend(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& user_id, int64_t expires_at_ms,
                                const std::string& validation_error);

/// Writes the `authorization.denied` audit row of a 403 to a member.
caf::error audit_denied(database& db, const actor_ctx& who, const std::string& hid,
                        const std::string& route, const std::string& code);

/// §7.1 sweep under an advisory lock: expires due temporary rows and issues
/// warnings. Returns the ids of households that changed.
caf::expected<std::vector<std::string>> sweep_temporary(database& db, const std::string& run_id);

} // namespace households

} // namespace petcare::storage
