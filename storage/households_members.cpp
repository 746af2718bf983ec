#include "storage/households.hpp"

#include "storage/household_sql.hpp"

namespace petcare::storage::households {

using namespace detail;

namespace {

/// Notifies every remaining active member of a new leader (SPEC §3.6, §3.10).
void announce_leader(pqxx::work& tx, const std::string& hid, const std::string& name,
                     const std::string& previous, const std::string& next,
                     const std::string& reason) {
  nlohmann::json data{{"householdId", hid}, {"previousLeaderId", previous},
                      {"newLeaderId", next}, {"reason", reason}};
  auto next_name = display_name(tx, next);
  auto members = prepared(tx, "SELECT m.user_id::text FROM household_members m WHERE "
                                "m.household_id = $1 AND " PETCARE_ACTIVE("m"),
                                hid);
  for (const auto& m : members) {
    auto user = m[0].as<std::string>();
    if (user == next)
      notify(tx, user, "leadership_transferred", "You're now the household leader",
             "You are now the leader of " + name, data);
    else
      notify(tx, user, "leadership_transferred", "New household leader",
             next_name + " is now the leader of " + name, data);
  }
}

/// True when `user` is an active permanent member of `hid` other than `self`.
bool eligible_successor(pqxx::work& tx, const std::string& hid, const std::string& user,
                        const std::string& self) {
  if (user == self)
    return false;
  auto r = prepared(tx, "SELECT 1 FROM household_members m WHERE m.household_id = $1 AND "
                          "m.user_id = $2 AND m.status = 'active' AND NOT m.is_temporary",
                          hid, user);
  return !r.empty();
}

void make_leader(pqxx::work& tx, const std::string& hid, const std::string& previous,
                 const std::string& next, bool previous_stays) {
  if (previous_stays)
    prepared0(tx, "UPDATE household_members SET role = 'member', updated_at = now() WHERE "
                    "household_id = $1 AND user_id = $2 AND status = 'active'",
                    hid, previous);
  prepared0(tx, "UPDATE household_members SET role = 'leader', updated_at = now() WHERE "
                  "household_id = $1 AND user_id = $2 AND status = 'active'",
                  hid, next);
  prepared0(tx, "UPDATE households SET leader_id = $2, updated_at = now() WHERE id = $1", hid,
                  next);
}

void end_membership(pqxx::work& tx, const std::string& hid, const std::string& user,
                    const std::string& status, const std::string& by) {
  prepared0(tx, "UPDATE household_members SET status = $3, ended_at = now(), ended_by = $4, "
                  "updated_at = now() WHERE household_id = $1 AND user_id = $2 AND status = 'active'",
                  hid, user, status, by);
}

/// The last member left: SPEC §3.6 deactivation.
void deactivate(pqxx::work& tx, const locked_household& h, const actor_ctx& who) {
  expire_due(tx, "m.household_id = $1", h.id, who.request_id);
  prepared0(tx, "INSERT INTO retired_invite_codes (code, household_id, reason) SELECT "
                  "invite_code, id, 'household_deactivated' FROM households WHERE id = $1 AND "
                  "invite_code IS NOT NULL",
                  h.id);
  prepared0(tx, "UPDATE households SET status = 'deactivated', invite_code = NULL, "
                  "invite_code_expires_at = NULL, deactivated_at = now(), updated_at = now() "
                  "WHERE id = $1",
                  h.id);
  auto closed = prepared(tx, 
    "UPDATE household_join_requests SET status = 'rejected', close_reason = 'household_deactivated', "
    "responded_at = now() WHERE household_id = $1 AND status = 'pending' RETURNING id::text, user_id::text",
    h.id);
  for (const auto& r : closed) {
    auto rid = r[0].as<std::string>();
    auto user = r[1].as<std::string>();
    audit(tx, h.id, "", "join_request.closed", user, rid, {{"reason", "household_deactivated"}},
          who.request_id);
    notify(tx, user, "join_request_rejected", "Request declined",
           "Your request to join " + h.name + " was declined",
           {{"householdId", h.id}, {"joinRequestId", rid}, {"reason", "household_deactivated"}});
  }
  prepared0(tx, "UPDATE email_invites SET status = 'revoked', revoked_at = now() "
                                "WHERE household_id = $1 AND status = 'pending'",
                  h.id);
  prepared0(tx, "UPDATE email_outbox SET status = 'cancelled' WHERE status IN ('pending', 'sending') "
                  "AND email_invite_id IN (SELECT id FROM email_invites WHERE household_id = $1)",
                  h.id);
  audit(tx, h.id, who.user_id, "household.deactivated", "", "", nlohmann::json::object(),
        who.request_id);
}

} // namespace

caf::expected<tx_result> remove_member(database& db, const actor_ctx& who, const std::string& hid,
                                       const std::string& user) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    if (user == who.user_id)
      return refused("CANNOT_REMOVE_SELF");
    if (role_of(tx, hid, user).empty())
      return refused("MEMBER_NOT_FOUND");
    end_membership(tx, hid, user, "removed", who.user_id);
    notify(tx, user, "member_removed", "Removed from household", "You were removed from " + h->name,
           {{"householdId", hid}});
    audit(tx, hid, who.user_id, "member.removed", user, "", nlohmann::json::object(), who.request_id);
    tx_result out;
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"member_removed"};
    return out;
  });
}

caf::expected<tx_result> leave(database& db, const actor_ctx& who, const std::string& hid,
                               const std::string& successor, bool successor_given) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    auto role = role_of(tx, hid, who.user_id);
    if (role.empty())
      return refused("HOUSEHOLD_NOT_FOUND");
    tx_result out;
    if (role != "leader") {
      if (successor_given)
        return refused("VALIDATION_ERROR", "successorId can only be given by the household leader.");
      end_membership(tx, hid, who.user_id, "left", who.user_id);
      audit(tx, hid, who.user_id, "member.left", who.user_id, "", nlohmann::json::object(), who.request_id);
      out.body = {{"householdDeactivated", false}, {"newLeaderId", nullptr}};
      out.household = snapshot(tx, hid);
      tx.commit();
      out.events = {"member_left"};
      return out;
    }
    if (successor_given && (successor.empty() || !eligible_successor(tx, hid, successor, who.user_id)))
      return refused("INVALID_SUCCESSOR");
    if (active_count(tx, hid) <= 1) {
      end_membership(tx, hid, who.user_id, "left", who.user_id);
      deactivate(tx, *h, who);
      audit(tx, hid, who.user_id, "member.left", who.user_id, "", nlohmann::json::object(), who.request_id);
      out.body = {{"householdDeactivated", true}, {"newLeaderId", nullptr}};
      out.household = snapshot(tx, hid);
      tx.commit();
      out.events = {"household_deactivated"};
      return out;
    }
    std::string next = successor;
    if (!successor_given) {
      auto r = prepared(tx, "SELECT m.user_id::text FROM household_members m WHERE "
                              "m.household_id = $1 AND m.user_id <> $2 AND m.status = 'active' "
                              "AND NOT m.is_temporary ORDER BY m.joined_at, m.user_id LIMIT 1",
                              hid, who.user_id);
      if (r.empty())
        return refused("NO_ELIGIBLE_SUCCESSOR");
      next = r[0][0].as<std::string>();
    }
    end_membership(tx, hid, who.user_id, "left", who.user_id);
    make_leader(tx, hid, who.user_id, next, false);
    announce_leader(tx, hid, h->name, who.user_id, next, "leader_left");
    audit(tx, hid, who.user_id, "leadership.transferred", next, "",
          {{"reason", "leader_left"}, {"designated", successor_given}}, who.request_id);
    audit(tx, hid, who.user_id, "member.left", who.user_id, "", nlohmann::json::object(), who.request_id);
    out.body = {{"householdDeactivated", false}, {"newLeaderId", next}};
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"member_left", "leader_changed"};
    return out;
  });
}

caf::expected<tx_result> transfer(database& db, const actor_ctx& who, const std::string& hid,
                                  const std::string& next) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    if (next.empty() || !eligible_successor(tx, hid, next, who.user_id))
      return refused("INVALID_SUCCESSOR");
    make_leader(tx, hid, who.user_id, next, true);
    announce_leader(tx, hid, h->name, who.user_id, next, "transfer");
    audit(tx, hid, who.user_id, "leadership.transferred", next, "",
          {{"reason", "transfer"}, {"designated", true}}, who.request_id);
    tx_result out;
    out.body = {{"previousLeaderId", who.user_id}, {"newLeaderId", next}};
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"leader_changed"};
    return out;
  });
}

caf::expected<tx_result> extend(database& db, const actor_ctx& who, const std::string& hid,
                                const std::string& user, int64_t expires_at_ms,
                                const std::string& validation_error) {
  return guarded(db.internals(), [&]() -> caf::expected<tx_result> {
    pqxx::work tx{conn(db)};
    auto h = lock_household(tx, hid);
    if (!h || !h->active)
      return refused("HOUSEHOLD_NOT_FOUND");
    if (auto err = check_leader(tx, who, hid))
      return err;
    if (!validation_error.empty())
      return refused("VALIDATION_ERROR", validation_error);
    auto latest = prepared(tx, 
      "SELECT m.id::text, m.status, m.is_temporary, "
      "m.status = 'active' AND m.is_temporary AND m.temporary_expires_at <= now() "
      "FROM household_members m WHERE m.household_id = $1 AND m.user_id = $2 "
      "ORDER BY m.joined_at DESC LIMIT 1",
      hid, user);
    if (latest.empty())
      return refused("MEMBER_NOT_FOUND");
    auto row_id = latest[0][0].as<std::string>();
    auto status = latest[0][1].as<std::string>();
    bool temporary = latest[0][2].as<bool>();
    bool lapsed = latest[0][3].as<bool>() || status == "expired";
    if (status != "active" && status != "expired")
      return refused("MEMBER_NOT_FOUND");
    if (!temporary)
      return refused("NOT_TEMPORARY_MEMBER");
    if (lapsed) {
      prepared(tx, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user);
      auto elsewhere = household_of(tx, user);
      if (!elsewhere.empty() && elsewhere != hid)
        return refused("ALREADY_IN_HOUSEHOLD", "This person already belongs to a household.");
      if (active_count(tx, hid) >= 15)
        return refused("HOUSEHOLD_AT_CAPACITY");
    }
    prepared0(tx, "UPDATE household_members SET status = 'active', ended_at = NULL, ended_by = NULL, "
                    "temporary_expires_at = to_timestamp($2::double precision / 1000), "
                    "last_warning_days = NULL, updated_at = now() WHERE id = $1",
                    row_id, expires_at_ms);
    if (lapsed) // a member again: their requests elsewhere end (SPEC §3.3)
      close_other_requests(tx, user, hid, who.request_id);
    audit(tx, hid, who.user_id, "temporary_access.extended", user, "",
          {{"reactivated", lapsed}}, who.request_id);
    tx_result out;
    out.body = {{"member", member_json(tx, row_id)}};
    out.household = snapshot(tx, hid);
    tx.commit();
    out.events = {"member_extended"};
    return out;
  });
}

caf::expected<std::vector<std::string>> sweep_temporary(database& db, const std::string& run_id) {
  return guarded(db.internals(), [&]() -> caf::expected<std::vector<std::string>> {
    pqxx::work tx{conn(db)};
    // One instance per tick does the work; the others skip (SPEC §7.4).
    if (!tx.exec("SELECT pg_try_advisory_xact_lock(7101)")[0][0].as<bool>())
      return std::vector<std::string>{};
    auto touched = expire_due(tx, "$1 = ''", "", run_id);
    // Warnings: level = smallest d in {7,3,1} with remaining <= d days, issued
    // when below the last level warned (SPEC §3.5).
    auto due = tx.exec(
      "SELECT m.id::text, m.household_id::text, m.user_id::text, h.name, h.leader_id::text, "
      PETCARE_ISO("m.temporary_expires_at") ", "
      "CASE WHEN m.temporary_expires_at - now() <= interval '1 day' THEN 1 "
      "     WHEN m.temporary_expires_at - now() <= interval '3 days' THEN 3 ELSE 7 END AS level, "
      "greatest(1, ceil(extract(epoch from m.temporary_expires_at - now()) / 86400))::int AS days "
      "FROM household_members m JOIN households h ON h.id = m.household_id "
      "WHERE m.status = 'active' AND m.is_temporary AND m.temporary_expires_at > now() "
      "AND m.temporary_expires_at - now() <= interval '7 days' "
      "AND (m.last_warning_days IS NULL OR m.last_warning_days > CASE "
      "     WHEN m.temporary_expires_at - now() <= interval '1 day' THEN 1 "
      "     WHEN m.temporary_expires_at - now() <= interval '3 days' THEN 3 ELSE 7 END) "
      "FOR UPDATE OF m");
    for (const auto& r : due) {
      auto hid = r[1].as<std::string>();
      auto user = r[2].as<std::string>();
      auto name = r[3].as<std::string>();
      auto level = r[6].as<int>();
      auto days = r[7].as<int>();
      auto n = std::to_string(days) + (days == 1 ? " day" : " days");
      nlohmann::json data{{"householdId", hid}, {"memberUserId", user},
                          {"expiresAt", r[5].as<std::string>()}, {"thresholdDays", level}};
      notify(tx, user, "temporary_access_expiring", "Temporary access expiring soon",
             "Your temporary access to " + name + " expires in " + n, data);
      notify(tx, r[4].as<std::string>(), "temporary_access_expiring", "Temporary access expiring soon",
             display_name(tx, user) + "'s temporary access expires in " + n, data);
      prepared0(tx, "UPDATE household_members SET last_warning_days = $2 WHERE id = $1",
                      r[0].as<std::string>(), level);
    }
    tx.commit();
    return touched;
  });
}

} // namespace petcare::storage::households
