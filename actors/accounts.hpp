#pragma once
/// Accounts and sessions (SPEC §4.3) as asynchronous steps run by a request's
/// actor: hashing goes to the hasher pool, SQL to the database pool, cache and
/// invalidations to Redis. Inputs arrive already validated by http/.

#include <caf/all.hpp>

#include <functional>
#include <string>

#include "actors/runtime.hpp"
#include "actors/tokens.hpp"
#include "storage/rows.hpp"

namespace petcare::actors {

template <class T>
using callback = std::function<void(caf::expected<T>)>;

/// The authenticated caller of a request.
struct caller {
  std::string user_id;
  std::string sid;
};

struct auth_result {
  storage::user_row user;
  std::string access_token;
  std::string refresh_token;
  int64_t expires_in = 0;
};

/// Where a new session comes from (stored for the user's session list).
struct client_info {
  std::string user_agent;
  std::string ip_hash;
};

/// Checks a bearer token: signature, claims, expiry, then the session (memory →
/// Redis → PostgreSQL). Errors: invalid_token / token_expired with the reason.
void authenticate(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& token,
                  callback<caller> done);
/// The same for a token whose signature and claims were already checked.
void authenticate(caf::event_based_actor* self, const runtime_ptr& rt, const token_check& check,
                  callback<caller> done);

void register_account(caf::event_based_actor* self, const runtime_ptr& rt, std::string email,
                      std::string password, std::string display_name, client_info client,
                      callback<auth_result> done);

void login(caf::event_based_actor* self, const runtime_ptr& rt, std::string email,
           std::string password, client_info client, callback<auth_result> done);

void refresh(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& token,
             callback<auth_result> done);

void logout(caf::event_based_actor* self, const runtime_ptr& rt, const caller& who,
            callback<bool> done);

void me(caf::event_based_actor* self, const runtime_ptr& rt, const caller& who,
        callback<storage::me_row> done);

/// Runs `fn(storage::database&)` on a database pool worker.
template <class T, class F>
void with_db(caf::event_based_actor* self, const runtime_ptr& rt, F fn, callback<T> done);

/// Drops a revoked session from every cache: this instance at once, others
/// through the invalidation channel (SPEC §9).
void forget_session(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& sid);

} // namespace petcare::actors

#include "actors/accounts_impl.hpp"
