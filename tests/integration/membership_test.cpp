// Membership (SPEC §3.3–§3.6, §3.10, §4.4 side effects and audit columns, §7.1 sweep)
// against the real binary: approve, reject, withdraw, remove, leave, leadership transfer,
// temporary members (end of access, sweep, warnings, extension) and the rows they leave.

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using namespace fixtures::hh;
using nlohmann::json;
namespace hmsg = fixtures::hh::text;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t day_ms = 86400000;

std::string keys_of(const json& o) {
  if (!o.is_object())
    return "<not an object: " + o.dump() + ">";
  std::set<std::string> ks;
  for (auto it = o.begin(); it != o.end(); ++it)
    ks.insert(it.key());
  std::string out;
  for (auto& k : ks)
    out += (out.empty() ? "" : ",") + k;
  return out;
}

const std::string member_keys = "displayName,invitedBy,isTemporary,joinedAt,role,temporaryExpiresAt,userId";
const std::string request_keys = "householdId,id,requestedAt,respondedAt,respondedBy,status,userId,via";

/// One membership row of `user` in `hid` (the latest).
struct member_row {
  std::string role, status;
  bool temporary = false;
  std::optional<std::string> invited_by, ended_at, ended_by, join_request_id, temporary_expires_at;
  bool welcome_pending = false;
  std::optional<std::string> last_warning_days;
};

std::optional<member_row> membership(const std::string& hid, const std::string& user) {
  auto r = pg::query(
    "SELECT role, status, is_temporary::text, invited_by::text, ended_at::text, ended_by::text,"
    " join_request_id::text, welcome_pending::text, last_warning_days::text,"
    " to_char(temporary_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
    " FROM household_members WHERE household_id = $1 AND user_id = $2 ORDER BY joined_at DESC LIMIT 1",
    {hid, user});
  if (r.empty())
    return std::nullopt;
  member_row m;
  m.role = r[0][0].value_or("");
  m.status = r[0][1].value_or("");
  m.temporary = r[0][2] == std::optional<std::string>{"true"};
  m.invited_by = r[0][3];
  m.ended_at = r[0][4];
  m.ended_by = r[0][5];
  m.join_request_id = r[0][6];
  m.welcome_pending = r[0][7] == std::optional<std::string>{"true"};
  m.last_warning_days = r[0][8];
  m.temporary_expires_at = r[0][9];
  return m;
}

struct request_row {
  std::string status;
  std::optional<std::string> close_reason, responded_at, responded_by;
};

request_row request_state(const std::string& rid) {
  auto r = pg::query("SELECT status, close_reason, responded_at::text, responded_by::text"
                     " FROM household_join_requests WHERE id = $1",
                     {rid});
  BOOST_TEST_REQUIRE(r.size() == 1u, "no request " << rid);
  return {r[0][0].value_or(""), r[0][1], r[0][2], r[0][3]};
}

std::string household_status(const std::string& hid) {
  return pg::scalar("SELECT status FROM households WHERE id = $1", {hid});
}

int active_members(const std::string& hid) {
  return static_cast<int>(
    pg::count("SELECT count(*) FROM household_members WHERE household_id = $1 AND status = 'active'", {hid}));
}

http_response post(const http_client& c, const std::string& path, const user& u,
                   const std::optional<json>& body = std::nullopt) {
  return body ? c.post(path, *body, u.auth()) : c.call("POST", path, u.auth());
}

void require_verify() {
  auto v = run_verify();
  BOOST_TEST(v.exit_status == 0, "household-service verify: " << v.output);
}

/// Polls PostgreSQL until the member row of `user` in `hid` has `status`.
bool wait_member_status(const std::string& hid, const std::string& user, const std::string& status,
                        milliseconds timeout = milliseconds{10000}) {
  return poll_until(
    [&] {
      auto m = membership(hid, user);
      return m && m->status == status;
    },
    timeout, milliseconds{50});
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(membership_tests, api_fixture)

// --- approve ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(approval_adds_the_member_notifies_audits_and_closes_other_requests) {
  auto l = make_user("ap-leader@example.com", "Lena");
  auto h = create_household(client(), l, "Approval Home");
  auto l2 = make_user("ap-leader2@example.com");
  auto h2 = create_household(client(), l2, "Elsewhere Home");
  auto r = make_user("ap-requester@example.com", "Rita");
  auto rid = request_join(client(), r, h.code);
  auto rid2 = request_join(client(), r, h2.code);

  auto resp = client().call("POST", "/v1/join-requests/" + rid + "/approve", l.auth());
  BOOST_TEST_REQUIRE(resp.status == 200, describe(resp));
  BOOST_TEST(keys_of(resp.json) == "member");
  const auto& m = resp.json["member"];
  BOOST_TEST(keys_of(m) == member_keys);
  BOOST_TEST(m["userId"] == r.id);
  BOOST_TEST(m["displayName"] == "Rita");
  BOOST_TEST(m["role"] == "member");
  BOOST_TEST(m["isTemporary"] == false);
  BOOST_TEST(m["temporaryExpiresAt"].is_null());
  BOOST_TEST(m["invitedBy"] == l.id);
  BOOST_TEST(parse_iso_ms(m.value("joinedAt", "")).has_value(), m.dump());

  auto row = membership(h.id, r.id);
  BOOST_TEST_REQUIRE(row.has_value());
  BOOST_TEST(row->role == "member");
  BOOST_TEST(row->status == "active");
  BOOST_TEST(!row->temporary);
  BOOST_TEST(row->invited_by.value_or("") == l.id);
  BOOST_TEST(row->join_request_id.value_or("") == rid);
  BOOST_TEST(row->welcome_pending);
  BOOST_TEST(!row->ended_at.has_value());

  auto req = request_state(rid);
  BOOST_TEST(req.status == "approved");
  BOOST_TEST(req.responded_by.value_or("") == l.id);
  BOOST_TEST(req.responded_at.has_value());
  BOOST_TEST(!req.close_reason.has_value());

  // The other pending request is closed by the system, without notification.
  auto other = request_state(rid2);
  BOOST_TEST(other.status == "withdrawn");
  BOOST_TEST(other.close_reason.value_or("") == "joined_other_household");
  BOOST_TEST(!other.responded_by.has_value());
  BOOST_TEST(other.responded_at.has_value());
  auto closed = audit_of(h2.id, "join_request.closed");
  BOOST_TEST_REQUIRE(closed.size() == 1u);
  BOOST_TEST(!closed[0].actor.has_value(), "system actor");
  BOOST_TEST(closed[0].target.value_or("") == r.id);
  BOOST_TEST(closed[0].subject.value_or("") == rid2);

  auto notes = notifications_of(r.id);
  BOOST_TEST_REQUIRE(notes.size() == 1u, "only the approval is notified");
  BOOST_TEST(notes[0].type == "join_request_approved");
  BOOST_TEST(notes[0].title == "Request approved");
  BOOST_TEST(notes[0].body == "You've been approved to join Approval Home!");
  BOOST_TEST(notes[0].data == json({{"householdId", h.id}, {"joinRequestId", rid}}), notes[0].data.dump());

  auto approved = audit_of(h.id, "join_request.approved");
  BOOST_TEST_REQUIRE(approved.size() == 1u);
  BOOST_TEST(approved[0].actor.value_or("") == l.id);
  BOOST_TEST(approved[0].target.value_or("") == r.id);
  BOOST_TEST(approved[0].subject.value_or("") == rid);
  BOOST_TEST(approved[0].request_id == resp.header("X-Request-Id").value_or("?"));

  auto view = client().get("/v1/households/me", r.auth());
  BOOST_TEST_REQUIRE(view.status == 200, describe(view));
  BOOST_TEST(view.json["household"]["id"] == h.id);
  BOOST_TEST(view.json["household"]["memberCount"] == 2);
  auto me = client().get("/v1/me", r.auth());
  BOOST_TEST(me.json["householdId"] == h.id, me.body);
  require_verify();
}

BOOST_AUTO_TEST_CASE(approval_with_temporary_access) {
  auto l = make_user("tmp-leader@example.com");
  auto h = create_household(client(), l, "Sitter Home");
  auto member = make_user("tmp-member@example.com");
  add_member(client(), l, h, member);
  auto t = make_user("tmp-sitter@example.com");
  auto rid = request_join(client(), t, h.code);
  const std::string path = "/v1/join-requests/" + rid + "/approve";

  const std::vector<json> invalid{
    {{"isTemporary", true}},
    {{"isTemporary", true}, {"temporaryExpiresAt", nullptr}},
    {{"isTemporary", true}, {"temporaryExpiresAt", from_now(milliseconds{-60000})}},
    {{"isTemporary", true}, {"temporaryExpiresAt", from_now(milliseconds{366 * day_ms})}},
    {{"isTemporary", true}, {"temporaryExpiresAt", "tomorrow"}},
    {{"isTemporary", true}, {"temporaryExpiresAt", "2031-01-01T00:00:00"}}, // no offset
    {{"isTemporary", true}, {"temporaryExpiresAt", 1893456000}},
    {{"temporaryExpiresAt", from_now(milliseconds{day_ms})}},
    {{"isTemporary", false}, {"temporaryExpiresAt", from_now(milliseconds{day_ms})}},
    {{"isTemporary", "yes"}, {"temporaryExpiresAt", from_now(milliseconds{day_ms})}}};
  for (auto& body : invalid) {
    BOOST_TEST_CONTEXT("body " << body.dump()) {
      // Order: a non-leader member gets 403 before the 400.
      BOOST_TEST(is_error(client().post(path, body, member.auth()), 403, "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
      BOOST_TEST(is_error(client().post(path, body, l.auth()), 400, "VALIDATION_ERROR", ""));
    }
  }
  BOOST_TEST(request_state(rid).status == "pending");
  BOOST_TEST(!membership(h.id, t.id).has_value());
  // An outsider cannot even see the request.
  auto o = make_user("tmp-outsider@example.com");
  BOOST_TEST(is_error(client().post(path, invalid[0], o.auth()), 404, "REQUEST_NOT_FOUND", hmsg::request_not_found));

  // 364 days ahead, with an explicit non-UTC offset.
  auto end_ms = (now_ms() + 364 * day_ms) / 1000 * 1000 + 250;
  auto end_utc = iso_ms(end_ms);
  // The same instant written as +02:00.
  auto local = iso_ms(end_ms + 2 * 3600 * 1000);
  local = local.substr(0, local.size() - 1) + "+02:00";
  auto resp = client().post(path, {{"isTemporary", true}, {"temporaryExpiresAt", local}}, l.auth());
  BOOST_TEST_REQUIRE(resp.status == 200, describe(resp));
  BOOST_TEST(resp.json["member"]["isTemporary"] == true);
  BOOST_TEST(resp.json["member"]["temporaryExpiresAt"] == end_utc, resp.body);
  auto row = membership(h.id, t.id);
  BOOST_TEST_REQUIRE(row.has_value());
  BOOST_TEST(row->temporary);
  BOOST_TEST(row->temporary_expires_at.value_or("") == end_utc);
  BOOST_TEST(row->status == "active");
  BOOST_TEST(row->role == "member");
  auto view = client().get("/v1/households/me", t.auth());
  BOOST_TEST_REQUIRE(view.status == 200, describe(view));
  bool found = false;
  for (auto& m : view.json["members"])
    if (m["userId"] == t.id) {
      found = true;
      BOOST_TEST(m["isTemporary"] == true);
      BOOST_TEST(m["temporaryExpiresAt"] == end_utc);
    }
  BOOST_TEST(found, view.body);
}

BOOST_AUTO_TEST_CASE(answered_requests_cannot_be_answered_again) {
  auto l = make_user("ans-leader@example.com");
  auto h = create_household(client(), l, "Answer Home");
  auto a = make_user("ans-a@example.com");
  auto b = make_user("ans-b@example.com");
  auto c = make_user("ans-c@example.com");
  auto ra = request_join(client(), a, h.code);
  auto rb = request_join(client(), b, h.code);
  auto rc = request_join(client(), c, h.code);
  approve(client(), l, ra);
  BOOST_TEST(post(client(), "/v1/join-requests/" + rb + "/reject", l).status == 200);
  BOOST_TEST(post(client(), "/v1/join-requests/" + rc + "/withdraw", c).status == 200);

  for (auto& [rid, status] : std::vector<std::pair<std::string, std::string>>{
         {ra, "approved"}, {rb, "rejected"}, {rc, "withdrawn"}}) {
    BOOST_TEST_CONTEXT("request " << status) {
      BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/approve", l), 409,
                          "REQUEST_ALREADY_ANSWERED", hmsg::already_answered(status)));
      BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/reject", l), 409,
                          "REQUEST_ALREADY_ANSWERED", hmsg::already_answered(status)));
      BOOST_TEST(request_state(rid).status == status);
    }
  }
  for (std::string rid : {std::string{"6f1c2b8e-4a57-4c1e-9d2a-3b7e5f0a1c9d"}, std::string{"not-a-uuid"}}) {
    BOOST_TEST_CONTEXT("request id " << rid) {
      BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/approve", l), 404, "REQUEST_NOT_FOUND",
                          hmsg::request_not_found));
      BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/reject", l), 404, "REQUEST_NOT_FOUND",
                          hmsg::request_not_found));
      BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/withdraw", a), 404, "REQUEST_NOT_FOUND",
                          hmsg::request_not_found));
    }
  }
  BOOST_TEST(audit_of(h.id, "join_request.approved").size() == 1u);
  BOOST_TEST(notifications_of(a.id, "join_request_approved").size() == 1u);
}

// --- reject and withdraw ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rejection_is_recorded_and_notified_and_the_user_may_ask_again) {
  auto l = make_user("rej-leader@example.com");
  auto h = create_household(client(), l, "Reject Home");
  auto u = make_user("rej-user@example.com");
  auto rid = request_join(client(), u, h.code);
  auto m = make_user("rej-member@example.com");
  add_member(client(), l, h, m);
  BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/reject", m), 403, "NOT_HOUSEHOLD_LEADER",
                      hmsg::not_leader));

  auto r = post(client(), "/v1/join-requests/" + rid + "/reject", l, json::object());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(keys_of(r.json) == "joinRequest");
  const auto& jr = r.json["joinRequest"];
  BOOST_TEST(keys_of(jr) == request_keys);
  BOOST_TEST(jr["id"] == rid);
  BOOST_TEST(jr["householdId"] == h.id);
  BOOST_TEST(jr["userId"] == u.id);
  BOOST_TEST(jr["status"] == "rejected");
  BOOST_TEST(jr["via"] == "invite_code");
  BOOST_TEST(jr["respondedBy"] == l.id);
  BOOST_TEST(parse_iso_ms(jr.value("respondedAt", "")).has_value(), jr.dump());

  auto row = request_state(rid);
  BOOST_TEST(row.status == "rejected");
  BOOST_TEST(row.responded_by.value_or("") == l.id);
  BOOST_TEST(!row.close_reason.has_value());

  auto notes = notifications_of(u.id);
  BOOST_TEST_REQUIRE(notes.size() == 1u);
  BOOST_TEST(notes[0].type == "join_request_rejected");
  BOOST_TEST(notes[0].title == "Request declined");
  BOOST_TEST(notes[0].body == "Your request to join Reject Home was declined");
  BOOST_TEST(notes[0].data == json({{"householdId", h.id}, {"joinRequestId", rid}, {"reason", "rejected"}}),
             notes[0].data.dump());

  auto audit = audit_of(h.id, "join_request.rejected");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == l.id);
  BOOST_TEST(audit[0].target.value_or("") == u.id);
  BOOST_TEST(audit[0].subject.value_or("") == rid);

  // After a rejection the user may ask again.
  auto again = request_join(client(), u, h.code);
  BOOST_TEST(again != rid);
  BOOST_TEST(request_state(again).status == "pending");
}

BOOST_AUTO_TEST_CASE(withdrawal_rules) {
  auto l = make_user("wd-leader@example.com");
  auto h = create_household(client(), l, "Withdraw Home");
  auto u = make_user("wd-user@example.com");
  auto other = make_user("wd-other@example.com");
  auto rid = request_join(client(), u, h.code);

  // Someone else's request (even the leader's view of it) is not found.
  BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/withdraw", other), 404, "REQUEST_NOT_FOUND",
                      hmsg::request_not_found));
  BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/withdraw", l), 404, "REQUEST_NOT_FOUND",
                      hmsg::request_not_found));

  auto r = post(client(), "/v1/join-requests/" + rid + "/withdraw", u);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(keys_of(r.json["joinRequest"]) == request_keys);
  BOOST_TEST(r.json["joinRequest"]["status"] == "withdrawn");
  BOOST_TEST(r.json["joinRequest"]["respondedBy"].is_null());
  auto row = request_state(rid);
  BOOST_TEST(row.status == "withdrawn");
  BOOST_TEST(!row.responded_by.has_value());
  BOOST_TEST(!row.close_reason.has_value());
  auto audit = audit_of(h.id, "join_request.withdrawn");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == u.id);
  BOOST_TEST(audit[0].target.value_or("") == u.id);
  BOOST_TEST(audit[0].subject.value_or("") == rid);
  BOOST_TEST(notifications_of(l.id).size() == 1u, "withdrawal notifies nobody (only the join did)");
  BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid + "/withdraw", u), 409,
                      "CANNOT_WITHDRAW_RESPONDED_REQUEST", hmsg::withdraw_closed("withdrawn")));

  // Rejected, then approved.
  auto rid2 = request_join(client(), u, h.code);
  BOOST_TEST(post(client(), "/v1/join-requests/" + rid2 + "/reject", l).status == 200);
  BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid2 + "/withdraw", u), 409,
                      "CANNOT_WITHDRAW_RESPONDED_REQUEST", hmsg::withdraw_closed("rejected")));
  auto rid3 = request_join(client(), u, h.code);
  approve(client(), l, rid3);
  BOOST_TEST(is_error(post(client(), "/v1/join-requests/" + rid3 + "/withdraw", u), 409,
                      "CANNOT_WITHDRAW_RESPONDED_REQUEST", hmsg::withdraw_approved));
  BOOST_TEST(request_state(rid3).status == "approved");
}

// --- removal ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(removal_ends_access_at_once_but_not_the_session) {
  auto l = make_user("rm-leader@example.com");
  auto h = create_household(client(), l, "Remove Home");
  auto m = make_user("rm-member@example.com");
  auto keep = make_user("rm-keep@example.com");
  add_member(client(), l, h, m);
  add_member(client(), l, h, keep);
  // Warm the household actor with the member's reads.
  BOOST_TEST_REQUIRE(client().get("/v1/households/" + h.id, m.auth()).status == 200);
  BOOST_TEST_REQUIRE(client().get("/v1/households/me", m.auth()).status == 200);

  BOOST_TEST(is_error(client().call("DELETE", "/v1/households/" + h.id + "/members/" + m.id, keep.auth()), 403,
                      "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
  auto r = client().call("DELETE", "/v1/households/" + h.id + "/members/" + m.id, l.auth());
  BOOST_TEST_REQUIRE(r.status == 204, describe(r));
  BOOST_TEST(r.body.empty());

  BOOST_TEST(is_error(client().get("/v1/households/" + h.id, m.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                      hmsg::household_not_found));
  BOOST_TEST(is_error(client().get("/v1/households/me", m.auth()), 404, "NOT_IN_HOUSEHOLD", hmsg::not_in_household));
  auto me = client().get("/v1/me", m.auth());
  BOOST_TEST_REQUIRE(me.status == 200, "the session survives removal: " << describe(me));
  BOOST_TEST(me.json["householdId"].is_null(), me.body);

  auto row = membership(h.id, m.id);
  BOOST_TEST_REQUIRE(row.has_value());
  BOOST_TEST(row->status == "removed");
  BOOST_TEST(row->ended_by.value_or("") == l.id);
  BOOST_TEST(row->ended_at.has_value());
  auto notes = notifications_of(m.id, "member_removed");
  BOOST_TEST_REQUIRE(notes.size() == 1u);
  BOOST_TEST(notes[0].title == "Removed from household");
  BOOST_TEST(notes[0].body == "You were removed from Remove Home");
  BOOST_TEST(notes[0].data == json({{"householdId", h.id}}), notes[0].data.dump());
  auto audit = audit_of(h.id, "member.removed");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == l.id);
  BOOST_TEST(audit[0].target.value_or("") == m.id);
  BOOST_TEST(!audit[0].subject.has_value());
  auto view = client().get("/v1/households/me", l.auth());
  BOOST_TEST(view.json["household"]["memberCount"] == 2, view.body);

  // The removed user may ask to rejoin; approval adds a second membership row.
  auto rid = request_join(client(), m, h.code);
  approve(client(), l, rid);
  BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1", {m.id}) == 2);
  BOOST_TEST(client().get("/v1/households/" + h.id, m.auth()).status == 200);
  require_verify();
}

BOOST_AUTO_TEST_CASE(removal_refusals) {
  auto l = make_user("rmx-leader@example.com");
  auto h = create_household(client(), l, "Refusal Home");
  auto m = make_user("rmx-member@example.com");
  add_member(client(), l, h, m);
  auto outsider = make_user("rmx-outsider@example.com");
  const std::string base = "/v1/households/" + h.id + "/members/";

  BOOST_TEST(is_error(client().call("DELETE", base + l.id, l.auth()), 403, "CANNOT_REMOVE_SELF",
                      hmsg::cannot_remove_self));
  for (std::string uid : {outsider.id, std::string{"6f1c2b8e-4a57-4c1e-9d2a-3b7e5f0a1c9d"}, std::string{"nope"}}) {
    BOOST_TEST_CONTEXT("user " << uid) {
      BOOST_TEST(is_error(client().call("DELETE", base + uid, l.auth()), 404, "MEMBER_NOT_FOUND",
                          hmsg::member_not_found));
    }
  }
  BOOST_TEST(is_error(client().call("DELETE", base + l.id, outsider.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                      hmsg::household_not_found));
  BOOST_TEST(client().call("DELETE", base + m.id, l.auth()).status == 204);
  BOOST_TEST(is_error(client().call("DELETE", base + m.id, l.auth()), 404, "MEMBER_NOT_FOUND",
                      hmsg::member_not_found), "already removed");
  BOOST_TEST(audit_of(h.id, "member.removed").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_leader_removing_themself_is_denied_and_audited) {
  auto l = make_user("rms-leader@example.com");
  auto h = create_household(client(), l, "Self Home");
  auto m = make_user("rms-member@example.com");
  add_member(client(), l, h, m);
  const std::string base = "/v1/households/" + h.id + "/members/";
  std::string shouted = l.id; // the same id upper-cased (SPEC §4.1: normalised)
  for (auto& ch : shouted)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));

  std::vector<std::string> request_ids;
  for (const auto& uid : {l.id, shouted}) {
    BOOST_TEST_CONTEXT("DELETE " << base << uid) {
      auto r = client().call("DELETE", base + uid, l.auth());
      BOOST_TEST(is_error(r, 403, "CANNOT_REMOVE_SELF", hmsg::cannot_remove_self));
      request_ids.push_back(r.header("X-Request-Id").value_or("?"));
    }
  }
  auto audit = audit_of(h.id, "authorization.denied");
  BOOST_TEST_REQUIRE(audit.size() == 2u, "one authorization.denied row per 403");
  for (size_t i = 0; i < audit.size(); ++i) {
    BOOST_TEST(audit[i].actor.value_or("") == l.id);
    BOOST_TEST(!audit[i].target.has_value());
    BOOST_TEST(!audit[i].subject.has_value());
    BOOST_TEST(audit[i].metadata.value("code", "") == "CANNOT_REMOVE_SELF", audit[i].metadata.dump());
    BOOST_TEST(audit[i].metadata.value("route", "") == "/v1/households/{householdId}/members/{userId}",
               audit[i].metadata.dump());
    BOOST_TEST(audit[i].metadata.dump().find(h.code) == std::string::npos);
  }
  std::set<std::string> audited{audit[0].request_id, audit[1].request_id};
  BOOST_TEST((audited == std::set<std::string>(request_ids.begin(), request_ids.end())),
             "the rows carry the answers' X-Request-Id");
  // Nothing else happened.
  BOOST_TEST(membership(h.id, l.id)->status == "active");
  BOOST_TEST(membership(h.id, l.id)->role == "leader");
  BOOST_TEST(audit_of(h.id, "member.removed").empty());
  BOOST_TEST(notifications_of(l.id, "member_removed").empty());
  BOOST_TEST(active_members(h.id) == 2);
}

// --- leaving --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_member_leaves) {
  auto l = make_user("lv-leader@example.com");
  auto h = create_household(client(), l, "Leave Home");
  auto m = make_user("lv-member@example.com");
  add_member(client(), l, h, m);
  auto notes_before = notifications_of(l.id).size();
  const std::string path = "/v1/households/" + h.id + "/leave";

  BOOST_TEST(is_error(post(client(), path, m, json{{"successorId", l.id}}), 400, "VALIDATION_ERROR", ""));
  BOOST_TEST(membership(h.id, m.id)->status == "active");

  auto r = post(client(), path, m);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"householdDeactivated", false}, {"newLeaderId", nullptr}}), r.body);
  auto row = membership(h.id, m.id);
  BOOST_TEST(row->status == "left");
  BOOST_TEST(row->ended_by.value_or("") == m.id);
  BOOST_TEST(row->ended_at.has_value());
  auto audit = audit_of(h.id, "member.left");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == m.id);
  BOOST_TEST(audit[0].target.value_or("") == m.id);
  BOOST_TEST(notifications_of(l.id).size() == notes_before, "a member leaving affects nobody else");
  BOOST_TEST(household_status(h.id) == "active");
  BOOST_TEST(is_error(client().get("/v1/households/" + h.id, m.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                      hmsg::household_not_found));
  BOOST_TEST(is_error(post(client(), path, m), 404, "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
}

BOOST_AUTO_TEST_CASE(leader_leaves_with_a_named_successor) {
  auto l = make_user("ns-leader@example.com", "Lena");
  auto h = create_household(client(), l, "Named Home");
  auto a = make_user("ns-a@example.com", "Anna");
  auto b = make_user("ns-b@example.com", "Bert");
  add_member(client(), l, h, a);
  add_member(client(), l, h, b);
  auto r = post(client(), "/v1/households/" + h.id + "/leave", l, json{{"successorId", b.id}});
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"householdDeactivated", false}, {"newLeaderId", b.id}}), r.body);

  BOOST_TEST(pg::scalar("SELECT leader_id::text FROM households WHERE id = $1", {h.id}) == b.id);
  BOOST_TEST(membership(h.id, b.id)->role == "leader");
  BOOST_TEST(membership(h.id, a.id)->role == "member");
  auto lrow = membership(h.id, l.id);
  BOOST_TEST(lrow->status == "left");
  BOOST_TEST(lrow->ended_by.value_or("") == l.id);

  json data{{"householdId", h.id}, {"previousLeaderId", l.id}, {"newLeaderId", b.id}, {"reason", "leader_left"}};
  auto nb = notifications_of(b.id, "leadership_transferred");
  BOOST_TEST_REQUIRE(nb.size() == 1u);
  BOOST_TEST(nb[0].title == "You're now the household leader");
  BOOST_TEST(nb[0].body == "You are now the leader of Named Home");
  BOOST_TEST(nb[0].data == data, nb[0].data.dump());
  auto na = notifications_of(a.id, "leadership_transferred");
  BOOST_TEST_REQUIRE(na.size() == 1u);
  BOOST_TEST(na[0].title == "New household leader");
  BOOST_TEST(na[0].body == "Bert is now the leader of Named Home");
  BOOST_TEST(na[0].data == data, na[0].data.dump());
  BOOST_TEST(notifications_of(l.id, "leadership_transferred").empty(), "the leaver is not a remaining member");

  auto t = audit_of(h.id, "leadership.transferred");
  BOOST_TEST_REQUIRE(t.size() == 1u);
  BOOST_TEST(t[0].actor.value_or("") == l.id);
  BOOST_TEST(t[0].target.value_or("") == b.id);
  BOOST_TEST(!t[0].subject.has_value());
  BOOST_TEST(t[0].metadata == json({{"reason", "leader_left"}, {"designated", true}}), t[0].metadata.dump());
  auto left = audit_of(h.id, "member.left");
  BOOST_TEST_REQUIRE(left.size() == 1u);
  BOOST_TEST(left[0].actor.value_or("") == l.id);
  BOOST_TEST(left[0].target.value_or("") == l.id);

  auto bv = client().get("/v1/households/me", b.auth());
  BOOST_TEST(bv.json["myRole"] == "leader", bv.body);
  BOOST_TEST(bv.json["household"]["inviteCode"] == h.code, bv.body);
  BOOST_TEST(bv.json["household"]["memberCount"] == 2);
  require_verify();
}

BOOST_AUTO_TEST_CASE(the_audit_log_lists_a_leader_leaving_newest_first_in_insertion_order) {
  // leave() writes leadership.transferred, then member.left (storage/households_members.cpp),
  // in one transaction; newest first puts member.left on top, every time.
  for (int i = 0; i < 6; ++i) {
    BOOST_TEST_CONTEXT("repetition " << i) {
      auto tag = "ord" + std::to_string(i);
      auto l = make_user(tag + "-leader@example.com");
      auto b = make_user(tag + "-b@example.com");
      auto h = create_household(client(), l, "Order Home " + std::string(1, static_cast<char>('A' + i)));
      add_member(client(), l, h, b);
      auto lv = post(client(), "/v1/households/" + h.id + "/leave", l);
      BOOST_TEST_REQUIRE(lv.status == 200, describe(lv));
      auto log = client().get("/v1/households/" + h.id + "/audit-log", b.auth());
      BOOST_TEST_REQUIRE(log.status == 200, describe(log));
      const auto& entries = log.json["entries"];
      BOOST_TEST_REQUIRE(entries.is_array());
      std::vector<std::string> actions;
      for (const auto& e : entries)
        actions.push_back(e.value("action", ""));
      const std::vector<std::string> expected{"member.left", "leadership.transferred", "join_request.approved",
                                              "join_request.created", "household.created"};
      BOOST_TEST(actions == expected, log.body);
      // createdAt never increases down the list.
      for (size_t j = 1; j < entries.size(); ++j)
        BOOST_TEST(entries[j - 1].value("createdAt", "") >= entries[j].value("createdAt", ""), log.body);
      // The same order from PostgreSQL's point of view (created_at, then id).
      auto rows = pg::query("SELECT action FROM audit_log WHERE household_id = $1 ORDER BY created_at DESC, id DESC",
                            {h.id});
      std::vector<std::string> stored;
      for (auto& r : rows)
        stored.push_back(r[0].value_or(""));
      BOOST_TEST(stored == expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(leader_leaves_and_the_earliest_permanent_member_succeeds) {
  auto l = make_user("auto-leader@example.com");
  auto h = create_household(client(), l, "Auto Home");
  auto t = make_user("auto-temp@example.com");
  auto b = make_user("auto-b@example.com", "Bea");
  auto c = make_user("auto-c@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", from_now(milliseconds{10 * day_ms})}});
  add_member(client(), l, h, b);
  add_member(client(), l, h, c);
  auto r = post(client(), "/v1/households/" + h.id + "/leave", l, json::object());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"householdDeactivated", false}, {"newLeaderId", b.id}}), r.body);
  BOOST_TEST(pg::scalar("SELECT leader_id::text FROM households WHERE id = $1", {h.id}) == b.id);
  auto audit = audit_of(h.id, "leadership.transferred");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].metadata == json({{"reason", "leader_left"}, {"designated", false}}), audit[0].metadata.dump());
  // Every remaining active member is told, the temporary one included.
  BOOST_TEST(notifications_of(t.id, "leadership_transferred").size() == 1u);
  BOOST_TEST(notifications_of(c.id, "leadership_transferred").size() == 1u);
  BOOST_TEST(notifications_of(b.id, "leadership_transferred").at(0).title == "You're now the household leader");
  require_verify();
}

BOOST_AUTO_TEST_CASE(automatic_successor_ties_go_to_the_smallest_user_id) {
  auto l = make_user("tie-leader@example.com");
  auto h = create_household(client(), l, "Tie Home");
  auto b = make_user("tie-b@example.com");
  auto c = make_user("tie-c@example.com");
  add_member(client(), l, h, b);
  add_member(client(), l, h, c);
  pg::query("UPDATE household_members SET joined_at = '2030-01-01T00:00:00Z' WHERE household_id = $1"
            " AND user_id IN ($2::uuid, $3::uuid)",
            {h.id, b.id, c.id});
  auto expected = std::min(b.id, c.id);
  auto r = post(client(), "/v1/households/" + h.id + "/leave", l);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json["newLeaderId"] == expected, r.body);
}

BOOST_AUTO_TEST_CASE(leader_leave_refusals) {
  auto l = make_user("lr-leader@example.com");
  auto h = create_household(client(), l, "Refuse Home");
  auto t = make_user("lr-temp@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", from_now(milliseconds{5 * day_ms})}});
  auto o = make_user("lr-outsider@example.com");
  const std::string path = "/v1/households/" + h.id + "/leave";

  BOOST_TEST(is_error(post(client(), path, l), 409, "NO_ELIGIBLE_SUCCESSOR", hmsg::no_eligible_successor));
  for (json successor : {json(t.id), json(l.id), json(o.id), json("not-a-uuid"),
                         json("6f1c2b8e-4a57-4c1e-9d2a-3b7e5f0a1c9d")}) {
    BOOST_TEST_CONTEXT("successorId " << successor.dump()) {
      BOOST_TEST(is_error(post(client(), path, l, json{{"successorId", successor}}), 400, "INVALID_SUCCESSOR",
                          hmsg::invalid_successor));
    }
  }
  // Wrong JSON type: a field error (SPEC §4.1).
  BOOST_TEST(is_error(post(client(), path, l, json{{"successorId", 5}}), 400, "VALIDATION_ERROR", ""));
  BOOST_TEST(membership(h.id, l.id)->status == "active");
  BOOST_TEST(membership(h.id, l.id)->role == "leader");
  BOOST_TEST(audit_of(h.id, "member.left").empty());
  BOOST_TEST(household_status(h.id) == "active");
}

BOOST_AUTO_TEST_CASE(the_last_member_leaving_deactivates_the_household) {
  auto l = make_user("last-leader@example.com");
  auto h = create_household(client(), l, "Last Home");
  auto p1 = make_user("last-p1@example.com");
  auto p2 = make_user("last-p2@example.com");
  auto r1 = request_join(client(), p1, h.code);
  auto r2 = request_join(client(), p2, h.code);
  // p2 also waits elsewhere; that request is not touched.
  auto l3 = make_user("last-leader3@example.com");
  auto h3 = create_household(client(), l3, "Third Home");
  auto r3 = request_join(client(), p2, h3.code);
  BOOST_TEST_REQUIRE(client().get("/v1/households/" + h.id, l.auth()).status == 200);

  auto r = post(client(), "/v1/households/" + h.id + "/leave", l);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"householdDeactivated", true}, {"newLeaderId", nullptr}}), r.body);

  auto hrow = pg::query("SELECT status, invite_code, deactivated_at, leader_id::text FROM households WHERE id = $1",
                        {h.id});
  BOOST_TEST(*hrow[0][0] == "deactivated");
  BOOST_TEST(!hrow[0][1].has_value());
  BOOST_TEST(hrow[0][2].has_value());
  BOOST_TEST(*hrow[0][3] == l.id, "leader_id keeps the last leader");
  BOOST_TEST(pg::scalar("SELECT reason FROM retired_invite_codes WHERE code = $1", {h.code})
             == "household_deactivated");
  auto lrow = membership(h.id, l.id);
  BOOST_TEST(lrow->status == "left");
  BOOST_TEST(lrow->ended_by.value_or("") == l.id);

  for (auto& [rid, u] : std::vector<std::pair<std::string, user>>{{r1, p1}, {r2, p2}}) {
    BOOST_TEST_CONTEXT("requester " << u.email) {
      auto s = request_state(rid);
      BOOST_TEST(s.status == "rejected");
      BOOST_TEST(s.close_reason.value_or("") == "household_deactivated");
      BOOST_TEST(!s.responded_by.has_value());
      BOOST_TEST(s.responded_at.has_value());
      auto notes = notifications_of(u.id, "join_request_rejected");
      BOOST_TEST_REQUIRE(notes.size() == 1u);
      BOOST_TEST(notes[0].title == "Request declined");
      BOOST_TEST(notes[0].body == "Your request to join Last Home was declined");
      BOOST_TEST(notes[0].data
                   == json({{"householdId", h.id}, {"joinRequestId", rid}, {"reason", "household_deactivated"}}),
                 notes[0].data.dump());
      BOOST_TEST(is_error(client().get("/v1/households/" + h.id, u.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                          hmsg::household_not_found));
    }
  }
  BOOST_TEST(request_state(r3).status == "pending");

  auto closed = audit_of(h.id, "join_request.closed");
  BOOST_TEST_REQUIRE(closed.size() == 2u);
  std::set<std::string> subjects;
  for (auto& a : closed) {
    BOOST_TEST(!a.actor.has_value());
    subjects.insert(a.subject.value_or(""));
  }
  BOOST_TEST((subjects == std::set<std::string>{r1, r2}));
  auto deact = audit_of(h.id, "household.deactivated");
  BOOST_TEST_REQUIRE(deact.size() == 1u);
  BOOST_TEST(deact[0].actor.value_or("") == l.id);
  BOOST_TEST(!deact[0].target.has_value());
  BOOST_TEST(audit_of(h.id, "member.left").size() == 1u);

  // The code answers as unknown; the id is gone for everyone.
  auto joiner = make_user("last-joiner@example.com");
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, joiner.auth()), 404,
                      "INVALID_INVITE_CODE", hmsg::code_unknown));
  BOOST_TEST(is_error(client().get("/v1/households/" + h.id, l.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                      hmsg::household_not_found));
  BOOST_TEST(is_error(client().get("/v1/households/me", l.auth()), 404, "NOT_IN_HOUSEHOLD", hmsg::not_in_household));
  BOOST_TEST(is_error(client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "Again"}}, l.auth()), 404,
                      "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
  // The former leader is free to start over.
  create_household(client(), l, "Fresh Start");
  require_verify();
}

// --- leadership transfer ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(leadership_transfer) {
  auto l = make_user("tr-leader@example.com", "Lena");
  auto h = create_household(client(), l, "Transfer Home");
  auto a = make_user("tr-a@example.com", "Anna");
  auto b = make_user("tr-b@example.com", "Bert");
  add_member(client(), l, h, a);
  add_member(client(), l, h, b);
  const std::string path = "/v1/households/" + h.id + "/leadership";

  BOOST_TEST(is_error(client().post(path, {{"newLeaderId", b.id}}, a.auth()), 403, "NOT_HOUSEHOLD_LEADER",
                      hmsg::not_leader));
  auto r = client().post(path, {{"newLeaderId", a.id}}, l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"previousLeaderId", l.id}, {"newLeaderId", a.id}}), r.body);
  BOOST_TEST(pg::scalar("SELECT leader_id::text FROM households WHERE id = $1", {h.id}) == a.id);
  BOOST_TEST(membership(h.id, a.id)->role == "leader");
  auto old = membership(h.id, l.id);
  BOOST_TEST(old->role == "member");
  BOOST_TEST(old->status == "active");

  json data{{"householdId", h.id}, {"previousLeaderId", l.id}, {"newLeaderId", a.id}, {"reason", "transfer"}};
  auto na = notifications_of(a.id, "leadership_transferred");
  BOOST_TEST_REQUIRE(na.size() == 1u);
  BOOST_TEST(na[0].title == "You're now the household leader");
  BOOST_TEST(na[0].body == "You are now the leader of Transfer Home");
  BOOST_TEST(na[0].data == data, na[0].data.dump());
  for (auto* other : {&l, &b}) {
    auto n = notifications_of(other->id, "leadership_transferred");
    BOOST_TEST_REQUIRE(n.size() == 1u, other->email);
    BOOST_TEST(n[0].title == "New household leader");
    BOOST_TEST(n[0].body == "Anna is now the leader of Transfer Home");
    BOOST_TEST(n[0].data == data, n[0].data.dump());
  }
  auto audit = audit_of(h.id, "leadership.transferred");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == l.id);
  BOOST_TEST(audit[0].target.value_or("") == a.id);
  BOOST_TEST(audit[0].metadata == json({{"reason", "transfer"}, {"designated", true}}), audit[0].metadata.dump());

  // The old leader is now a member: 403 on leader routes, no code in the view.
  BOOST_TEST(is_error(client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "Mine Again"}}, l.auth()),
                      403, "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
  auto lv = client().get("/v1/households/me", l.auth());
  BOOST_TEST(lv.json["myRole"] == "member", lv.body);
  BOOST_TEST(!lv.json["household"].contains("inviteCode"), lv.body);
  auto av = client().get("/v1/households/me", a.auth());
  BOOST_TEST(av.json["myRole"] == "leader", av.body);
  BOOST_TEST(av.json["household"]["inviteCode"] == h.code, av.body);
  BOOST_TEST(client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "Anna Home"}}, a.auth()).status == 200);
  require_verify();
}

BOOST_AUTO_TEST_CASE(leadership_transfer_refuses_ineligible_successors) {
  auto l = make_user("trx-leader@example.com");
  auto h = create_household(client(), l, "Eligible Home");
  auto t = make_user("trx-temp@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", from_now(milliseconds{5 * day_ms})}});
  auto gone = make_user("trx-gone@example.com");
  add_member(client(), l, h, gone);
  BOOST_TEST_REQUIRE(client().call("DELETE", "/v1/households/" + h.id + "/members/" + gone.id, l.auth()).status
                     == 204);
  auto o = make_user("trx-outsider@example.com");
  const std::string path = "/v1/households/" + h.id + "/leadership";
  for (json next : {json(l.id), json(t.id), json(gone.id), json(o.id), json("6f1c2b8e-4a57-4c1e-9d2a-3b7e5f0a1c9d"),
                    json("not-a-uuid")}) {
    BOOST_TEST_CONTEXT("newLeaderId " << next.dump()) {
      BOOST_TEST(is_error(client().post(path, {{"newLeaderId", next}}, l.auth()), 400, "INVALID_SUCCESSOR",
                          hmsg::invalid_successor));
    }
  }
  for (json body : {json::object(), json{{"newLeaderId", nullptr}}, json{{"newLeaderId", 7}}}) {
    BOOST_TEST_CONTEXT("body " << body.dump()) {
      BOOST_TEST(is_error(client().post(path, body, l.auth()), 400, "VALIDATION_ERROR", ""));
    }
  }
  BOOST_TEST(pg::scalar("SELECT leader_id::text FROM households WHERE id = $1", {h.id}) == l.id);
  BOOST_TEST(audit_of(h.id, "leadership.transferred").empty());
}

// --- temporary members ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(temporary_access_ends_at_its_instant_even_before_the_sweep) {
  auto l = make_user("end-leader@example.com");
  auto h = create_household(client(), l, "End Home");
  auto t = make_user("end-sitter@example.com");
  sweep_pause pause; // sweeps skip their ticks while this test holds the job lock
  auto end = now_ms() + 2500;
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(end)}});
  auto before = client().get("/v1/households/me", t.auth());
  BOOST_TEST_REQUIRE(before.status == 200, "the end must not have passed yet: " << describe(before));
  BOOST_TEST_REQUIRE(client().get("/v1/households/" + h.id, t.auth()).status == 200);
  BOOST_TEST(client().get("/v1/households/me", l.auth()).json["household"]["memberCount"] == 2);

  while (now_ms() < end + 100)
    std::this_thread::sleep_for(milliseconds{20});
  BOOST_TEST(is_error(client().get("/v1/households/me", t.auth()), 404, "NOT_IN_HOUSEHOLD", hmsg::not_in_household));
  BOOST_TEST(is_error(client().get("/v1/households/" + h.id, t.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                      hmsg::household_not_found));
  auto me = client().get("/v1/me", t.auth());
  BOOST_TEST_REQUIRE(me.status == 200, describe(me));
  BOOST_TEST(me.json["householdId"].is_null(), me.body);
  auto lv = client().get("/v1/households/me", l.auth());
  BOOST_TEST(lv.json["household"]["memberCount"] == 1, lv.body);
  BOOST_TEST(lv.json["members"].size() == 1u, lv.body);
  BOOST_TEST(is_error(client().call("POST", "/v1/households/" + h.id + "/welcome-ack", t.auth()), 404,
                      "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
  BOOST_WARN_MESSAGE(membership(h.id, t.id)->status == "active",
                     "the sweep ran despite the paused job lock; the checks above still held");
  // Not a member anywhere any more: creating a household is allowed.
  auto own = client().post("/v1/households", {{"name", "Sitter Own"}}, t.auth());
  BOOST_TEST(own.status == 201, describe(own));
}

BOOST_AUTO_TEST_CASE(the_sweep_expires_temporary_members_once) {
  auto l = make_user("sw-leader@example.com", "Lena");
  auto h = create_household(client(), l, "Sweep Home");
  auto t = make_user("sw-sitter@example.com", "Sam");
  auto end = iso_ms(now_ms() + 3000);
  auto member = add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", end}});
  BOOST_TEST(member["temporaryExpiresAt"] == end);
  BOOST_TEST_REQUIRE(wait_member_status(h.id, t.id, "expired"), "not expired within 10 s of the end");

  auto row = membership(h.id, t.id);
  BOOST_TEST(!row->ended_by.has_value(), "ended by the system");
  BOOST_TEST(pg::scalar("SELECT (ended_at = temporary_expires_at)::text FROM household_members WHERE user_id = $1",
                        {t.id})
             == "true");
  json data{{"householdId", h.id}, {"memberUserId", t.id}, {"expiredAt", end}};
  auto mine = notifications_of(t.id, "temporary_access_expired");
  BOOST_TEST_REQUIRE(mine.size() == 1u);
  BOOST_TEST(mine[0].title == "Temporary access ended");
  BOOST_TEST(mine[0].body == "Your temporary access to Sweep Home has expired");
  BOOST_TEST(mine[0].data == data, mine[0].data.dump());
  auto leaders = notifications_of(l.id, "temporary_access_expired");
  BOOST_TEST_REQUIRE(leaders.size() == 1u);
  BOOST_TEST(leaders[0].title == "Temporary access ended");
  BOOST_TEST(leaders[0].body == "Sam's temporary access to Sweep Home has expired");
  BOOST_TEST(leaders[0].data == data, leaders[0].data.dump());
  auto audit = audit_of(h.id, "temporary_access.expired");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(!audit[0].actor.has_value());
  BOOST_TEST(audit[0].target.value_or("") == t.id);
  BOOST_TEST(!audit[0].subject.has_value());
  BOOST_TEST(audit[0].request_id.rfind("job:", 0) == 0u, audit[0].request_id);

  // Later sweeps do nothing more.
  std::this_thread::sleep_for(milliseconds{2500});
  BOOST_TEST(notifications_of(t.id, "temporary_access_expired").size() == 1u);
  BOOST_TEST(notifications_of(l.id, "temporary_access_expired").size() == 1u);
  BOOST_TEST(audit_of(h.id, "temporary_access.expired").size() == 1u);
  BOOST_TEST(is_error(client().get("/v1/households/me", t.auth()), 404, "NOT_IN_HOUSEHOLD", hmsg::not_in_household));
  require_verify();
}

BOOST_AUTO_TEST_CASE(expiry_warnings_are_sent_once_per_level) {
  auto l = make_user("wn-leader@example.com", "Lena");
  auto h = create_household(client(), l, "Warn Home");
  auto t = make_user("wn-sitter@example.com", "Sam");
  auto end = iso_ms(now_ms() + 2 * day_ms);
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", end}});
  BOOST_TEST_REQUIRE(poll_until([&] { return !notifications_of(t.id, "temporary_access_expiring").empty(); },
                                seconds{6}, milliseconds{50}),
                     "no warning within 6 s");
  std::this_thread::sleep_for(milliseconds{2500}); // at least two more sweeps
  json data{{"householdId", h.id}, {"memberUserId", t.id}, {"expiresAt", end}, {"thresholdDays", 3}};
  auto mine = notifications_of(t.id, "temporary_access_expiring");
  BOOST_TEST_REQUIRE(mine.size() == 1u, "one level-3 warning, not repeated");
  BOOST_TEST(mine[0].title == "Temporary access expiring soon");
  BOOST_TEST(mine[0].body == "Your temporary access to Warn Home expires in 2 days");
  BOOST_TEST(mine[0].data == data, mine[0].data.dump());
  auto leaders = notifications_of(l.id, "temporary_access_expiring");
  BOOST_TEST_REQUIRE(leaders.size() == 1u);
  BOOST_TEST(leaders[0].title == "Temporary access expiring soon");
  BOOST_TEST(leaders[0].body == "Sam's temporary access expires in 2 days");
  BOOST_TEST(leaders[0].data == data, leaders[0].data.dump());
  BOOST_TEST(membership(h.id, t.id)->last_warning_days.value_or("") == "3");

  // Changing the end clears the level: 20 hours away warns at level 1 ("1 day").
  auto end2 = iso_ms(now_ms() + 20 * 3600 * 1000);
  auto ext = client().post("/v1/households/" + h.id + "/members/" + t.id + "/extend", {{"temporaryExpiresAt", end2}},
                           l.auth());
  BOOST_TEST_REQUIRE(ext.status == 200, describe(ext));
  BOOST_TEST_REQUIRE(poll_until([&] { return notifications_of(t.id, "temporary_access_expiring").size() >= 2; },
                                seconds{6}, milliseconds{50}),
                     "no level-1 warning within 6 s");
  std::this_thread::sleep_for(milliseconds{1500});
  mine = notifications_of(t.id, "temporary_access_expiring");
  BOOST_TEST_REQUIRE(mine.size() == 2u);
  BOOST_TEST(mine[1].body == "Your temporary access to Warn Home expires in 1 day");
  BOOST_TEST(mine[1].data
               == json({{"householdId", h.id}, {"memberUserId", t.id}, {"expiresAt", end2}, {"thresholdDays", 1}}),
             mine[1].data.dump());
  BOOST_TEST(notifications_of(l.id, "temporary_access_expiring").size() == 2u);
}

BOOST_AUTO_TEST_CASE(extending_temporary_access) {
  auto l = make_user("ex-leader@example.com");
  auto h = create_household(client(), l, "Extend Home");
  auto t = make_user("ex-sitter@example.com");
  auto p = make_user("ex-permanent@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", from_now(milliseconds{3 * day_ms})}});
  add_member(client(), l, h, p);
  const std::string base = "/v1/households/" + h.id + "/members/";

  auto end = iso_ms(now_ms() + 30 * day_ms);
  BOOST_TEST(is_error(client().post(base + t.id + "/extend", {{"temporaryExpiresAt", end}}, p.auth()), 403,
                      "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
  auto r = client().post(base + t.id + "/extend", {{"temporaryExpiresAt", end}}, l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(keys_of(r.json) == "member");
  BOOST_TEST(keys_of(r.json["member"]) == member_keys);
  BOOST_TEST(r.json["member"]["userId"] == t.id);
  BOOST_TEST(r.json["member"]["isTemporary"] == true);
  BOOST_TEST(r.json["member"]["temporaryExpiresAt"] == end);
  BOOST_TEST(membership(h.id, t.id)->temporary_expires_at.value_or("") == end);
  auto audit = audit_of(h.id, "temporary_access.extended");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == l.id);
  BOOST_TEST(audit[0].target.value_or("") == t.id);
  BOOST_TEST(!audit[0].subject.has_value());

  // Shortening is allowed.
  auto shorter = iso_ms(now_ms() + day_ms * 2);
  BOOST_TEST(client().post(base + t.id + "/extend", {{"temporaryExpiresAt", shorter}}, l.auth()).status == 200);
  BOOST_TEST(membership(h.id, t.id)->temporary_expires_at.value_or("") == shorter);

  BOOST_TEST(is_error(client().post(base + p.id + "/extend", {{"temporaryExpiresAt", end}}, l.auth()), 409,
                      "NOT_TEMPORARY_MEMBER", hmsg::not_temporary));
  BOOST_TEST(is_error(client().post(base + l.id + "/extend", {{"temporaryExpiresAt", end}}, l.auth()), 409,
                      "NOT_TEMPORARY_MEMBER", hmsg::not_temporary));
  for (json body : {json{{"temporaryExpiresAt", from_now(milliseconds{-1000})}},
                    json{{"temporaryExpiresAt", from_now(milliseconds{366 * day_ms})}},
                    json{{"temporaryExpiresAt", "soon"}}, json::object(), json{{"temporaryExpiresAt", 5}}}) {
    BOOST_TEST_CONTEXT("body " << body.dump()) {
      BOOST_TEST(is_error(client().post(base + t.id + "/extend", body, l.auth()), 400, "VALIDATION_ERROR", ""));
    }
  }
  auto stranger = make_user("ex-stranger@example.com");
  BOOST_TEST(is_error(client().post(base + stranger.id + "/extend", {{"temporaryExpiresAt", end}}, l.auth()), 404,
                      "MEMBER_NOT_FOUND", hmsg::member_not_found));
  BOOST_TEST(membership(h.id, t.id)->temporary_expires_at.value_or("") == shorter);
  // A member whose latest row is removed is not extendable.
  BOOST_TEST_REQUIRE(client().call("DELETE", base + t.id, l.auth()).status == 204);
  BOOST_TEST(is_error(client().post(base + t.id + "/extend", {{"temporaryExpiresAt", end}}, l.auth()), 404,
                      "MEMBER_NOT_FOUND", hmsg::member_not_found));
  BOOST_TEST(membership(h.id, t.id)->status == "removed");
}

BOOST_AUTO_TEST_CASE(capacity_ignores_temporary_members_whose_access_ended) {
  auto l = make_user("cap-leader@example.com");
  auto h = create_household(client(), l, "Capacity Home");
  sweep_pause pause; // the ended member stays 'active' in PostgreSQL meanwhile
  add_members(client(), l, h, 13, "cap-m");
  auto t = make_user("cap-sitter@example.com");
  auto end = now_ms() + 2500;
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(end)}});
  auto late = make_user("cap-late@example.com");
  BOOST_TEST_REQUIRE(now_ms() < end, "setup took longer than the temporary access");
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, late.auth()), 409,
                      "HOUSEHOLD_AT_CAPACITY", hmsg::at_capacity));
  while (now_ms() < end + 100)
    std::this_thread::sleep_for(milliseconds{20});
  auto rid = request_join(client(), late, h.code);
  approve(client(), l, rid);
  auto view = client().get("/v1/households/me", l.auth());
  BOOST_TEST(view.json["household"]["memberCount"] == 15, view.body);
  BOOST_TEST(view.json["members"].size() == 15u);
  require_verify();
}

BOOST_AUTO_TEST_CASE(extending_an_expired_member_reactivates_them) {
  auto l = make_user("re-leader@example.com");
  auto h = create_household(client(), l, "Revive Home");
  auto t = make_user("re-sitter@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(now_ms() + 2500)}});
  BOOST_TEST_REQUIRE(wait_member_status(h.id, t.id, "expired"));
  BOOST_TEST(is_error(client().get("/v1/households/me", t.auth()), 404, "NOT_IN_HOUSEHOLD", hmsg::not_in_household));

  auto end = iso_ms(now_ms() + 10 * day_ms);
  auto r = client().post("/v1/households/" + h.id + "/members/" + t.id + "/extend", {{"temporaryExpiresAt", end}},
                         l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json["member"]["temporaryExpiresAt"] == end);
  auto row = membership(h.id, t.id);
  BOOST_TEST(row->status == "active");
  BOOST_TEST(!row->ended_at.has_value());
  BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1 AND status = 'active'", {t.id}) == 1);
  auto view = client().get("/v1/households/me", t.auth());
  BOOST_TEST_REQUIRE(view.status == 200, describe(view));
  BOOST_TEST(view.json["household"]["memberCount"] == 2);
  BOOST_TEST(audit_of(h.id, "temporary_access.extended").size() == 1u);
  require_verify();
}

BOOST_AUTO_TEST_CASE(reactivating_an_expired_member_closes_their_requests_elsewhere) {
  auto l = make_user("rc-leader@example.com");
  auto h = create_household(client(), l, "Reclaim Home");
  auto t = make_user("rc-sitter@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(now_ms() + 2500)}});
  BOOST_TEST_REQUIRE(wait_member_status(h.id, t.id, "expired"));
  // No longer a member anywhere: the sitter asks to join two other households.
  auto l2 = make_user("rc-leader2@example.com");
  auto h2 = create_household(client(), l2, "Other Reclaim Home");
  auto l3 = make_user("rc-leader3@example.com");
  auto h3 = create_household(client(), l3, "Third Reclaim Home");
  auto rid2 = request_join(client(), t, h2.code);
  auto rid3 = request_join(client(), t, h3.code);
  auto notes_before = notifications_of(t.id).size();

  auto r = client().post("/v1/households/" + h.id + "/members/" + t.id + "/extend",
                         {{"temporaryExpiresAt", from_now(milliseconds{10 * day_ms})}}, l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(membership(h.id, t.id)->status == "active");
  auto extended = audit_of(h.id, "temporary_access.extended");
  BOOST_TEST_REQUIRE(extended.size() == 1u);
  BOOST_TEST(extended[0].metadata.value("reactivated", false) == true, extended[0].metadata.dump());

  for (auto [hid, rid] : {std::pair{h2.id, rid2}, std::pair{h3.id, rid3}}) {
    BOOST_TEST_CONTEXT("request " << rid) {
      auto req = request_state(rid);
      BOOST_TEST(req.status == "withdrawn");
      BOOST_TEST(req.close_reason.value_or("") == "joined_other_household");
      BOOST_TEST(req.responded_at.has_value());
      BOOST_TEST(!req.responded_by.has_value());
      auto closed = audit_of(hid, "join_request.closed");
      BOOST_TEST_REQUIRE(closed.size() == 1u);
      BOOST_TEST(!closed[0].actor.has_value(), "system actor");
      BOOST_TEST(closed[0].target.value_or("") == t.id);
      BOOST_TEST(closed[0].subject.value_or("") == rid);
      BOOST_TEST(closed[0].request_id == r.header("X-Request-Id").value_or("?"));
    }
  }
  BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests WHERE user_id = $1 AND status = 'pending'",
                       {t.id}) == 0);
  BOOST_TEST(notifications_of(t.id).size() == notes_before, "closing is not notified");
  BOOST_TEST(notifications_of(l2.id, "join_request_rejected").empty());
  require_verify();
}

BOOST_AUTO_TEST_CASE(extending_a_lapsed_but_unswept_member_closes_their_requests_elsewhere) {
  auto l = make_user("ru-leader@example.com");
  auto h = create_household(client(), l, "Unswept Home");
  auto t = make_user("ru-sitter@example.com");
  sweep_pause pause; // the lapsed row stays 'active' in PostgreSQL
  auto end = now_ms() + 2500;
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(end)}});
  auto l2 = make_user("ru-leader2@example.com");
  auto h2 = create_household(client(), l2, "Other Unswept Home");
  while (now_ms() < end + 100)
    std::this_thread::sleep_for(milliseconds{20});
  auto rid2 = request_join(client(), t, h2.code); // access ended: not a member any more
  auto r = client().post("/v1/households/" + h.id + "/members/" + t.id + "/extend",
                         {{"temporaryExpiresAt", from_now(milliseconds{10 * day_ms})}}, l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  auto req = request_state(rid2);
  BOOST_TEST(req.status == "withdrawn");
  BOOST_TEST(req.close_reason.value_or("") == "joined_other_household");
  auto closed = audit_of(h2.id, "join_request.closed");
  BOOST_TEST_REQUIRE(closed.size() == 1u);
  BOOST_TEST(closed[0].subject.value_or("") == rid2);
  BOOST_TEST(!closed[0].actor.has_value());
  BOOST_TEST(closed[0].target.value_or("") == t.id);
  BOOST_TEST(membership(h.id, t.id)->status == "active");
}

BOOST_AUTO_TEST_CASE(an_expired_member_now_elsewhere_cannot_be_extended) {
  auto l = make_user("el-leader@example.com");
  auto h = create_household(client(), l, "First Sitter Home");
  auto t = make_user("el-sitter@example.com");
  add_member(client(), l, h, t, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(now_ms() + 2500)}});
  BOOST_TEST_REQUIRE(wait_member_status(h.id, t.id, "expired"));
  auto l2 = make_user("el-leader2@example.com");
  auto h2 = create_household(client(), l2, "Second Sitter Home");
  add_member(client(), l2, h2, t);

  auto r = client().post("/v1/households/" + h.id + "/members/" + t.id + "/extend",
                         {{"temporaryExpiresAt", from_now(milliseconds{10 * day_ms})}}, l.auth());
  BOOST_TEST(is_error(r, 409, "ALREADY_IN_HOUSEHOLD", hmsg::other_in_household));
  BOOST_TEST(membership(h.id, t.id)->status == "expired");
  BOOST_TEST(membership(h2.id, t.id)->status == "active");
  BOOST_TEST(active_members(h.id) == 1);
  require_verify();
}

BOOST_AUTO_TEST_SUITE_END()
