// Cross-instance coherence (SPEC §9: other instances learn of every committed household
// change through the Redis invalidation channel and apply it within 1 s): two service
// processes A and B on one PostgreSQL and one Redis. B's household actor is warmed by reads
// through B first, so B has something in memory that must be invalidated.

#include <boost/test/unit_test.hpp>

#include <string>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using namespace fixtures::hh;
using nlohmann::json;
namespace hmsg = fixtures::hh::text;
using std::chrono::milliseconds;
using std::chrono::seconds;

/// Polls `probe` through B until `done(response)`; the elapsed seconds since `t0`
/// (or a negative number on timeout) and the last answer.
template <class Probe, class Done>
double settle(std::chrono::steady_clock::time_point t0, Probe probe, Done done, http_response& last) {
  bool ok = poll_until(
    [&] {
      last = probe();
      return done(last);
    },
    seconds{3}, milliseconds{10});
  return ok ? seconds_since(t0) : -1.0;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(coherence_tests, api_fixture)

BOOST_AUTO_TEST_CASE(a_member_removed_on_a_is_refused_on_b_within_a_second) {
  auto& a = client();
  service_process b;
  auto l = make_user("co-leader@example.com");
  auto m = make_user("co-member@example.com");
  auto h = create_household(a, l, "Coherent Home");
  add_member(a, l, h, m);
  // Warm B: its household actor now holds the member list with m in it.
  for (int i = 0; i < 3; ++i) {
    auto r = b.client().get("/v1/households/" + h.id, m.auth());
    BOOST_TEST_REQUIRE(r.status == 200, describe(r));
    BOOST_TEST_REQUIRE(b.client().get("/v1/households/me", m.auth()).status == 200);
    BOOST_TEST_REQUIRE(b.client().get("/v1/households/" + h.id, l.auth()).status == 200);
  }

  auto del = a.call("DELETE", "/v1/households/" + h.id + "/members/" + m.id, l.auth());
  BOOST_TEST_REQUIRE(del.status == 204, describe(del));
  auto t0 = std::chrono::steady_clock::now();
  http_response last;
  auto took = settle(
    t0, [&] { return b.client().get("/v1/households/" + h.id, m.auth()); },
    [](const http_response& r) { return r.status != 200; }, last);
  BOOST_TEST(took >= 0.0, "B still served the removed member 3 s after the removal: " << describe(last));
  BOOST_TEST(took < 1.0, "B served the removed member for " << took << " s");
  BOOST_TEST(is_error(last, 404, "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
  BOOST_TEST(is_error(b.client().get("/v1/households/me", m.auth()), 404, "NOT_IN_HOUSEHOLD",
                      hmsg::not_in_household));
  auto lv = b.client().get("/v1/households/" + h.id, l.auth());
  BOOST_TEST(lv.json["household"]["memberCount"] == 1, lv.body);
  // The removed member's mutations are refused on B too.
  BOOST_TEST(is_error(b.client().call("POST", "/v1/households/" + h.id + "/welcome-ack", m.auth()), 404,
                      "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
}

BOOST_AUTO_TEST_CASE(a_rename_on_a_is_visible_on_b_within_a_second) {
  auto& a = client();
  service_process b;
  auto l = make_user("cr-leader@example.com");
  auto m = make_user("cr-member@example.com");
  auto h = create_household(a, l, "Before Rename");
  add_member(a, l, h, m);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST_REQUIRE(b.client().get("/v1/households/" + h.id, m.auth()).json["household"]["name"]
                       == "Before Rename");
  }
  auto patch = a.send_json("PATCH", "/v1/households/" + h.id, {{"name", "After Rename"}}, l.auth());
  BOOST_TEST_REQUIRE(patch.status == 200, describe(patch));
  auto t0 = std::chrono::steady_clock::now();
  http_response last;
  auto took = settle(
    t0, [&] { return b.client().get("/v1/households/" + h.id, m.auth()); },
    [](const http_response& r) {
      return r.status == 200 && r.json["household"]["name"] == "After Rename";
    },
    last);
  BOOST_TEST(took >= 0.0, "B still showed the old name 3 s after the rename: " << describe(last));
  BOOST_TEST(took < 1.0, "B showed the old name for " << took << " s");
  auto me = b.client().get("/v1/households/me", m.auth());
  BOOST_TEST(me.json["household"]["name"] == "After Rename", me.body);
}

BOOST_AUTO_TEST_CASE(a_leadership_transfer_on_a_applies_on_b_within_a_second) {
  auto& a = client();
  service_process b;
  auto l = make_user("cl-leader@example.com");
  auto m = make_user("cl-member@example.com");
  auto h = create_household(a, l, "Leader Home");
  add_member(a, l, h, m);
  for (int i = 0; i < 3; ++i) {
    auto r = b.client().get("/v1/households/" + h.id, l.auth());
    BOOST_TEST_REQUIRE(r.json["myRole"] == "leader", r.body);
  }
  auto t = a.post("/v1/households/" + h.id + "/leadership", {{"newLeaderId", m.id}}, l.auth());
  BOOST_TEST_REQUIRE(t.status == 200, describe(t));
  auto t0 = std::chrono::steady_clock::now();
  http_response last;
  auto took = settle(
    t0, [&] { return b.client().get("/v1/households/" + h.id, l.auth()); },
    [](const http_response& r) { return r.status == 200 && r.json["myRole"] == "member"; }, last);
  BOOST_TEST(took >= 0.0, "B still showed the old leader 3 s later: " << describe(last));
  BOOST_TEST(took < 1.0, "B showed the old leader for " << took << " s");
  BOOST_TEST(!last.json["household"].contains("inviteCode"), last.body);
  // The old leader's leader-only calls are refused on B.
  BOOST_TEST(is_error(b.client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "Still Mine"}}, l.auth()),
                      403, "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
}

BOOST_AUTO_TEST_SUITE_END()
