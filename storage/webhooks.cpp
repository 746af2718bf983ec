#include "storage/webhooks.hpp"

#include <algorithm>

#include "storage/crypto.hpp"
#include "storage/household_sql.hpp"
#include "storage/outbox.hpp"
#include "storage/webhook_sql.hpp"

namespace petcare::storage {

namespace webhooks {

using nlohmann::json;
using namespace detail;

/// A timestamp column as exact microseconds (cursor keys), and back (as listings.cpp).
#define WEBHOOK_US(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define WEBHOOK_FROM_US(p)                                                                         \
  "(timestamptz 'epoch' + (" p "::bigint / 1000000) * interval '1 second' + (" p                   \
  "::bigint % 1000000) * interval '1 microsecond')"
#define WEBHOOK_ISO_OR_NULL(col) "CASE WHEN " col " IS NULL THEN NULL ELSE " PETCARE_ISO(col) " END"

/// Webhook columns of the API object.
#define WEBHOOK_COLS "w.id::text, w.url, array_to_json(w.events)::text, w.active, " PETCARE_ISO("w.created_at")

namespace {

json id_or_null(const std::string& id) { return id.empty() ? json(nullptr) : json(id); }

/// `metadata[key]`, null when absent.
json meta(const json& metadata, const char* key) {
  if (!metadata.is_object())
    return nullptr;
  auto i = metadata.find(key);
  return i == metadata.end() ? json(nullptr) : *i;
}

json webhook_item(const pqxx::row& r) {
  auto events = json::parse(r[2].c_str(), nullptr, false);
  return {{"id", r[0].as<std::string>()},
          {"url", r[1].as<std::string>()},
          {"events", events.is_array() ? events : json::array()},
          {"active", r[3].as<bool>()},
          {"createdAt", r[4].as<std::string>()}};
}

json webhook_json(pqxx::transaction_base& tx, const std::string& id) {
  return webhook_item(tx.exec_params1("SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.id = $1", id));
}

json text_or_null(const pqxx::field& f) { return f.is_null() ? json(nullptr) : json(f.as<std::string>()); }

json delivery_item(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"event", r[1].as<std::string>()},
          {"status", r[2].as<std::string>()},
          {"attempts", r[3].as<int>()},
          {"lastStatusCode", r[4].is_null() ? json(nullptr) : json(r[4].as<int>())},
          {"lastError", text_or_null(r[5])},
          {"createdAt", r[6].as<std::string>()},
          {"deliveredAt", text_or_null(r[7])}};
}

/// An HTTP status the table accepts, else none.
std::optional<int> status_code(const attempt_result& a) {
  if (a.status_code && *a.status_code >= 100 && *a.status_code <= 599)
    return a.status_code;
  return std::nullopt;
}

std::optional<std::string> error_text(const attempt_result& a) {
  if (a.error.empty())
    return std::nullopt;
  return a.error.substr(0, 200);
}

} // namespace

const std::vector<std::string>& event_names() {
  static const std::vector<std::string> names{
    "household.updated",   "household.deactivated", "member.added",          "member.removed",
    "member.left",         "member.expired",        "join_request.created",  "join_request.approved",
    "join_request.rejected", "invite_code.regenerated", "leadership.transferred"};
  return names;
}

std::vector<raised> events_for(const std::string& action, const std::string& actor,
                               const std::string& target, const std::string& subject,
                               const json& metadata) {
  if (action == "household.updated")
    return {{action, {{"actorUserId", id_or_null(actor)}, {"fields", meta(metadata, "fields")}}}};
  if (action == "household.deactivated")
    return {{action, {{"actorUserId", id_or_null(actor)}}}};
  if (action == "invite_code.regenerated") // never the code itself
    return {{action, {{"actorUserId", id_or_null(actor)}, {"expiresInDays", meta(metadata, "expiresInDays")}}}};
  if (action == "join_request.created")
    return {{action, {{"userId", id_or_null(target)}, {"requestId", id_or_null(subject)}, {"via", meta(metadata, "via")}}}};
  if (action == "join_request.approved") {
    json data{{"userId", id_or_null(target)},
              {"requestId", id_or_null(subject)},
              {"approvedBy", id_or_null(actor)},
              {"isTemporary", meta(metadata, "isTemporary")}};
    return {{action, data}, {"member.added", data}};
  }
  if (action == "join_request.rejected")
    return {{action, {{"userId", id_or_null(target)}, {"requestId", id_or_null(subject)}, {"rejectedBy", id_or_null(actor)}}}};
  if (action == "member.removed")
    return {{action, {{"userId", id_or_null(target)}, {"removedBy", id_or_null(actor)}}}};
  if (action == "member.left")
    return {{action, {{"userId", id_or_null(target)}}}};
  if (action == "temporary_access.expired")
    return {{"member.expired", {{"userId", id_or_null(target)}, {"expiredAt", meta(metadata, "expiredAt")}}}};
  if (action == "leadership.transferred")
    return {{action,
             {{"previousLeaderId", id_or_null(actor)},
              {"newLeaderId", id_or_null(target)},
              {"reason", meta(metadata, "reason")},
              {"designated", meta(metadata, "designated")}}}};
  return {};
}

caf::expected<tx_result> create(database& db, const actor_ctx& who, const std::string& hid,
                                const draft& d, const std::string& encryption_key) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    // Counted under the household lock: concurrent registrations serialise here.
    auto active = tx.exec_params1("SELECT count(*) FROM webhooks WHERE household_id = $1 AND active "
                                  "AND deleted_at IS NULL",
                                  hid)[0]
                    .as<int>();
    if (active >= max_per_household)
      return refused("WEBHOOK_LIMIT_REACHED");
    auto id = tx.exec("SELECT gen_random_uuid()::text")[0][0].as<std::string>();
    auto secret = crypto::base64url(crypto::random_bytes(32));
    auto sealed = outbox::seal(encryption_key, secret, id);
    tx.exec_params0("INSERT INTO webhooks (id, household_id, url, events, secret_nonce, secret_ciphertext, "
                    "created_by) VALUES ($1, $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "
                    "decode($5, 'hex'), decode($6, 'hex'), $7)",
                    id, hid, d.url, json(d.events).dump(), crypto::hex(sealed.nonce),
                    crypto::hex(sealed.ciphertext), who.user_id);
    // The URL stays out of the audit log: its query string may carry a token.
    audit(tx, hid, who.user_id, "webhook.created", "", id, {{"events", d.events}}, who.request_id);
    tx_result out;
    out.body = {{"webhook", webhook_json(tx, id)}, {"secret", secret}};
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<json> list(database& db, const std::string& hid) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto rows = tx.exec_params("SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.household_id = $1 "
                               "AND w.active AND w.deleted_at IS NULL ORDER BY w.created_at, w.id",
                               hid);
    auto items = json::array();
    for (const auto& r : rows)
      items.push_back(webhook_item(r));
    return json{{"webhooks", items}};
  });
}

caf::expected<tx_result> remove(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& webhook_id) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    auto gone = tx.exec_params("UPDATE webhooks SET active = false, deleted_at = now() WHERE id = $1 "
                               "AND household_id = $2 AND active RETURNING id",
                               webhook_id, hid);
    if (gone.empty())
      return refused("WEBHOOK_NOT_FOUND");
    // Queued deliveries are given up; one being sent right now finishes its attempt.
    tx.exec_params0("UPDATE webhook_deliveries SET status = 'failed', last_error = 'webhook deleted' "
                    "WHERE webhook_id = $1 AND status = 'pending'",
                    webhook_id);
    audit(tx, hid, who.user_id, "webhook.deleted", "", webhook_id, json::object(), who.request_id);
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<json> deliveries(database& db, const std::string& hid, const std::string& webhook_id,
                               const listings::page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto hook = tx.exec_params("SELECT 1 FROM webhooks WHERE id = $1 AND household_id = $2 AND active",
                               webhook_id, hid);
    if (hook.empty())
      return refused("WEBHOOK_NOT_FOUND");
    auto from = page.after.value_or(listings::position{listings::max_at_us, "ffffffff-ffff-ffff-ffff-ffffffffffff"});
    auto rows = tx.exec_params(
      "SELECT d.id::text, d.event, d.status, d.attempts, d.last_status_code, d.last_error, "
      PETCARE_ISO("d.created_at") ", " WEBHOOK_ISO_OR_NULL("d.delivered_at") ", "
      WEBHOOK_US("d.created_at") ", d.id::text FROM webhook_deliveries d WHERE d.webhook_id = $1 "
      "AND (d.created_at, d.id) < (" WEBHOOK_FROM_US("$2") ", $3::uuid) "
      "ORDER BY d.created_at DESC, d.id DESC LIMIT $4",
      webhook_id, from.at_us, from.id, page.limit + 1);
    auto items = json::array();
    auto n = std::min<size_t>(rows.size(), static_cast<size_t>(page.limit));
    for (size_t i = 0; i < n; ++i)
      items.push_back(delivery_item(rows[static_cast<pqxx::result::size_type>(i)]));
    json next = nullptr;
    if (rows.size() > n) {
      auto last = rows[static_cast<pqxx::result::size_type>(n - 1)];
      next = listings::encode_cursor({last[8].as<int64_t>(), last[9].as<std::string>()}, page.filter);
    }
    return json{{"deliveries", items}, {"nextCursor", next}};
  });
}

caf::expected<claim_result> claim(database& db, const std::string& owner, const std::string& key) {
  return guarded(db.internals(), [&]() -> caf::expected<claim_result> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params(
      "UPDATE webhook_deliveries d SET status = 'sending', lease_owner = $1, "
      "lease_expires_at = now() + make_interval(secs => $2), attempts = d.attempts + 1 "
      "FROM webhooks w WHERE w.id = d.webhook_id AND d.id = ("
      "SELECT q.id FROM webhook_deliveries q JOIN webhooks qw ON qw.id = q.webhook_id AND qw.active "
      "WHERE (q.status = 'pending' AND q.next_attempt_at <= now()) "
      "OR (q.status = 'sending' AND q.lease_expires_at <= now()) "
      "ORDER BY q.next_attempt_at, q.id LIMIT 1 FOR UPDATE OF q SKIP LOCKED) "
      "RETURNING d.id::text, d.event, d.payload::text, d.attempts, w.url, w.secret_nonce, "
      "w.secret_ciphertext, w.id::text",
      owner, lease_seconds);
    claim_result out;
    if (!r.empty()) {
      delivery d;
      d.id = r[0][0].as<std::string>();
      d.event = r[0][1].as<std::string>();
      d.body = r[0][2].as<std::string>();
      d.attempts = r[0][3].as<int>();
      d.url = r[0][4].as<std::string>();
      pqxx::binarystring nonce{r[0][5]};
      pqxx::binarystring sealed{r[0][6]};
      auto secret = outbox::open(key, {nonce.str(), sealed.str()}, r[0][7].as<std::string>());
      d.readable = secret.has_value();
      d.secret = secret.value_or("");
      out.claimed = std::move(d);
    }
    tx.commit();
    return out;
  });
}

caf::expected<bool> mark_delivered(database& db, const std::string& id, const std::string& owner,
                                   const attempt_result& a) {
  return guarded(db.internals(), [&]() -> caf::expected<bool> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params("UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), "
                            "lease_owner = NULL, lease_expires_at = NULL, last_status_code = $3, "
                            "last_error = NULL WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                            id, owner, status_code(a));
    tx.commit();
    return r.affected_rows() == 1;
  });
}

caf::expected<bool> mark_retry(database& db, const std::string& id, const std::string& owner,
                               int64_t delay_ms, const attempt_result& a) {
  return guarded(db.internals(), [&]() -> caf::expected<bool> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params(
      "UPDATE webhook_deliveries SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
      "last_status_code = $3, last_error = $4, "
      "next_attempt_at = now() + make_interval(secs => $5::double precision / 1000) "
      "WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
      id, owner, status_code(a), error_text(a), delay_ms);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

caf::expected<bool> mark_failed(database& db, const std::string& id, const std::string& owner,
                                const attempt_result& a) {
  return guarded(db.internals(), [&]() -> caf::expected<bool> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params("UPDATE webhook_deliveries SET status = 'failed', lease_owner = NULL, "
                            "lease_expires_at = NULL, last_status_code = $3, last_error = $4 "
                            "WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                            id, owner, status_code(a), error_text(a));
    tx.commit();
    return r.affected_rows() == 1;
  });
}

caf::expected<int64_t> release(database& db, const std::string& owner) {
  return guarded(db.internals(), [&]() -> caf::expected<int64_t> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params("UPDATE webhook_deliveries SET status = 'pending', lease_owner = NULL, "
                            "lease_expires_at = NULL, next_attempt_at = now(), "
                            "attempts = greatest(attempts - 1, 0) "
                            "WHERE status = 'sending' AND lease_owner = $1",
                            owner);
    tx.commit();
    return static_cast<int64_t>(r.affected_rows());
  });
}

} // namespace webhooks

namespace detail {

void enqueue_webhooks(pqxx::work& tx, const std::string& hid, const std::string& actor,
                      const std::string& action, const std::string& target,
                      const std::string& subject, const nlohmann::json& metadata) {
  if (hid.empty())
    return;
  auto raised = webhooks::events_for(action, actor, target, subject, metadata);
  if (raised.empty())
    return;
  auto events = nlohmann::json::array();
  for (auto& r : raised)
    events.push_back({{"event", r.event}, {"data", r.data}});
  // One statement for every event and webhook; an event id shared by all its
  // deliveries (MATERIALIZED: gen_random_uuid() runs once per event).
  tx.exec_params0(
    "WITH e AS MATERIALIZED (SELECT x->>'event' AS event, x->'data' AS data, gen_random_uuid() AS eid "
    "FROM jsonb_array_elements($2::jsonb) x) "
    "INSERT INTO webhook_deliveries (webhook_id, household_id, event, payload) "
    "SELECT w.id, w.household_id, e.event, jsonb_build_object('id', e.eid, 'event', e.event, "
    "'householdId', w.household_id, 'occurredAt', " PETCARE_ISO("now()") ", 'data', e.data) "
    "FROM e JOIN webhooks w ON w.household_id = $1 AND w.active AND w.deleted_at IS NULL "
    "AND e.event = ANY (w.events)",
    hid, events.dump());
}

} // namespace detail

} // namespace petcare::storage
