#pragma once
/// Webhooks (SPEC §4.5): a household leader's HTTPS endpoints, the deliveries
/// outbox they are fed from, and its leased dispatch protocol.
///
/// Registration and removal are household transactions like any other: they
/// lock the household row first (so the limit of 5 active webhooks holds
/// across instances), re-check the leader and write `webhook.created|deleted`.
/// The signing secret (32 CSPRNG bytes, base64url) is returned once and kept
/// only sealed with ENCRYPTION_KEY (XChaCha20-Poly1305, the webhook id as
/// associated data) in `secret_nonce`/`secret_ciphertext`.
///
/// Deliveries are written by `audit()` in the event's own transaction (see
/// webhook_sql.hpp) and sent like the email outbox (§7.3): a row is claimed
/// with `FOR UPDATE SKIP LOCKED`, leased for 60 s to one instance, and every
/// later write is conditional on that lease.

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"
#include "storage/households.hpp"
#include "storage/listings.hpp"

namespace petcare::storage::webhooks {

/// The event names of SPEC §4.5, in the contract's order.
const std::vector<std::string>& event_names();

/// At most this many active webhooks per household.
inline constexpr int max_per_household = 5;

/// One webhook event raised by an audited action, with its `data` (ids only).
struct raised {
  std::string event;
  nlohmann::json data;
};

/// The webhook events an audit row stands for (none for most actions):
/// `join_request.approved` raises `member.added` too, `temporary_access.expired`
/// is `member.expired`. `data` names the ids involved, never codes or secrets.
std::vector<raised> events_for(const std::string& action, const std::string& actor,
                               const std::string& target, const std::string& subject,
                               const nlohmann::json& metadata);

/// A validated registration.
struct draft {
  std::string url;
  std::vector<std::string> events;
};

/// Leader registers a webhook: 409 WEBHOOK_LIMIT_REACHED at 5 active (counted
/// under the household lock). Body `{webhook, secret}`.
caf::expected<tx_result> create(database& db, const actor_ctx& who, const std::string& hid,
                                const draft& d, const std::string& encryption_key);

/// `{webhooks}`: the household's active webhooks, oldest first, without secrets.
caf::expected<nlohmann::json> list(database& db, const std::string& hid);

/// Leader deletes an active webhook (active=false, deleted_at): its pending
/// deliveries are given up and no new ones are written. 404 WEBHOOK_NOT_FOUND.
caf::expected<tx_result> remove(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& webhook_id);

/// `{deliveries, nextCursor}` of an active webhook of `hid`, newest first;
/// 404 WEBHOOK_NOT_FOUND otherwise.
caf::expected<nlohmann::json> deliveries(database& db, const std::string& hid,
                                         const std::string& webhook_id,
                                         const listings::page_request& page);

// -- dispatch ---------------------------------------------------------------

/// One claimed delivery, with its webhook's URL and opened secret.
struct delivery {
  std::string id;
  std::string event;
  std::string url;
  std::string body;   ///< the stored payload, exactly as sent and signed
  std::string secret; ///< the base64url signing secret
  int attempts = 0;   ///< including the one just claimed
  bool readable = true; ///< false: the secret could not be opened (ENCRYPTION_KEY changed)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery&) {
  return f(caf::meta::type_name("webhook_delivery")); // local only: never serialised
}

/// Lease length of a claimed delivery (as §7.3).
inline constexpr int lease_seconds = 60;

/// The result of one claim: at most one delivery.
struct claim_result {
  std::optional<delivery> claimed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_result&) {
  return f(caf::meta::type_name("webhook_claim")); // local only
}

/// Claims the most overdue due delivery of an active webhook (pending and
/// due, or sending with a lapsed lease) for `owner`: status `sending`, a 60 s
/// lease, attempts + 1. Nothing claimed when nothing is due.
caf::expected<claim_result> claim(database& db, const std::string& owner, const std::string& key);

/// How an attempt ended, for the row.
struct attempt_result {
  std::optional<int> status_code; ///< the HTTP status, when one came back
  std::string error;              ///< empty on success
};

/// Commits `delivered`; false when the lease was lost.
caf::expected<bool> mark_delivered(database& db, const std::string& id, const std::string& owner,
                                   const attempt_result& a);

/// Back to `pending`, due again in `delay_ms`.
caf::expected<bool> mark_retry(database& db, const std::string& id, const std::string& owner,
                               int64_t delay_ms, const attempt_result& a);

/// Gives up: `failed`.
caf::expected<bool> mark_failed(database& db, const std::string& id, const std::string& owner,
                                const attempt_result& a);

/// Shutdown: every delivery `owner` still leases goes back to `pending`, due
/// now, without counting the attempt that did not happen. Returns how many.
caf::expected<int64_t> release(database& db, const std::string& owner);

} // namespace petcare::storage::webhooks
