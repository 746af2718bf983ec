#pragma once
/// Email invites (SPEC §3.8, §4.4): each mutation is one transaction that
/// locks the household row first, re-checks the rules and writes the change
/// with its outbox row, notification and audit rows. Tokens never reach
/// storage in clear except to be sealed into the outbox body; rows keep
/// only their SHA-256 (`token_hash`). Refusals are `refused(code)`.

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"
#include "storage/households.hpp"
#include "storage/listings.hpp"

namespace petcare::storage::invites {

/// What the invite transaction needs from the configuration.
struct mail_settings {
  std::string encryption_key; ///< 32 raw bytes (ENCRYPTION_KEY)
  std::string public_app_url; ///< PUBLIC_APP_URL
  std::string from_domain;    ///< the domain of FROM_EMAIL, for Message-ID
  int64_t ttl_days = 14;      ///< EMAIL_INVITE_TTL_DAYS
};

/// A validated invite request; `token` is the 43-character secret of the link.
struct draft {
  std::string email; ///< normalised (lower-case)
  std::optional<std::string> personal_message;
  std::string token;
  std::string token_hash; ///< lowercase hex SHA-256 of `token`
};

/// `{PUBLIC_APP_URL}/households/join?invite={token}`.
std::string invite_url(const std::string& public_app_url, const std::string& token);

/// Leader sends an invite: 409 ALREADY_MEMBER → INVITE_ALREADY_PENDING →
/// HOUSEHOLD_AT_CAPACITY; writes invite, sealed outbox row and the
/// `email_invite.sent` audit row. Body `{emailInvite}`.
caf::expected<tx_result> send(database& db, const actor_ctx& who, const std::string& hid,
                              const draft& d, const mail_settings& cfg);

/// `{emailInvites, nextCursor}` of household `hid`, newest first; `status`
/// is pending|accepted|revoked|expired|all. An overdue pending invite counts
/// as expired before the hourly job marks it.
caf::expected<nlohmann::json> list(database& db, const std::string& hid, const std::string& status,
                                   const listings::page_request& page);

/// Leader revokes a pending invite and cancels its unsent email (204).
caf::expected<tx_result> revoke(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& invite_id);

/// `{household {name, description, memberCount}, invitedBy {displayName}, expiresAt}`;
/// 404 INVITE_NOT_FOUND, 410 INVITE_EXPIRED / INVITE_NO_LONGER_VALID.
caf::expected<nlohmann::json> preview(database& db, const std::string& token_hash);

/// The pre-checks of accept without locks: 404 → 410 → 409 ALREADY_IN_HOUSEHOLD
/// for `user`; answers the invite's household id.
caf::expected<std::string> household_for_accept(database& db, const std::string& token_hash,
                                                const std::string& user);

/// Accepts under the household lock: every check again, then a pending join
/// request via `email_invite`, the invite `accepted`, the leader notified and
/// `join_request.created` + `email_invite.accepted` audited. Body as join.
caf::expected<tx_result> accept(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& token_hash);

/// §7.2 hourly: pending invites past `expires_at` become `expired` and their
/// unsent email `cancelled`, under pg_try_advisory_xact_lock. Returns how
/// many invites expired (-1 when another instance holds the lock).
caf::expected<int64_t> expire_overdue(database& db);

} // namespace petcare::storage::invites
