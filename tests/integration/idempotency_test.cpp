// Idempotency keys (SPEC §4.5) against the real binary: the stored answer is
// replayed without running the work again; reuse with another body is 422.

#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "fixtures/api_fixture.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;

header_list with_key(const std::string& token, const std::string& key) {
  auto h = api_fixture::auth_header(token);
  h.emplace_back("Idempotency-Key", key);
  return h;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(idempotency_tests, api_fixture)

BOOST_AUTO_TEST_CASE(replay_returns_the_stored_answer_and_does_the_work_once) {
  auto u = register_user("idem@example.com");
  auto first = client().post("/v1/households", json{{"name", "Idem House"}}, with_key(u.access, "create-1"));
  BOOST_TEST_REQUIRE(first.status == 201);
  BOOST_TEST(!first.has_header("Idempotent-Replayed"));
  auto again = client().post("/v1/households", json{{"name", "Idem House"}}, with_key(u.access, "create-1"));
  BOOST_TEST(again.status == 201);
  BOOST_TEST(again.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(again.json == first.json);
  BOOST_TEST(pg::count("SELECT count(*) FROM households") == 1);
  BOOST_TEST(pg::count("SELECT count(*) FROM idempotency_keys WHERE status = 'done' AND response_status = 201") == 1);
}

BOOST_AUTO_TEST_CASE(a_key_reused_for_another_body_is_refused) {
  auto u = register_user("idem2@example.com");
  auto first = client().post("/v1/households", json{{"name", "First House"}}, with_key(u.access, "k"));
  BOOST_TEST_REQUIRE(first.status == 201);
  auto other = client().post("/v1/households", json{{"name", "Other House"}}, with_key(u.access, "k"));
  BOOST_TEST(other.status == 422);
  BOOST_TEST(other.error_code() == "IDEMPOTENCY_KEY_REUSED");
  BOOST_TEST(other.error_message() == "This Idempotency-Key was already used for a different request.");
  BOOST_TEST(pg::count("SELECT count(*) FROM households") == 1);
}

BOOST_AUTO_TEST_CASE(validation_errors_are_stored_answers_too) {
  auto u = register_user("idem3@example.com");
  auto bad = client().post("/v1/households", json{{"name", "!!"}}, with_key(u.access, "bad"));
  BOOST_TEST(bad.status == 400);
  auto replay = client().post("/v1/households", json{{"name", "!!"}}, with_key(u.access, "bad"));
  BOOST_TEST(replay.status == 400);
  BOOST_TEST(replay.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(replay.error_code() == "INVALID_HOUSEHOLD_NAME");
}

BOOST_AUTO_TEST_CASE(racing_requests_with_one_key_do_the_work_once) {
  auto u = register_user("idem4@example.com");
  std::vector<long> statuses(12, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i)
    threads.emplace_back([&, i] {
      http_client c{client().base_url()};
      statuses[i] = c.post("/v1/households", json{{"name", "Race House"}}, with_key(u.access, "race")).status;
    });
  for (auto& t : threads)
    t.join();
  for (auto s : statuses)
    BOOST_TEST((s == 201 || s == 409), "status " << s);
  BOOST_TEST(pg::count("SELECT count(*) FROM households") == 1);
}

BOOST_AUTO_TEST_CASE(a_key_must_be_visible_ascii) {
  auto u = register_user("idem5@example.com");
  auto r = client().post("/v1/households", json{{"name", "Key House"}}, with_key(u.access, std::string(256, 'k')));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.error_code() == "VALIDATION_ERROR");
  BOOST_TEST(pg::count("SELECT count(*) FROM households") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
