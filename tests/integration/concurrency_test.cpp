// Concurrency rules of SPEC §4.4 (end) and §1.1 (every mutation locks the household row):
// many simultaneous requests, each thread with its own client, first against one instance,
// then spread over two service processes sharing PostgreSQL and Redis. After each round
// `household-service verify` must find the invariants I1–I5 intact.

#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using namespace fixtures::hh;
using nlohmann::json;
namespace hmsg = fixtures::hh::text;

/// The instances a round spreads its requests over (request i goes to i mod n).
struct topology {
  std::string name;
  std::vector<std::string> base_urls;
  const std::string& url_for(int i) const { return base_urls[static_cast<size_t>(i) % base_urls.size()]; }
};

/// Counts answers by "status CODE".
std::map<std::string, int> tally(const std::vector<http_response>& rs) {
  std::map<std::string, int> out;
  for (auto& r : rs)
    ++out[std::to_string(r.status) + (r.error_code().empty() ? "" : " " + r.error_code())
          + (r.transport_error.empty() ? "" : " transport:" + r.transport_error)];
  return out;
}

std::string show(const std::map<std::string, int>& t) {
  std::string s;
  for (auto& [k, v] : t)
    s += (s.empty() ? "" : ", ") + k + " x" + std::to_string(v);
  return s;
}

void require_verify(const std::string& round) {
  auto v = run_verify();
  BOOST_TEST(v.exit_status == 0, round << ": household-service verify: " << v.output);
}

/// Runs `round` against the shared instance alone, then against it and a second process.
class two_topologies {
public:
  explicit two_topologies(api_fixture& f) : f_(f) {}
  void run(const std::function<void(const topology&, const std::string& tag)>& round) {
    topology one{"one instance", {f_.api().base_url()}};
    BOOST_TEST_CONTEXT(one.name) { round(one, "one"); }
    service_process b;
    topology two{"two instances", {f_.api().base_url(), b.base_url()}};
    BOOST_TEST_CONTEXT(two.name) { round(two, "two"); }
  }

private:
  api_fixture& f_;
};

constexpr int parallel = 30;

} // namespace

BOOST_FIXTURE_TEST_SUITE(concurrency_tests, api_fixture)

BOOST_AUTO_TEST_CASE(concurrent_approvals_of_one_request_succeed_once) {
  two_topologies{*this}.run([&](const topology& topo, const std::string& tag) {
    auto l = make_user("ca-leader-" + tag + "@example.com");
    auto h = create_household(client(), l, "Approve Race " + tag);
    auto r = make_user("ca-requester-" + tag + "@example.com");
    auto rid = request_join(client(), r, h.code);
    auto answers = in_parallel(parallel, [&](int i) {
      http_client c{topo.url_for(i)};
      return c.call("POST", "/v1/join-requests/" + rid + "/approve", l.auth());
    });
    auto t = tally(answers);
    BOOST_TEST(t["200"] == 1, show(t));
    BOOST_TEST(t["409 REQUEST_ALREADY_ANSWERED"] == parallel - 1, show(t));
    for (auto& a : answers)
      if (a.status == 409)
        BOOST_TEST(is_error(a, 409, "REQUEST_ALREADY_ANSWERED", hmsg::already_answered("approved")));
    BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1", {r.id}) == 1);
    BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {rid}) == "approved");
    BOOST_TEST(audit_of(h.id, "join_request.approved").size() == 1u);
    BOOST_TEST(notifications_of(r.id, "join_request_approved").size() == 1u);
    require_verify(topo.name);
  });
}

BOOST_AUTO_TEST_CASE(one_free_seat_goes_to_exactly_one_approval) {
  two_topologies{*this}.run([&](const topology& topo, const std::string& tag) {
    auto l = make_user("seat-leader-" + tag + "@example.com");
    auto h = create_household(client(), l, "Seat Race " + tag);
    add_members(client(), l, h, 13, "seat-m-" + tag + "-");
    BOOST_TEST_REQUIRE(pg::count("SELECT count(*) FROM household_members WHERE household_id = $1"
                                 " AND status = 'active'",
                                 {h.id})
                       == 14);
    constexpr int n = 20;
    std::vector<std::string> rids;
    for (int i = 0; i < n; ++i) {
      auto u = make_user("seat-r-" + tag + "-" + std::to_string(i) + "@example.com");
      rids.push_back(request_join(client(), u, h.code));
    }
    auto answers = in_parallel(n, [&](int i) {
      http_client c{topo.url_for(i)};
      return c.call("POST", "/v1/join-requests/" + rids[static_cast<size_t>(i)] + "/approve", l.auth());
    });
    auto t = tally(answers);
    BOOST_TEST(t["200"] == 1, show(t));
    BOOST_TEST(t["409 HOUSEHOLD_AT_CAPACITY"] == n - 1, show(t));
    for (auto& a : answers)
      if (a.status == 409)
        BOOST_TEST(is_error(a, 409, "HOUSEHOLD_AT_CAPACITY", hmsg::at_capacity));
    BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE household_id = $1 AND status = 'active'",
                         {h.id})
               == 15);
    BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests WHERE household_id = $1"
                         " AND status = 'pending'",
                         {h.id})
               == n - 1, "the refused requests stay pending");
    require_verify(topo.name);
  });
}

BOOST_AUTO_TEST_CASE(concurrent_identical_joins_make_one_request) {
  two_topologies{*this}.run([&](const topology& topo, const std::string& tag) {
    auto l = make_user("cj-leader-" + tag + "@example.com");
    auto h = create_household(client(), l, "Join Race " + tag);
    auto u = make_user("cj-joiner-" + tag + "@example.com");
    auto answers = in_parallel(parallel, [&](int i) {
      http_client c{topo.url_for(i)};
      return c.post("/v1/households/join", {{"inviteCode", h.code}}, u.auth());
    });
    auto t = tally(answers);
    BOOST_TEST(t["201"] == 1, show(t));
    // Losers are refused as duplicates; a released reservation never causes a 429 (SPEC §3.9).
    BOOST_TEST(t["409 DUPLICATE_REQUEST"] == parallel - 1, show(t));
    BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests WHERE user_id = $1", {u.id}) == 1);
    BOOST_TEST(notifications_of(l.id, "join_request_received").size() == 1u);
    BOOST_TEST(audit_of(h.id, "join_request.created").size() == 1u);
    require_verify(topo.name);
  });
}

BOOST_AUTO_TEST_CASE(concurrent_creates_by_one_user_make_one_household) {
  two_topologies{*this}.run([&](const topology& topo, const std::string& tag) {
    auto u = make_user("cc-creator-" + tag + "@example.com");
    auto answers = in_parallel(parallel, [&](int i) {
      http_client c{topo.url_for(i)};
      return c.post("/v1/households", {{"name", "Create Race " + std::to_string(i)}}, u.auth());
    });
    auto t = tally(answers);
    BOOST_TEST(t["201"] == 1, show(t));
    BOOST_TEST(t["409 ALREADY_IN_HOUSEHOLD"] == parallel - 1, show(t));
    BOOST_TEST(pg::count("SELECT count(*) FROM households WHERE created_by = $1", {u.id}) == 1);
    BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1", {u.id}) == 1);
    require_verify(topo.name);
  });
}

BOOST_AUTO_TEST_CASE(concurrent_creates_drawing_from_a_crowded_code_space_all_succeed) {
  // One prefix has 26 × 26 codes; retire all but 26 of them, then create 30
  // households of that prefix at once. Every create draws many taken codes, so
  // the transactions' candidates overlap: waiting on another's candidate once
  // deadlocked two creates (500 "deadlock detected" in the shared harness).
  auto seed = make_user("cc-crowded-seed@example.com");
  auto h = create_household(client(), seed, "Crowded House");
  auto prefix = h.code.substr(0, h.code.find('-'));
  pg::query("INSERT INTO retired_invite_codes (code, household_id, reason) "
            "SELECT $1 || '-' || a || '-' || b, $2::uuid, 'regenerated' "
            "FROM unnest(string_to_array($3, ',')) a, unnest(string_to_array($3, ',')) b "
            "WHERE a <> 'ALPHA' ON CONFLICT DO NOTHING",
            {prefix, h.id,
             "ALPHA,BRAVO,CHARLIE,DELTA,ECHO,FOXTROT,GOLF,HOTEL,INDIA,JULIET,KILO,LIMA,MIKE,"
             "NOVEMBER,OSCAR,PAPA,QUEBEC,ROMEO,SIERRA,TANGO,UNIFORM,VICTOR,WHISKEY,XRAY,YANKEE,ZULU"});
  BOOST_TEST_REQUIRE(pg::count("SELECT count(*) FROM retired_invite_codes WHERE code LIKE $1",
                               {prefix + "-%"}) >= 600);
  std::vector<user> users;
  for (int i = 0; i < parallel; ++i)
    users.push_back(make_user("cc-crowded-" + std::to_string(i) + "@example.com"));
  auto answers = in_parallel(parallel, [&](int i) {
    return client().post("/v1/households", {{"name", "Crowded House " + std::to_string(i)}},
                         users[static_cast<size_t>(i)].auth());
  });
  auto t = tally(answers);
  BOOST_TEST(t["201"] == parallel, show(t));
  std::set<std::string> codes;
  for (auto& r : answers)
    if (r.status == 201)
      codes.insert(r.json["household"].value("inviteCode", ""));
  BOOST_TEST(codes.size() == static_cast<size_t>(parallel)); // all distinct
  require_verify("crowded codes");
}

BOOST_AUTO_TEST_CASE(concurrent_regenerations_serialise_and_only_the_last_code_lives) {
  two_topologies{*this}.run([&](const topology& topo, const std::string& tag) {
    auto l = make_user("cr-leader-" + tag + "@example.com");
    auto h = create_household(client(), l, "Regen Race " + tag);
    constexpr int n = 20; // code_regenerate allows 10 per household and day
    auto answers = in_parallel(n, [&](int i) {
      http_client c{topo.url_for(i)};
      return c.call("POST", "/v1/households/" + h.id + "/invite-code", l.auth());
    });
    auto t = tally(answers);
    BOOST_TEST(t["200"] == 10, show(t));
    BOOST_TEST(t["429 RATE_LIMIT_EXCEEDED"] == n - 10, show(t));
    std::vector<std::string> codes;
    for (auto& a : answers)
      if (a.status == 200)
        codes.push_back(a.json.value("inviteCode", ""));
    BOOST_TEST(std::set<std::string>(codes.begin(), codes.end()).size() == codes.size(), "codes are distinct");

    auto live = current_code(h.id);
    int live_count = 0;
    for (auto& c : codes)
      live_count += c == live ? 1 : 0;
    BOOST_TEST(live_count == 1, "the live code " << live << " is one of the returned codes");
    // Serialised: every regeneration retired exactly the code before it.
    BOOST_TEST(pg::count("SELECT count(*) FROM retired_invite_codes WHERE household_id = $1 AND reason = 'regenerated'",
                         {h.id})
               == 10);
    BOOST_TEST(pg::count("SELECT count(*) FROM retired_invite_codes WHERE code = $1", {h.code}) == 1);
    BOOST_TEST(audit_of(h.id, "invite_code.regenerated").size() == 10u);

    auto joiner = make_user("cr-joiner-" + tag + "@example.com");
    for (auto& c : codes) {
      if (c == live)
        continue;
      BOOST_TEST_CONTEXT("returned code " << c) {
        BOOST_TEST(pg::count("SELECT count(*) FROM retired_invite_codes WHERE code = $1", {c}) == 1);
        BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", c}}, joiner.auth()), 410,
                            "INVITE_CODE_REGENERATED", hmsg::code_regenerated));
      }
    }
    BOOST_TEST(client().post("/v1/households/join", {{"inviteCode", live}}, joiner.auth()).status == 201);
    require_verify(topo.name);
  });
}

BOOST_AUTO_TEST_SUITE_END()
