// Idempotency keys (SPEC §4.5) against the real binary: the stored answer is
// replayed without running the work again; reuse with another body or another
// resource is 422; a 429 is not kept; answers carrying tokens are stored sealed.

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <thread>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;

const std::string key_reused = "This Idempotency-Key was already used for a different request.";

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The stored (response_status, response_body) of `key`; empty when no row is left.
pg::rows stored_answer(const std::string& key) {
  return pg::query("SELECT response_status::text, response_body FROM idempotency_keys WHERE key = $1", {key});
}

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

BOOST_AUTO_TEST_CASE(a_key_is_bound_to_the_concrete_path_not_the_route_template) {
  auto l = hh::make_user("idem-path-leader@example.com");
  auto h = hh::create_household(client(), l, "Path Home");
  auto a = hh::make_user("idem-path-a@example.com");
  auto b = hh::make_user("idem-path-b@example.com");
  auto r1 = hh::request_join(client(), a, h.code);
  auto r2 = hh::request_join(client(), b, h.code);
  auto k = with_key(l.token, "approve-k");

  auto first = client().call("POST", "/v1/join-requests/" + r1 + "/approve", k);
  BOOST_TEST_REQUIRE(first.status == 200, describe(first));
  BOOST_TEST(!first.has_header("Idempotent-Replayed"));
  BOOST_TEST(first.json["member"]["userId"] == a.id);

  // Same method, same template, same (empty) body, another request id: another request.
  auto second = client().call("POST", "/v1/join-requests/" + r2 + "/approve", k);
  BOOST_TEST(is_error(second, 422, "IDEMPOTENCY_KEY_REUSED", key_reused));
  BOOST_TEST(!second.has_header("Idempotent-Replayed"));
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {r2}) == "pending");
  BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1", {b.id}) == 0);
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {r1}) == "approved");
  auto row = stored_answer("approve-k");
  BOOST_TEST_REQUIRE(row.size() == 1u, "the 422 leaves the first answer in place");
  BOOST_TEST(row[0][0].value_or("") == "200");

  // An upper-case UUID names the same resource: a replay of the first answer.
  auto shouted = client().call("POST", "/v1/join-requests/" + upper(r1) + "/approve", k);
  BOOST_TEST(shouted.status == 200, describe(shouted));
  BOOST_TEST(shouted.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(shouted.body == first.body);
  BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE user_id = $1", {a.id}) == 1);
  BOOST_TEST(hh::audit_of(h.id, "join_request.approved").size() == 1u);

  // R2 itself is untouched and can be approved with a key of its own.
  auto own = client().call("POST", "/v1/join-requests/" + r2 + "/approve", with_key(l.token, "approve-r2"));
  BOOST_TEST(own.status == 200, describe(own));
  BOOST_TEST(!own.has_header("Idempotent-Replayed"));
  BOOST_TEST(own.json["member"]["userId"] == b.id);
}

BOOST_AUTO_TEST_CASE(a_rate_limited_answer_is_not_stored) {
  auto u = hh::make_user("idem-429@example.com");
  for (int i = 0; i < 5; ++i) {
    auto h = hh::create_household(client(), u, "Limit Home " + std::string(1, static_cast<char>('A' + i)));
    auto lv = client().call("POST", "/v1/households/" + h.id + "/leave", u.auth());
    BOOST_TEST_REQUIRE(lv.status == 200, describe(lv));
  }
  const std::string msg = "Too many households created. Please try again tomorrow.";
  auto limited = client().post("/v1/households", {{"name", "Limit Home F"}}, with_key(u.token, "create-6"));
  BOOST_TEST(is_error(limited, 429, "RATE_LIMIT_EXCEEDED", msg));
  BOOST_TEST(!limited.has_header("Idempotent-Replayed"));
  BOOST_TEST(stored_answer("create-6").empty(), "the claimed key is dropped with the 429");
  BOOST_TEST(pg::count("SELECT count(*) FROM idempotency_keys WHERE response_status = 429") == 0);

  // The retry with the same key runs again (a fresh 429 with its Retry-After), not a replay.
  auto retry = client().post("/v1/households", {{"name", "Limit Home F"}}, with_key(u.token, "create-6"));
  BOOST_TEST(is_error(retry, 429, "RATE_LIMIT_EXCEEDED", msg));
  BOOST_TEST(!retry.has_header("Idempotent-Replayed"));
  BOOST_TEST(stored_answer("create-6").empty());
  BOOST_TEST(pg::count("SELECT count(*) FROM households WHERE created_by = $1", {u.id}) == 5);
}

BOOST_AUTO_TEST_CASE(answers_carrying_tokens_are_stored_sealed) {
  auto u = register_user("idem-seal@example.com");
  auto check_sealed = [](const std::string& key, const http_response& answer) {
    auto row = stored_answer(key);
    BOOST_TEST_REQUIRE(row.size() == 1u, "no stored answer for " << key);
    BOOST_TEST(row[0][0].value_or("") == std::to_string(answer.status));
    auto body = row[0][1].value_or("");
    BOOST_TEST(body.rfind("sealed:v1:", 0) == 0u, key << " stored as: " << body.substr(0, 80));
    for (const char* field : {"accessToken", "refreshToken"}) {
      auto token = answer.json.value(field, std::string{});
      BOOST_TEST_REQUIRE(!token.empty(), answer.body);
      BOOST_TEST(body.find(token) == std::string::npos, key << ": stored body contains the " << field);
      auto secret = token.substr(token.rfind('.') + 1); // the refresh secret, the JWT signature
      BOOST_TEST(body.find(secret) == std::string::npos, key << ": stored body contains part of the " << field);
      BOOST_TEST(body.find(field) == std::string::npos, key << ": stored body is readable JSON");
    }
  };

  // refresh
  header_list k{{"Idempotency-Key", "refresh-1"}};
  auto first = client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}}, k);
  BOOST_TEST_REQUIRE(first.status == 200, describe(first));
  check_sealed("refresh-1", first);
  auto replay = client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}}, k);
  BOOST_TEST(replay.status == 200, describe(replay));
  BOOST_TEST(replay.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(replay.body == first.body, "the replay is byte for byte the first answer");
  BOOST_TEST(replay.header("Content-Type").value_or("") == "application/json; charset=utf-8");
  // Not run twice: the session is not revoked for reuse, and the replayed tokens work.
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE id = $1 AND revoked_at IS NULL", {u.sid}) == 1);
  BOOST_TEST(client().get("/v1/me", auth_header(replay.json.value("accessToken", ""))).status == 200);

  // login and register
  header_list lk{{"Idempotency-Key", "login-1"}};
  json login{{"email", u.email}, {"password", u.password}};
  auto in = client().post("/v1/auth/login", login, lk);
  BOOST_TEST_REQUIRE(in.status == 200, describe(in));
  check_sealed("login-1", in);
  auto in_again = client().post("/v1/auth/login", login, lk);
  BOOST_TEST(in_again.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(in_again.body == in.body);
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE user_id = $1", {u.id}) == 2);

  header_list rk{{"Idempotency-Key", "register-1"}};
  json reg{{"email", "idem-seal2@example.com"}, {"password", "correct horse battery"}, {"displayName", "Seal"}};
  auto created = client().post("/v1/auth/register", reg, rk);
  BOOST_TEST_REQUIRE(created.status == 201, describe(created));
  check_sealed("register-1", created);
  auto created_again = client().post("/v1/auth/register", reg, rk);
  BOOST_TEST(created_again.status == 201, describe(created_again));
  BOOST_TEST(created_again.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(created_again.body == created.body);
  BOOST_TEST(pg::count("SELECT count(*) FROM users WHERE email = 'idem-seal2@example.com'") == 1);
}

BOOST_AUTO_TEST_CASE(answers_without_secrets_are_stored_as_plain_json) {
  auto l = hh::make_user("idem-plain@example.com");
  auto h = hh::create_household(client(), l, "Plain Home");
  auto k = with_key(l.token, "patch-1");
  auto first = client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "Plainer Home"}}, k);
  BOOST_TEST_REQUIRE(first.status == 200, describe(first));
  auto row = stored_answer("patch-1");
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(row[0][0].value_or("") == "200");
  auto body = row[0][1].value_or("");
  BOOST_TEST(body.rfind("sealed:", 0) == std::string::npos, body);
  BOOST_TEST(json::parse(body, nullptr, false) == first.json, body);
  auto replay = client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "Plainer Home"}}, k);
  BOOST_TEST(replay.header("Idempotent-Replayed").value_or("") == "true");
  BOOST_TEST(replay.body == first.body);
  BOOST_TEST(hh::audit_of(h.id, "household.updated").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
