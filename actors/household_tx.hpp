#pragma once
/// The household transactions a request can ask for, as values the household
/// actor runs on a database worker (storage/households.hpp does the SQL).

#include <string>

#include "actors/household_ops.hpp"
#include "storage/households.hpp"

namespace petcare::actors::tx {

using storage::actor_ctx;

tx_fn update(const actor_ctx& who, const std::string& hid, storage::households::patch_fields p);
/// `days` 0 = never expires.
tx_fn regenerate_code(const actor_ctx& who, const std::string& hid, int days);
tx_fn acknowledge_welcome(const actor_ctx& who, const std::string& hid);
tx_fn remove_member(const actor_ctx& who, const std::string& hid, const std::string& user);
tx_fn leave(const actor_ctx& who, const std::string& hid, const std::string& successor, bool given);
tx_fn transfer(const actor_ctx& who, const std::string& hid, const std::string& next);
tx_fn extend(const actor_ctx& who, const std::string& hid, const std::string& user, int64_t until_ms,
             const std::string& validation_error);

/// For `on_request`: the transaction once the request's household is known.
using request_tx = std::function<tx_fn(const std::string& hid)>;
request_tx approve(const actor_ctx& who, const std::string& rid, storage::households::approval a);
request_tx reject(const actor_ctx& who, const std::string& rid);
request_tx withdraw(const actor_ctx& who, const std::string& rid);

} // namespace petcare::actors::tx
