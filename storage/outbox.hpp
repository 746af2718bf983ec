#pragma once
/// The email outbox (SPEC §2 email_outbox, §7.3): composing an invitation,
/// sealing its bodies with ENCRYPTION_KEY (XChaCha20-Poly1305, the outbox id
/// as associated data), and the leased dispatch protocol. A row is claimed with
/// `FOR UPDATE SKIP LOCKED`, leased for 60 s to one instance, and every later
/// write is conditional on that lease, so a row is sent by one dispatcher at a
/// time and a lease that lapsed is simply claimed again.
/// Also the hourly retention purge of notifications (§7.2).

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/database.hpp"

namespace petcare::storage::outbox {

/// What an invitation email says (SPEC §3.8); every field is user text except
/// `invite_url` and `expires`.
struct invite_mail {
  std::string sender_name;
  std::string household_name;
  std::optional<std::string> description;
  std::optional<std::string> personal_message;
  std::string expires; ///< human-readable expiry, e.g. "February 16, 2026 10:30 UTC"
  std::string invite_url;
};

/// Subject and the two bodies of one email.
struct composed {
  std::string subject;
  std::string text;
  std::string html;
};

/// `{sender} invited you to join {household}` with text and HTML parts; the
/// HTML part escapes all user text.
composed compose_invite(const invite_mail& m);

/// HTML escaping of `& < > " '`.
std::string html_escape(const std::string& s);

/// A sealed body: 24-byte nonce and ciphertext (raw bytes).
struct sealed {
  std::string nonce;
  std::string ciphertext;
};

/// Encrypts `plain` under the 32-byte `key`, bound to `ad` (the outbox id).
sealed seal(const std::string& key, const std::string& plain, const std::string& ad);

/// Decrypts; nullopt when the key is wrong or the data was altered.
std::optional<std::string> open(const std::string& key, const sealed& s, const std::string& ad);

/// One claimed row, decrypted.
struct message {
  std::string id;
  std::string to;
  std::string subject;
  std::string text;
  std::string html;
  std::string invite_url;
  std::string message_id;
  int attempts = 0; ///< including the one just claimed
  bool readable = true; ///< false: the body could not be decrypted
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message& x) {
  return f(caf::meta::type_name("outbox_message"), x.id, x.to, x.subject, x.text, x.html,
           x.invite_url, x.message_id, x.attempts, x.readable);
}

/// The result of one claim: at most one row, and how many rows still wait.
struct claim_result {
  std::optional<message> claimed;
  int64_t waiting = 0; ///< pending or sending rows (the `email_outbox_pending` gauge)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_result&) {
  return f(caf::meta::type_name("claim_result"));
}

/// Lease length of a claimed row (SPEC §7.3).
inline constexpr int lease_seconds = 60;

/// Claims the most overdue due row (pending and due, or sending with a lapsed
/// lease) for `owner`: status `sending`, a 60 s lease, attempts + 1.
caf::expected<claim_result> claim(database& db, const std::string& owner, const std::string& key);

/// Commits `sent`; false when the lease was lost (cancelled or reclaimed meanwhile).
caf::expected<bool> mark_sent(database& db, const std::string& id, const std::string& owner);

/// Back to `pending`, due again in `delay_ms`; `error` is kept in last_error.
caf::expected<bool> mark_retry(database& db, const std::string& id, const std::string& owner,
                               int64_t delay_ms, const std::string& error);

/// Gives up: `failed` with `error`.
caf::expected<bool> mark_failed(database& db, const std::string& id, const std::string& owner,
                                const std::string& error);

/// Shutdown: every row `owner` still leases goes back to `pending`, due now,
/// without counting the attempt that did not happen. Returns how many.
caf::expected<int64_t> release(database& db, const std::string& owner);

/// §7.2: deletes notifications older than `retention_days`, under
/// pg_try_advisory_xact_lock (skipped when another instance holds it).
/// Returns the number deleted (-1 when skipped).
caf::expected<int64_t> purge_notifications(database& db, int64_t retention_days);

} // namespace petcare::storage::outbox
