// Authorisation matrix (SPEC §4.1 order of checks and visibility rule, §4.4 "who"): every
// household-scoped route against every kind of caller. Anonymous ⇒ 401; outsiders, removed
// and expired temporary members ⇒ the resource's 404, indistinguishable from a nonexistent
// household; plain members ⇒ 403 NOT_HOUSEHOLD_LEADER on leader routes (and an
// authorization.denied audit row); the leader ⇒ success or a non-authorisation error.
// A route the service does not know (404 NOT_FOUND / 405) is reported as missing.

#include <boost/test/unit_test.hpp>

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

constexpr int64_t day_ms = 86400000;

/// An expected answer: status and error code ("" = a success status).
struct outcome {
  long status;
  std::string code;
};

struct route_case {
  std::string label;  ///< method and template, for messages
  std::string method;
  std::string path;
  std::optional<json> body;
  bool leader_only;
  bool request_scoped; ///< approve/reject: outsiders get REQUEST_NOT_FOUND
  outcome member;      ///< for a plain member when !leader_only
  outcome leader;
};

/// The household and its cast, built through the API.
struct world {
  user leader, member, target, removed, expired, outsider;
  household h;
  std::string approve_rid, reject_rid;
  std::vector<route_case> routes;
};

world build(const http_client& c) {
  world w;
  w.leader = make_user("mx-leader@example.com", "Lena");
  w.member = make_user("mx-member@example.com", "Max");
  w.target = make_user("mx-target@example.com", "Tom");
  w.removed = make_user("mx-removed@example.com", "Rex");
  w.expired = make_user("mx-expired@example.com", "Eve");
  w.outsider = make_user("mx-outsider@example.com", "Oz");
  w.h = create_household(c, w.leader, "Matrix Home");
  add_member(c, w.leader, w.h, w.member);
  add_member(c, w.leader, w.h, w.target);
  add_member(c, w.leader, w.h, w.removed);
  auto end = now_ms() + 2500;
  add_member(c, w.leader, w.h, w.expired, {{"isTemporary", true}, {"temporaryExpiresAt", iso_ms(end)}});
  auto gone = c.call("DELETE", "/v1/households/" + w.h.id + "/members/" + w.removed.id, w.leader.auth());
  BOOST_TEST_REQUIRE(gone.status == 204, describe(gone));
  auto p1 = make_user("mx-p1@example.com");
  auto p2 = make_user("mx-p2@example.com");
  w.approve_rid = request_join(c, p1, w.h.code);
  w.reject_rid = request_join(c, p2, w.h.code);
  while (now_ms() < end + 100)
    std::this_thread::sleep_for(milliseconds{20});

  const std::string hh = "/v1/households/" + w.h.id;
  const outcome ok200{200, ""}, ok204{204, ""};
  w.routes = {
    {"GET /v1/households/{hid}", "GET", hh, std::nullopt, false, false, ok200, ok200},
    {"PATCH /v1/households/{hid}", "PATCH", hh, json{{"name", "Matrix Renamed"}}, true, false, {}, ok200},
    {"GET /v1/households/{hid}/members", "GET", hh + "/members", std::nullopt, false, false, ok200, ok200},
    {"GET /v1/households/{hid}/members?status=expired", "GET", hh + "/members?status=expired", std::nullopt, true,
     false, {}, ok200},
    {"POST /v1/households/{hid}/invite-code", "POST", hh + "/invite-code", std::nullopt, true, false, {}, ok200},
    {"POST /v1/households/{hid}/welcome-ack", "POST", hh + "/welcome-ack", std::nullopt, false, false, ok204, ok204},
    {"DELETE /v1/households/{hid}/members/{uid}", "DELETE", hh + "/members/" + w.target.id, std::nullopt, true,
     false, {}, ok204},
    // successorId makes both answers non-mutating 400s: from a member it is a field error,
    // from the leader a malformed successor.
    {"POST /v1/households/{hid}/leave", "POST", hh + "/leave", json{{"successorId", "not-a-uuid"}}, false, false,
     {400, "VALIDATION_ERROR"}, {400, "INVALID_SUCCESSOR"}},
    {"POST /v1/households/{hid}/leadership", "POST", hh + "/leadership", json{{"newLeaderId", w.leader.id}}, true,
     false, {}, {400, "INVALID_SUCCESSOR"}},
    {"POST /v1/households/{hid}/members/{uid}/extend", "POST", hh + "/members/" + w.member.id + "/extend",
     json{{"temporaryExpiresAt", iso_ms(now_ms() + 10 * day_ms)}}, true, false, {}, {409, "NOT_TEMPORARY_MEMBER"}},
    {"GET /v1/households/{hid}/join-requests", "GET", hh + "/join-requests", std::nullopt, true, false, {}, ok200},
    {"GET /v1/households/{hid}/audit-log", "GET", hh + "/audit-log", std::nullopt, true, false, {}, ok200},
    {"POST /v1/join-requests/{rid}/approve", "POST", "/v1/join-requests/" + w.approve_rid + "/approve",
     std::nullopt, true, true, {}, ok200},
    {"POST /v1/join-requests/{rid}/reject", "POST", "/v1/join-requests/" + w.reject_rid + "/reject", std::nullopt,
     true, true, {}, ok200},
  };
  return w;
}

http_response send(const http_client& c, const route_case& rc, const header_list& headers) {
  if (rc.body)
    return c.send_json(rc.method, rc.path, *rc.body, headers);
  return c.call(rc.method, rc.path, headers);
}

/// Checks `r` against `want`; a missing route is reported as such. True when the route exists.
bool check(const http_response& r, const route_case& rc, const std::string& caller, const outcome& want,
           const std::string& message = "") {
  if (route_missing(r)) {
    BOOST_ERROR("route missing: " << rc.label << " answers " << r.status << " " << r.error_code()
                                  << " (unknown route) for the " << caller << " — not implemented yet?");
    return false;
  }
  BOOST_TEST_CONTEXT(rc.label << " as " << caller) {
    if (want.code.empty())
      BOOST_TEST(r.status == want.status, describe(r));
    else
      BOOST_TEST(is_error(r, want.status, want.code, message));
  }
  return true;
}

int64_t denied_rows(const std::string& hid, const std::string& actor) {
  return pg::count("SELECT count(*) FROM audit_log WHERE household_id = $1 AND action = 'authorization.denied'"
                   " AND actor_user_id = $2",
                   {hid, actor});
}

/// A non-member caller: every route answers its 404 and nothing is audited for them.
void check_invisible(const http_client& c, const world& w, const user& who, const std::string& caller) {
  for (auto& rc : w.routes) {
    auto r = send(c, rc, who.auth());
    if (rc.request_scoped)
      check(r, rc, caller, {404, "REQUEST_NOT_FOUND"}, hmsg::request_not_found);
    else
      check(r, rc, caller, {404, "HOUSEHOLD_NOT_FOUND"}, hmsg::household_not_found);
  }
  BOOST_TEST(denied_rows(w.h.id, who.id) == 0, caller << " must leave no authorization.denied rows");
  // Nothing changed on their account.
  BOOST_TEST(pg::scalar("SELECT name FROM households WHERE id = $1", {w.h.id}) == "Matrix Home");
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {w.approve_rid}) == "pending");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(authz_matrix_tests, api_fixture)

BOOST_AUTO_TEST_CASE(anonymous_callers_get_401_everywhere) {
  auto w = build(client());
  for (auto& rc : w.routes)
    check(send(client(), rc, {}), rc, "anonymous caller", {401, "AUTH_REQUIRED"}, msg::auth_required);
}

BOOST_AUTO_TEST_CASE(outsiders_get_the_visibility_404_everywhere) {
  auto w = build(client());
  check_invisible(client(), w, w.outsider, "outsider");
}

BOOST_AUTO_TEST_CASE(removed_members_get_the_visibility_404_everywhere) {
  auto w = build(client());
  check_invisible(client(), w, w.removed, "removed member");
}

BOOST_AUTO_TEST_CASE(expired_temporary_members_get_the_visibility_404_everywhere) {
  auto w = build(client());
  check_invisible(client(), w, w.expired, "expired temporary member");
}

BOOST_AUTO_TEST_CASE(plain_members_get_403_on_leader_routes_and_it_is_audited) {
  auto w = build(client());
  int64_t forbidden = 0;
  for (auto& rc : w.routes) {
    auto r = send(client(), rc, w.member.auth());
    if (rc.leader_only) {
      if (check(r, rc, "plain member", {403, "NOT_HOUSEHOLD_LEADER"}, hmsg::not_leader))
        ++forbidden;
    } else {
      check(r, rc, "plain member", rc.member);
    }
  }
  BOOST_TEST(denied_rows(w.h.id, w.member.id) == forbidden, "one authorization.denied row per 403");
  for (auto& a : audit_of(w.h.id, "authorization.denied")) {
    BOOST_TEST(a.actor.value_or("") == w.member.id);
    BOOST_TEST(!a.target.has_value());
    BOOST_TEST(!a.subject.has_value());
    BOOST_TEST(a.metadata.value("code", "") == "NOT_HOUSEHOLD_LEADER", a.metadata.dump());
    BOOST_TEST(a.metadata.value("route", "").rfind("/v1/", 0) == 0u, a.metadata.dump());
  }
  // The refused operations changed nothing.
  BOOST_TEST(pg::scalar("SELECT name FROM households WHERE id = $1", {w.h.id}) == "Matrix Home");
  BOOST_TEST(current_code(w.h.id) == w.h.code);
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {w.approve_rid}) == "pending");
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {w.reject_rid}) == "pending");
  BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1 AND status = 'active'",
                       {w.target.id})
             == 1);
}

BOOST_AUTO_TEST_CASE(the_leader_passes_every_authorisation_check) {
  auto w = build(client());
  for (auto& rc : w.routes)
    check(send(client(), rc, w.leader.auth()), rc, "leader", rc.leader);
  BOOST_TEST(denied_rows(w.h.id, w.leader.id) == 0);
}

BOOST_AUTO_TEST_CASE(a_nonexistent_household_answers_like_a_hidden_one) {
  auto w = build(client());
  const std::string fake = "6f1c2b8e-4a57-4c1e-9d2a-3b7e5f0a1c9d";
  for (auto& rc : w.routes) {
    if (rc.request_scoped)
      continue;
    auto copy = rc;
    auto pos = copy.path.find(w.h.id);
    copy.path.replace(pos, w.h.id.size(), fake);
    check(send(client(), copy, w.leader.auth()), copy, "leader of another household",
          {404, "HOUSEHOLD_NOT_FOUND"}, hmsg::household_not_found);
    copy.path = rc.path;
    copy.path.replace(pos, w.h.id.size(), "not-a-uuid");
    check(send(client(), copy, w.leader.auth()), copy, "leader, non-UUID id", {404, "HOUSEHOLD_NOT_FOUND"},
          hmsg::household_not_found);
  }
}

BOOST_AUTO_TEST_SUITE_END()
