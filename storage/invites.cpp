#include "storage/invites.hpp"

#include <algorithm>

#include "storage/crypto.hpp"
#include "storage/household_sql.hpp"
#include "storage/outbox.hpp"

namespace petcare::storage::invites {

using nlohmann::json;
using namespace detail;

/// A timestamp column as exact microseconds (cursor keys), and back.
#define INVITE_US(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define INVITE_FROM_US(p)                                                                          \
  "(timestamptz 'epoch' + (" p "::bigint / 1000000) * interval '1 second' + (" p                   \
  "::bigint % 1000000) * interval '1 microsecond')"
#define INVITE_ISO_OR_NULL(col) "CASE WHEN " col " IS NULL THEN NULL ELSE " PETCARE_ISO(col) " END"

/// An overdue pending invite is expired before the hourly job marks it.
#define INVITE_STATUS "(CASE WHEN i.status = 'pending' AND i.expires_at <= now() THEN 'expired' ELSE i.status END)"

/// EmailInvite columns (SPEC §4.1); delivery comes from the invite's outbox row.
#define INVITE_COLS                                                                                \
  "i.id::text, i.household_id::text, i.email, " INVITE_STATUS ", i.sender_user_id::text, "        \
  "i.personal_message, " PETCARE_ISO("i.created_at") ", " PETCARE_ISO("i.expires_at") ", "         \
  INVITE_ISO_OR_NULL("i.accepted_at") ", " INVITE_ISO_OR_NULL("i.revoked_at") ", "                 \
  "coalesce((SELECT CASE o.status WHEN 'pending' THEN 'queued' WHEN 'sending' THEN 'queued' "      \
  "ELSE o.status END FROM email_outbox o WHERE o.email_invite_id = i.id "                          \
  "ORDER BY o.created_at DESC LIMIT 1), 'cancelled')"

namespace {

/// Key of the §7.2 invite expiry job (7101: temporary access, 7202: notifications).
constexpr int expiry_lock_key = 7201;
constexpr int capacity = 15;

json text_or_null(const pqxx::field& f) {
  return f.is_null() ? json(nullptr) : json(f.as<std::string>());
}

json invite_item(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},          {"householdId", r[1].as<std::string>()},
          {"email", r[2].as<std::string>()},       {"status", r[3].as<std::string>()},
          {"invitedBy", r[4].as<std::string>()},   {"personalMessage", text_or_null(r[5])},
          {"createdAt", r[6].as<std::string>()},   {"expiresAt", r[7].as<std::string>()},
          {"acceptedAt", text_or_null(r[8])},      {"revokedAt", text_or_null(r[9])},
          {"delivery", r[10].as<std::string>()}};
}

json invite_json(pqxx::transaction_base& tx, const std::string& id) {
  return invite_item(tx.exec_params1("SELECT " INVITE_COLS " FROM email_invites i WHERE i.id = $1", id));
}

/// Cancels the invite's email unless it was already sent (or failed).
void cancel_unsent(pqxx::work& tx, const std::string& invite_id) {
  tx.exec_params0("UPDATE email_outbox SET status = 'cancelled', lease_owner = NULL, "
                  "lease_expires_at = NULL WHERE email_invite_id = $1 AND status IN ('pending', 'sending')",
                  invite_id);
}

/// The state of an invite found by its token hash, with its household.
struct token_state {
  std::string id;
  std::string hid;
  std::string status;
  bool overdue = false;
  bool household_active = false;
};

std::optional<token_state> by_token(pqxx::transaction_base& tx, const std::string& hash, bool lock) {
  auto r = tx.exec_params(std::string{"SELECT i.id::text, i.household_id::text, i.status, "
                                      "i.expires_at <= now(), h.status = 'active' "
                                      "FROM email_invites i JOIN households h ON h.id = i.household_id "
                                      "WHERE i.token_hash = $1"}
                            + (lock ? " FOR UPDATE OF i" : ""),
                          hash);
  if (r.empty())
    return std::nullopt;
  return token_state{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                     r[0][3].as<bool>(), r[0][4].as<bool>()};
}

/// 404 → 410 of SPEC §4.4 for a token (none when usable).
caf::error token_refusal(const std::optional<token_state>& t) {
  if (!t)
    return refused("INVITE_NOT_FOUND");
  if (!t->household_active || t->status == "accepted" || t->status == "revoked")
    return refused("INVITE_NO_LONGER_VALID");
  if (t->status == "expired" || t->overdue)
    return refused("INVITE_EXPIRED");
  return caf::none;
}

} // namespace

std::string invite_url(const std::string& public_app_url, const std::string& token) {
  auto base = public_app_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + "/households/join?invite=" + token;
}

caf::expected<tx_result> send(database& db, const actor_ctx& who, const std::string& hid,
                              const draft& d, const mail_settings& cfg) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    // An overdue invite no longer blocks a new one to the same address.
    auto overdue = tx.exec_params("UPDATE email_invites SET status = 'expired' WHERE household_id = $1 "
                                  "AND email = $2 AND status = 'pending' AND expires_at <= now() "
                                  "RETURNING id::text",
                                  hid, d.email);
    for (const auto& r : overdue)
      cancel_unsent(tx, r[0].as<std::string>());
    auto member = tx.exec_params("SELECT 1 FROM household_members m JOIN users u ON u.id = m.user_id "
                                 "WHERE m.household_id = $1 AND u.email = $2 AND " PETCARE_ACTIVE("m"),
                                 hid, d.email);
    if (!member.empty())
      return refused("ALREADY_MEMBER");
    auto pending = tx.exec_params("SELECT 1 FROM email_invites WHERE household_id = $1 AND email = $2 "
                                  "AND status = 'pending'",
                                  hid, d.email);
    if (!pending.empty())
      return refused("INVITE_ALREADY_PENDING");
    if (active_count(tx, hid) >= capacity)
      return refused("HOUSEHOLD_AT_CAPACITY");

    auto inv = tx.exec_params1(
      "INSERT INTO email_invites (household_id, sender_user_id, email, token_hash, personal_message, "
      "expires_at) VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6)) "
      "RETURNING id::text, to_char(expires_at AT TIME ZONE 'UTC', 'FMMonth FMDD, YYYY HH24:MI') || ' UTC'",
      hid, who.user_id, d.email, d.token_hash, d.personal_message, static_cast<int>(cfg.ttl_days));
    auto invite_id = inv[0].as<std::string>();

    outbox::invite_mail mail;
    mail.sender_name = display_name(tx, who.user_id);
    mail.household_name = h->name;
    mail.description = h->description;
    mail.personal_message = d.personal_message;
    mail.expires = inv[1].as<std::string>();
    mail.invite_url = invite_url(cfg.public_app_url, d.token);
    auto content = outbox::compose_invite(mail);
    auto outbox_id = tx.exec("SELECT gen_random_uuid()::text")[0][0].as<std::string>();
    auto body = json{{"text", content.text}, {"html", content.html}, {"inviteUrl", mail.invite_url}}.dump();
    auto sealed = outbox::seal(cfg.encryption_key, body, outbox_id);
    tx.exec_params0("INSERT INTO email_outbox (id, email_invite_id, to_address, subject, body_nonce, "
                    "body_ciphertext, message_id) VALUES ($1, $2, $3, $4, decode($5, 'hex'), "
                    "decode($6, 'hex'), $7)",
                    outbox_id, invite_id, d.email, content.subject, crypto::hex(sealed.nonce),
                    crypto::hex(sealed.ciphertext), "<" + outbox_id + "@" + cfg.from_domain + ">");
    audit(tx, hid, who.user_id, "email_invite.sent", "", invite_id,
          {{"emailDomain", d.email.substr(d.email.rfind('@') + 1)}}, who.request_id);
    tx_result out;
    out.body = {{"emailInvite", invite_json(tx, invite_id)}};
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<json> list(database& db, const std::string& hid, const std::string& status,
                         const listings::page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto from = page.after.value_or(listings::position{listings::max_at_us, "ffffffff-ffff-ffff-ffff-ffffffffffff"});
    auto rows = tx.exec_params(
      "SELECT " INVITE_COLS ", " INVITE_US("i.created_at") ", i.id::text FROM email_invites i "
      "WHERE i.household_id = $1 AND ($2::text = 'all' OR " INVITE_STATUS " = $2::text) "
      "AND (i.created_at, i.id) < (" INVITE_FROM_US("$3") ", $4::uuid) "
      "ORDER BY i.created_at DESC, i.id DESC LIMIT $5",
      hid, status, from.at_us, from.id, page.limit + 1);
    auto items = json::array();
    auto n = std::min<size_t>(rows.size(), static_cast<size_t>(page.limit));
    for (size_t i = 0; i < n; ++i)
      items.push_back(invite_item(rows[static_cast<pqxx::result::size_type>(i)]));
    json next = nullptr;
    if (rows.size() > n) {
      auto last = rows[static_cast<pqxx::result::size_type>(n - 1)];
      next = listings::encode_cursor({last[11].as<int64_t>(), last[12].as<std::string>()}, page.filter);
    }
    return json{{"emailInvites", items}, {"nextCursor", next}};
  });
}

caf::expected<tx_result> revoke(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& invite_id) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    auto r = tx.exec_params("SELECT status = 'pending' AND expires_at > now() FROM email_invites "
                            "WHERE id = $1 AND household_id = $2 FOR UPDATE",
                            invite_id, hid);
    if (r.empty())
      return refused("INVITE_NOT_FOUND");
    if (!r[0][0].as<bool>())
      return refused("INVITE_NOT_PENDING");
    tx.exec_params0("UPDATE email_invites SET status = 'revoked', revoked_at = now(), revoked_by = $2 "
                    "WHERE id = $1",
                    invite_id, who.user_id);
    cancel_unsent(tx, invite_id);
    audit(tx, hid, who.user_id, "email_invite.revoked", "", invite_id, json::object(), who.request_id);
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<json> preview(database& db, const std::string& token_hash) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto t = by_token(tx, token_hash, false);
    if (auto err = token_refusal(t))
      return err;
    auto r = tx.exec_params1("SELECT h.name, h.description, u.display_name, " PETCARE_ISO("i.expires_at")
                             " FROM email_invites i JOIN households h ON h.id = i.household_id "
                             "JOIN users u ON u.id = i.sender_user_id WHERE i.id = $1",
                             t->id);
    return json{{"household",
                 {{"name", r[0].as<std::string>()},
                  {"description", text_or_null(r[1])},
                  {"memberCount", active_count(tx, t->hid)}}},
                {"invitedBy", {{"displayName", r[2].as<std::string>()}}},
                {"expiresAt", r[3].as<std::string>()}};
  });
}

caf::expected<std::string> household_for_accept(database& db, const std::string& token_hash,
                                                const std::string& user) {
  return guarded(db.internals(), [&]() -> caf::expected<std::string> {
    pqxx::read_transaction tx{conn(db)};
    auto t = by_token(tx, token_hash, false);
    if (auto err = token_refusal(t))
      return err;
    if (!household_of(tx, user).empty())
      return refused("ALREADY_IN_HOUSEHOLD");
    return t->hid;
  });
}

caf::expected<tx_result> accept(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& token_hash) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    auto t = by_token(tx, token_hash, true);
    if (t && t->hid != hid)
      t.reset(); // cannot happen: an invite never changes household
    if (auto err = token_refusal(t))
      return err;
    if (!h || !h->active)
      return refused("INVITE_NO_LONGER_VALID");
    if (auto err = check_can_request(tx, who, hid))
      return err;
    auto req = tx.exec_params1("INSERT INTO household_join_requests (household_id, user_id, via, "
                               "email_invite_id) VALUES ($1, $2, 'email_invite', $3) "
                               "RETURNING id::text, " PETCARE_ISO("requested_at"),
                               hid, who.user_id, t->id);
    auto rid = req[0].as<std::string>();
    tx.exec_params0("UPDATE email_invites SET status = 'accepted', accepted_at = now(), accepted_by = $2 "
                    "WHERE id = $1",
                    t->id, who.user_id);
    auto requester = tx.exec_params1("SELECT display_name, email FROM users WHERE id = $1", who.user_id);
    notify(tx, h->leader_id, "join_request_received", "New join request",
           requester[0].as<std::string>() + " (" + requester[1].as<std::string>() + ") wants to join "
             + h->name,
           {{"householdId", hid}, {"joinRequestId", rid}, {"requesterId", who.user_id}});
    audit(tx, hid, who.user_id, "join_request.created", who.user_id, rid, {{"via", "email_invite"}},
          who.request_id);
    audit(tx, hid, who.user_id, "email_invite.accepted", who.user_id, t->id, json::object(),
          who.request_id);
    tx_result out;
    out.body = {{"joinRequest",
                 {{"id", rid}, {"householdId", hid}, {"status", "pending"}, {"requestedAt", req[1].as<std::string>()}}},
                {"household",
                 {{"name", h->name}, {"description", h->description ? json(*h->description) : json(nullptr)}}}};
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<int64_t> expire_overdue(database& db) {
  return guarded(db.internals(), [&]() -> caf::expected<int64_t> {
    pqxx::work tx{conn(db)};
    if (!tx.exec_params("SELECT pg_try_advisory_xact_lock($1)", expiry_lock_key)[0][0].as<bool>())
      return int64_t{-1};
    auto r = tx.exec(
      "WITH e AS (UPDATE email_invites SET status = 'expired' WHERE status = 'pending' "
      "AND expires_at <= now() RETURNING id), "
      "c AS (UPDATE email_outbox o SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL "
      "FROM e WHERE o.email_invite_id = e.id AND o.status IN ('pending', 'sending') RETURNING o.id) "
      "SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM c)");
    tx.commit();
    return r[0][0].as<int64_t>();
  });
}

} // namespace petcare::storage::invites
