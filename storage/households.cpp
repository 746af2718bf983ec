#include "storage/households.hpp"

#include "storage/household_sql.hpp"

#include <caf/message.hpp>

namespace petcare::storage::households {

using namespace detail;

namespace {

/// Draws codes until one was never used (current or retired) — SPEC §3.2.
std::string fresh_code(pqxx::work& tx, const std::string& name, const code_generator& gen) {
  for (int attempt = 0;; ++attempt) {
    auto code = gen(name, attempt);
    // Two transactions may draw the same code. Whoever holds its lock may be
    // about to use it, so the other draws again rather than waiting: waiting
    // deadlocked when two creates held each other's next candidate (seen in the
    // harness's concurrent top-up, where one name prefix has many codes in use).
    // The check runs after the lock, in a new snapshot.
    if (!prepared(tx, "SELECT pg_try_advisory_xact_lock(7102, hashtext($1))", code)[0][0].as<bool>())
      continue;
    auto r = prepared(tx, "SELECT NOT EXISTS (SELECT 1 FROM households WHERE invite_code = $1) "
                            "AND NOT EXISTS (SELECT 1 FROM retired_invite_codes WHERE code = $1)",
                            code);
    if (r[0][0].as<bool>())
      return code;
  }
}

} // namespace

caf::expected<household_row> load(database& db, const std::string& id) {
  return guarded(db.internals(), [&]() -> caf::expected<household_row> {
    pqxx::read_transaction tx{conn(db)};
    auto h = snapshot(tx, id);
    if (h.id.empty() || h.status != "active")
      return make_error(errc::not_found);
    return h;
  });
}

caf::expected<std::string> of_user(database& db, const std::string& user_id) {
  return guarded(db.internals(), [&]() -> caf::expected<std::string> {
    pqxx::nontransaction tx{conn(db)};
    return household_of(tx, user_id);
  });
}

caf::expected<std::string> of_request(database& db, const std::string& request_id) {
  return guarded(db.internals(), [&]() -> caf::expected<std::string> {
    pqxx::nontransaction tx{conn(db)};
    auto r = prepared(tx, "SELECT household_id::text FROM household_join_requests WHERE id = $1",
                            request_id);
    if (r.empty())
      return make_error(errc::not_found);
    return r[0][0].as<std::string>();
  });
}

caf::expected<tx_result> create(database& db, const actor_ctx& who, const std::string& name,
                                const std::optional<std::string>& description,
                                const code_generator& gen) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    // The user row lock serialises one user's concurrent creates and joins.
    prepared(tx, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", who.user_id);
    expire_due(tx, "m.user_id = $1", who.user_id, who.request_id);
    if (!household_of(tx, who.user_id).empty())
      return refused("ALREADY_IN_HOUSEHOLD");
    auto code = fresh_code(tx, name, gen);
    auto hid = prepared1(tx, 
                   "INSERT INTO households (name, description, invite_code, invite_code_expires_at, "
                   "leader_id, created_by) VALUES ($1, $2, $3, now() + interval '30 days', $4, $4) "
                   "RETURNING id::text",
                   name, description, code, who.user_id)[0]
                 .as<std::string>();
    prepared0(tx, "INSERT INTO household_members (household_id, user_id, role) "
                    "VALUES ($1, $2, 'leader')",
                    hid, who.user_id);
    close_other_requests(tx, who.user_id, hid, who.request_id);
    audit(tx, hid, who.user_id, "household.created", "", "", {{"name", name}}, who.request_id);
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"household_created"};
    return out;
  });
}

caf::expected<tx_result> update(database& db, const actor_ctx& who, const std::string& hid,
                                const patch_fields& p) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    std::vector<std::string> changed;
    if (p.name && *p.name != h->name) {
      prepared0(tx, "UPDATE households SET name = $2 WHERE id = $1", hid, *p.name);
      changed.push_back("name");
    }
    if (p.description_set && p.description != h->description) {
      prepared0(tx, "UPDATE households SET description = $2 WHERE id = $1", hid, p.description);
      changed.push_back("description");
    }
    if (!changed.empty()) {
      prepared0(tx, "UPDATE households SET updated_at = now() WHERE id = $1", hid);
      audit(tx, hid, who.user_id, "household.updated", "", "", {{"fields", changed}},
            who.request_id);
    }
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    if (!changed.empty())
      out.events = {"household_updated"};
    return out;
  });
}

caf::expected<tx_result> regenerate_code(database& db, const actor_ctx& who,
                                         const std::string& hid, int expires_in_days,
                                         const code_generator& gen) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    prepared0(tx, "INSERT INTO retired_invite_codes (code, household_id, reason) "
                    "SELECT invite_code, id, 'regenerated' FROM households WHERE id = $1",
                    hid);
    auto code = fresh_code(tx, h->name, gen);
    prepared0(tx, 
      "UPDATE households SET invite_code = $2, invite_code_created_at = now(), "
      "invite_code_expires_at = CASE WHEN $3 = 0 THEN NULL ELSE now() + make_interval(days => $3) END, "
      "updated_at = now() WHERE id = $1",
      hid, code, expires_in_days);
    audit(tx, hid, who.user_id, "invite_code.regenerated", "", "",
          {{"expiresInDays", expires_in_days == 0 ? nlohmann::json(nullptr) : nlohmann::json(expires_in_days)}},
          who.request_id);
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"invite_code_regenerated"};
    return out;
  });
}

caf::expected<tx_result> acknowledge_welcome(database& db, const actor_ctx& who,
                                             const std::string& hid) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active || role_of(tx, hid, who.user_id).empty())
      return refused("HOUSEHOLD_NOT_FOUND");
    prepared0(tx, "UPDATE household_members SET welcome_pending = false, "
                    "welcome_acknowledged_at = coalesce(welcome_acknowledged_at, now()), "
                    "updated_at = now() WHERE household_id = $1 AND user_id = $2 AND "
                    "status = 'active' AND welcome_pending",
                    hid, who.user_id);
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<std::string> lookup_code(database& db, const std::string& code) {
  return guarded(db.internals(), [&]() -> caf::expected<std::string> {
    pqxx::nontransaction tx{conn(db)};
    auto r = prepared(tx, "SELECT id::text FROM households WHERE invite_code = $1", code);
    if (!r.empty())
      return r[0][0].as<std::string>();
    auto retired = prepared(tx, "SELECT reason FROM retired_invite_codes WHERE code = $1", code);
    if (!retired.empty() && retired[0][0].as<std::string>() == "regenerated")
      return refused("INVITE_CODE_REGENERATED");
    return refused("INVALID_INVITE_CODE_LOOKUP");
  });
}

caf::expected<tx_result> join(database& db, const actor_ctx& who, const std::string& hid,
                              const std::string& code) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    // Locks the household and reads whether the code is still its current one.
    auto cur = prepared(tx, 
      "SELECT name, description, leader_id::text, status = 'active', invite_code = $2, "
      "invite_code_expires_at IS NOT NULL AND invite_code_expires_at <= now() "
      "FROM households WHERE id = $1 FOR UPDATE",
      hid, code);
    // The code may have been regenerated or retired since the lookup.
    if (cur.empty() || !cur[0][3].as<bool>() || cur[0][4].is_null() || !cur[0][4].as<bool>())
      return refused("INVITE_CODE_REGENERATED");
    if (cur[0][5].as<bool>())
      return refused("EXPIRED_INVITE_CODE");
    locked_household hh;
    hh.id = hid;
    hh.name = cur[0][0].as<std::string>();
    if (!cur[0][1].is_null())
      hh.description = cur[0][1].as<std::string>();
    hh.leader_id = cur[0][2].as<std::string>();
    auto* h = &hh;
    std::string requester;
    if (auto err = check_can_request(tx, who, hid, requester))
      return err;
    auto inserted = prepared1(tx, "INSERT INTO household_join_requests (household_id, user_id, via, "
                                  "invite_code) VALUES ($1, $2, 'invite_code', $3) RETURNING id::text, "
                                  PETCARE_ISO("requested_at"),
                              hid, who.user_id, code);
    auto rid = inserted[0].as<std::string>();
    notify(tx, h->leader_id, "join_request_received", "New join request",
           requester + " wants to join " + h->name,
           {{"householdId", hid}, {"joinRequestId", rid}, {"requesterId", who.user_id}});
    audit(tx, hid, who.user_id, "join_request.created", who.user_id, rid, {{"via", "invite_code"}},
          who.request_id);
    tx_result out;
    out.body = {{"joinRequest",
                 {{"id", rid}, {"householdId", hid}, {"status", "pending"}, {"requestedAt", inserted[1].as<std::string>()}}},
                {"household",
                 {{"name", h->name},
                  {"description", h->description ? nlohmann::json(*h->description) : nlohmann::json(nullptr)}}}};
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

namespace {

struct request_state {
  std::string user_id;
  std::string status;
  std::string via;
  std::string invite_sender; ///< sender of the email invite, if via email_invite
};

std::optional<request_state> lock_request(pqxx::work& tx, const std::string& hid,
                                          const std::string& rid) {
  auto r = prepared(tx, 
    "SELECT r.user_id::text, r.status, r.via, coalesce(i.sender_user_id::text, '') "
    "FROM household_join_requests r LEFT JOIN email_invites i ON i.id = r.email_invite_id "
    "WHERE r.id = $1 AND r.household_id = $2 FOR UPDATE OF r",
    rid, hid);
  if (r.empty())
    return std::nullopt;
  return request_state{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                       r[0][2].as<std::string>(), r[0][3].as<std::string>()};
}

/// 404 REQUEST_NOT_FOUND for non-members, then 403 for non-leaders (SPEC §4.4).
caf::error check_request_leader(pqxx::work& tx, const actor_ctx& who, const std::string& hid) {
  auto err = check_leader(tx, who, hid);
  if (err && err.context().match_element<std::string>(0)
      && err.context().get_as<std::string>(0) == "HOUSEHOLD_NOT_FOUND")
    return refused("REQUEST_NOT_FOUND");
  return err;
}

} // namespace

caf::expected<tx_result> approve(database& db, const actor_ctx& who, const std::string& hid,
                                 const std::string& rid, const approval& a) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("REQUEST_NOT_FOUND");
    auto req = lock_request(tx, hid, rid);
    if (!req)
      return refused("REQUEST_NOT_FOUND");
    if (auto err = check_request_leader(tx, who, hid))
      return err;
    if (!a.validation_error.empty())
      return refused("VALIDATION_ERROR", a.validation_error);
    if (req->status != "pending")
      return refused("REQUEST_ALREADY_ANSWERED", "This request has already been " + req->status + ".");
    prepared(tx, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", req->user_id);
    // After the user lock, in one statement: already a member anywhere? seats left?
    auto c = prepared1(tx, 
      "SELECT EXISTS (SELECT 1 FROM household_members m WHERE m.user_id = $1 AND " PETCARE_ACTIVE("m") "), "
      "(SELECT count(*) FROM household_members m WHERE m.household_id = $2 AND " PETCARE_ACTIVE("m") ")::int",
      req->user_id, hid);
    if (c[0].as<bool>())
      return refused("ALREADY_IN_HOUSEHOLD", "This person already belongs to a household.");
    if (c[1].as<int>() >= 15)
      return refused("HOUSEHOLD_AT_CAPACITY");
    // Lapsed temporary rows already count as inactive above, so expiring them
    // after the checks changes no outcome (a refusal rolls everything back).
    expire_due(tx, "m.user_id = $1", req->user_id, who.request_id);
    auto invited_by = req->via == "email_invite" && !req->invite_sender.empty() ? req->invite_sender
                                                                                : who.user_id;
    std::optional<int64_t> until;
    if (a.is_temporary)
      until = a.temporary_expires_at;
    auto member = prepared1(tx, 
                         "INSERT INTO household_members (household_id, user_id, role, is_temporary, "
                         "temporary_expires_at, invited_by, join_request_id, welcome_pending) "
                         "VALUES ($1, $2, 'member', $3, to_timestamp($4::double precision / 1000), $5, $6, true) "
                         "RETURNING " PETCARE_MEMBER_JSON_COLUMNS,
                         hid, req->user_id, a.is_temporary, until, invited_by, rid);
    // Answers this request and withdraws the user's pending requests elsewhere
    // (joined another household) in one statement: disjoint rows of one table.
    auto closed = prepared(tx, 
      "WITH answered AS (UPDATE household_join_requests SET status = 'approved', responded_at = now(), "
      "responded_by = $2 WHERE id = $1) "
      "UPDATE household_join_requests SET status = 'withdrawn', close_reason = "
      "'joined_other_household', responded_at = now() WHERE user_id = $3 AND status = 'pending' "
      "AND household_id <> $4 RETURNING id::text, household_id::text",
      rid, who.user_id, req->user_id, hid);
    for (const auto& r : closed)
      audit(tx, r[1].as<std::string>(), "", "join_request.closed", req->user_id, r[0].as<std::string>(),
            {{"reason", "joined_other_household"}}, who.request_id);
    notify(tx, req->user_id, "join_request_approved", "Request approved",
           "You've been approved to join " + h->name + "!",
           {{"householdId", hid}, {"joinRequestId", rid}});
    audit(tx, hid, who.user_id, "join_request.approved", req->user_id, rid,
          {{"isTemporary", a.is_temporary}}, who.request_id);
    tx_result out;
    out.body = {{"member", member_json_of(member, 0)}};
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"member_joined"};
    return out;
  });
}

caf::expected<tx_result> reject(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& rid) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("REQUEST_NOT_FOUND");
    auto req = lock_request(tx, hid, rid);
    if (!req)
      return refused("REQUEST_NOT_FOUND");
    if (auto err = check_request_leader(tx, who, hid))
      return err;
    if (req->status != "pending")
      return refused("REQUEST_ALREADY_ANSWERED", "This request has already been " + req->status + ".");
    auto answered = prepared1(tx, "UPDATE household_join_requests SET status = 'rejected', responded_at = now(), "
                                  "responded_by = $2 WHERE id = $1 RETURNING " PETCARE_REQUEST_JSON_COLUMNS,
                              rid, who.user_id);
    notify(tx, req->user_id, "join_request_rejected", "Request declined",
           "Your request to join " + h->name + " was declined",
           {{"householdId", hid}, {"joinRequestId", rid}, {"reason", "rejected"}});
    audit(tx, hid, who.user_id, "join_request.rejected", req->user_id, rid, nlohmann::json::object(),
          who.request_id);
    tx_result out;
    out.body = {{"joinRequest", request_json_of(answered)}};
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::expected<tx_result> withdraw(database& db, const actor_ctx& who, const std::string& hid,
                                  const std::string& rid) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    lock_household(tx, hid);
    auto req = lock_request(tx, hid, rid);
    if (!req || req->user_id != who.user_id)
      return refused("REQUEST_NOT_FOUND");
    if (req->status == "approved")
      return refused("CANNOT_WITHDRAW_RESPONDED_REQUEST",
                     "Cannot withdraw approved request. You are already a member.");
    if (req->status != "pending")
      return refused("CANNOT_WITHDRAW_RESPONDED_REQUEST",
                     "Cannot withdraw a request that has already been " + req->status + ".");
    auto answered = prepared1(tx, "UPDATE household_join_requests SET status = 'withdrawn', responded_at = now() "
                                  "WHERE id = $1 RETURNING " PETCARE_REQUEST_JSON_COLUMNS,
                              rid);
    audit(tx, hid, who.user_id, "join_request.withdrawn", who.user_id, rid, nlohmann::json::object(),
          who.request_id);
    tx_result out;
    out.body = {{"joinRequest", request_json_of(answered)}};
    out.household = snapshot(tx, hid);
    tx.commit();
    return out;
  });
}

caf::error audit_denied(database& db, const actor_ctx& who, const std::string& hid,
                        const std::string& route, const std::string& code) {
  return guarded(db.internals(), [&]() -> caf::error {
    pqxx::work tx{conn(db)};
    audit(tx, hid, who.user_id, "authorization.denied", "", "", {{"route", route}, {"code", code}},
          who.request_id);
    tx.commit();
    return caf::none;
  });
}

} // namespace petcare::storage::households
