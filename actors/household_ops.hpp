#pragma once
/// Household operations (SPEC §4.4) as asynchronous steps of a request's actor:
/// visibility and role checks against the household actor's coherent state,
/// operation rate limits, then the transaction inside the household actor.

#include <caf/all.hpp>

#include <optional>
#include <string>

#include "actors/accounts.hpp"
#include "actors/rate_limit.hpp"
#include "storage/households.hpp"

namespace petcare::actors {

using tx_fn = std::function<caf::expected<storage::tx_result>(storage::database&)>;

/// The caller's household (404 NOT_IN_HOUSEHOLD when none).
void my_household(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& user,
                  callback<storage::household_row> done);

/// A household the caller is an active member of (404 HOUSEHOLD_NOT_FOUND otherwise).
void visible_household(caf::event_based_actor* self, const runtime_ptr& rt,
                       const std::string& user, const std::string& hid,
                       callback<storage::household_row> done);

/// Options of a checked mutation.
struct mutation {
  storage::actor_ctx who;
  std::string hid;
  bool leader_only = true;
  std::string refusal;                 ///< a code refused right after the role check
  bool refusal_denies = false;         ///< `refusal` is a 403: audited like the role check
  std::string validation_error;        ///< reported after the role check
  std::optional<limit_spec> limit;     ///< operation limit, keyed by `limit_key`
  std::string limit_key;
  tx_fn run;
};

/// 404 → 403 (audited) → 400 → 429 → the transaction (which re-checks all).
void checked_mutation(caf::event_based_actor* self, const runtime_ptr& rt, mutation m,
                      callback<storage::tx_result> done);

/// Runs `run` inside household `hid`'s actor, without pre-checks.
void in_household(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& hid,
                  tx_fn run, callback<storage::tx_result> done);

void create_household(caf::event_based_actor* self, const runtime_ptr& rt,
                      const storage::actor_ctx& who, std::string name,
                      std::optional<std::string> description, callback<storage::tx_result> done);

/// `code` is normalised; `ip` keys the code_lookup limit.
void join_household(caf::event_based_actor* self, const runtime_ptr& rt,
                    const storage::actor_ctx& who, const std::string& ip, std::string code,
                    callback<storage::tx_result> done);

/// approve / reject / withdraw: the request's household is found first.
void on_request(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& request_id,
                std::function<tx_fn(const std::string& hid)> make, callback<storage::tx_result> done);

/// The code generator of SPEC §3.2 (prefix from the name; random prefix after 20 draws).
storage::code_generator invite_code_generator();

/// Operation limits of SPEC §3.9.
limit_spec join_request_limit();
limit_spec code_lookup_limit(const config::settings& cfg);
limit_spec household_create_limit();
limit_spec code_regenerate_limit();
limit_spec member_remove_limit();

} // namespace petcare::actors
