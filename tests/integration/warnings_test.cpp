// Expiry warnings (SPEC §3.5, §7.1, §7.4) with several instances sweeping at once: a
// temporary member whose end is ≤ 7, ≤ 3 or ≤ 1 day away gets exactly one warning at the
// most urgent level due (member and leader, `temporary_access_expiring`), the level is
// stored in `household_members.last_warning_days`, is never repeated, and a more urgent
// level later warns once more. End dates are placed directly in PostgreSQL while the
// sweeps are paused (advisory lock 7101 held), then three instances (the shared one and
// two with EXPIRY_SWEEP_INTERVAL_MS=100) race for the ticks.

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using namespace fixtures::hh;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct placed {
  user u;
  std::string interval;          ///< end = now() + interval (SQL)
  std::optional<int> prior;      ///< last_warning_days before the sweep
  std::optional<int> level;      ///< expected warning level (none: no warning)
  int days = 0;                  ///< expected {n}
};

/// Warnings about `member_id` sent to `to`.
std::vector<notification> warnings_about(const std::string& to, const std::string& member_id) {
  std::vector<notification> out;
  for (auto& n : notifications_of(to, "temporary_access_expiring"))
    if (n.data.value("memberUserId", "") == member_id)
      out.push_back(n);
  return out;
}

std::optional<int> last_warning(const std::string& hid, const std::string& uid) {
  auto v = pg::scalar("SELECT coalesce(last_warning_days::text, '') FROM household_members"
                      " WHERE household_id = $1 AND user_id = $2 AND is_temporary ORDER BY joined_at DESC LIMIT 1",
                      {hid, uid});
  if (v.empty())
    return std::nullopt;
  return std::stoi(v);
}

std::string n_days(int n) { return std::to_string(n) + (n == 1 ? " day" : " days"); }

} // namespace

BOOST_FIXTURE_TEST_SUITE(warnings_tests, api_fixture)

BOOST_AUTO_TEST_CASE(each_level_warns_exactly_once_with_concurrent_sweeps) {
  auto& a = client();
  env_overrides fast{{"EXPIRY_SWEEP_INTERVAL_MS", "100"}};
  service_process b{fast};
  service_process c{fast};
  auto l = make_user("wn-leader@example.com", "Warn Leader");
  auto h = create_household(a, l, "Warning Home");

  std::vector<placed> cases = {
    {make_user("wn-6d@example.com", "Six Days"), "6 days", std::nullopt, 7, 6},
    {make_user("wn-7d@example.com", "Seven Days"), "6 days 23 hours 59 minutes", std::nullopt, 7, 7},
    {make_user("wn-8d@example.com", "Eight Days"), "8 days", std::nullopt, std::nullopt, 0},
    {make_user("wn-2d12h@example.com", "Two And Half"), "2 days 12 hours", std::nullopt, 3, 3},
    {make_user("wn-3d@example.com", "Three Days"), "2 days 23 hours 59 minutes", 7, 3, 3},
    {make_user("wn-20h@example.com", "Twenty Hours"), "20 hours", std::nullopt, 1, 1},
    {make_user("wn-1h@example.com", "One Hour"), "1 hour", 3, 1, 1},
    {make_user("wn-done3@example.com", "Done Three"), "2 days", 3, std::nullopt, 0},
    {make_user("wn-done1@example.com", "Done One"), "10 hours", 1, std::nullopt, 0},
  };
  for (auto& k : cases)
    add_member(a, l, h, k.u, {{"isTemporary", true}, {"temporaryExpiresAt", from_now(std::chrono::hours{24 * 30})}});

  {
    sweep_pause pause; // no tick runs while the ends are placed
    for (auto& k : cases)
      pg::query("UPDATE household_members SET temporary_expires_at = now() + $3::interval,"
                " last_warning_days = NULLIF($4, '')::int WHERE household_id = $1 AND user_id = $2 AND status = 'active'",
                {h.id, k.u.id, k.interval, k.prior ? std::to_string(*k.prior) : std::string{}});
    for (auto& k : cases)
      BOOST_TEST_REQUIRE((last_warning(h.id, k.u.id) == k.prior));
    BOOST_TEST_REQUIRE(pg::count("SELECT count(*) FROM notifications WHERE type = 'temporary_access_expiring'") == 0);
  }

  // Many ticks on three instances.
  BOOST_TEST_REQUIRE(poll_until(
    [&] {
      for (auto& k : cases)
        if (k.level && last_warning(h.id, k.u.id) != k.level)
          return false;
      return true;
    },
    seconds{10}, milliseconds{100}));
  std::this_thread::sleep_for(seconds{2}); // ~20 more ticks each on B and C

  for (auto& k : cases) {
    auto mine = warnings_about(k.u.id, k.u.id);
    auto leaders = warnings_about(l.id, k.u.id);
    BOOST_TEST_CONTEXT(k.u.email << " (end in " << k.interval << ")") {
      if (!k.level) {
        BOOST_TEST(mine.empty());
        BOOST_TEST(leaders.empty());
        BOOST_TEST((last_warning(h.id, k.u.id) == k.prior));
        continue;
      }
      BOOST_TEST_REQUIRE(mine.size() == 1u, "member warnings: " << mine.size());
      BOOST_TEST_REQUIRE(leaders.size() == 1u, "leader warnings: " << leaders.size());
      BOOST_TEST((last_warning(h.id, k.u.id) == k.level));
      auto& m = mine[0];
      BOOST_TEST(m.title == "Temporary access expiring soon");
      BOOST_TEST(m.body == "Your temporary access to Warning Home expires in " + n_days(k.days));
      BOOST_TEST(m.data["thresholdDays"] == *k.level, m.data.dump());
      BOOST_TEST(m.data["householdId"] == h.id);
      BOOST_TEST(m.data["memberUserId"] == k.u.id);
      auto end = pg::scalar("SELECT to_char(temporary_expires_at AT TIME ZONE 'UTC',"
                            " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM household_members"
                            " WHERE household_id = $1 AND user_id = $2 AND status = 'active'",
                            {h.id, k.u.id});
      BOOST_TEST(m.data["expiresAt"] == end, m.data.dump());
      BOOST_TEST(leaders[0].body == k.u.display_name + "'s temporary access expires in " + n_days(k.days));
      BOOST_TEST(leaders[0].data == m.data);
    }
  }

  // A more urgent level later: the 6-day member now 12 hours away warns once more (level 1),
  // the level-1 members never again.
  pg::query("UPDATE household_members SET temporary_expires_at = now() + interval '12 hours'"
            " WHERE household_id = $1 AND user_id = $2 AND status = 'active'",
            {h.id, cases[0].u.id});
  BOOST_TEST_REQUIRE(poll_until([&] { return last_warning(h.id, cases[0].u.id) == 1; }, seconds{10}));
  std::this_thread::sleep_for(seconds{1});
  auto again = warnings_about(cases[0].u.id, cases[0].u.id);
  BOOST_TEST_REQUIRE(again.size() == 2u);
  BOOST_TEST(again[1].data["thresholdDays"] == 1);
  BOOST_TEST(again[1].body == "Your temporary access to Warning Home expires in 1 day");
  BOOST_TEST(warnings_about(l.id, cases[0].u.id).size() == 2u);
  BOOST_TEST(warnings_about(cases[5].u.id, cases[5].u.id).size() == 1u);
  BOOST_TEST(warnings_about(cases[6].u.id, cases[6].u.id).size() == 1u);
  // Exactly one pair per (member, level) overall.
  BOOST_TEST(pg::count("SELECT count(*) FROM (SELECT user_id, data->>'memberUserId', data->>'thresholdDays'"
                       " FROM notifications WHERE type = 'temporary_access_expiring'"
                       " GROUP BY 1, 2, 3 HAVING count(*) > 1) d")
             == 0);
}

BOOST_AUTO_TEST_CASE(an_end_that_passed_expires_once_with_concurrent_sweeps) {
  auto& a = client();
  env_overrides fast{{"EXPIRY_SWEEP_INTERVAL_MS", "100"}};
  service_process b{fast};
  service_process c{fast};
  auto l = make_user("wx-leader@example.com", "Expiry Leader");
  auto h = create_household(a, l, "Expiry Home");
  std::vector<user> members;
  for (int i = 0; i < 4; ++i) {
    members.push_back(make_user("wx-" + std::to_string(i) + "@example.com", "Gone " + std::to_string(i)));
    add_member(a, l, h, members.back(),
               {{"isTemporary", true}, {"temporaryExpiresAt", from_now(std::chrono::hours{24 * 30})}});
  }
  {
    sweep_pause pause;
    for (auto& m : members)
      pg::query("UPDATE household_members SET temporary_expires_at = now() - interval '1 minute'"
                " WHERE household_id = $1 AND user_id = $2 AND status = 'active'",
                {h.id, m.id});
  }
  BOOST_TEST_REQUIRE(poll_until(
    [&] {
      return pg::count("SELECT count(*) FROM household_members WHERE household_id = $1 AND status = 'expired'",
                       {h.id})
             == 4;
    },
    seconds{10}));
  std::this_thread::sleep_for(seconds{1});
  for (auto& m : members) {
    BOOST_TEST(notifications_of(m.id, "temporary_access_expired").size() == 1u);
    // No warning for an end that has already passed.
    BOOST_TEST(notifications_of(m.id, "temporary_access_expiring").empty());
  }
  BOOST_TEST(notifications_of(l.id, "temporary_access_expired").size() == 4u);
  BOOST_TEST(audit_of(h.id, "temporary_access.expired").size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
