// Operational endpoints and lifecycle (SPEC §5, §6 strict mode, §8.4 shutdown):
// probe shapes, metrics, OpenAPI, readiness through PostgreSQL and Redis
// outages, a killed pool connection, SIGTERM draining, refused configuration.

#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <ctime>
#include <functional>
#include <future>
#include <iomanip>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

/// The value of the first sample of `family` whose label set contains every
/// `labels` item (e.g. `route="/v1/me"`); nullopt when there is none.
std::optional<double> sample(const std::string& text, const std::string& family,
                             const std::vector<std::string>& labels = {}) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    auto name_end = line.find_first_of("{ ");
    if (line.compare(0, name_end, family) != 0 || name_end != family.size())
      continue;
    auto value_at = line.rfind(' ');
    auto label_part = line.substr(name_end, value_at - name_end);
    bool all = true;
    for (auto& l : labels)
      all = all && label_part.find(l) != std::string::npos;
    if (all)
      return std::stod(line.substr(value_at + 1));
  }
  return std::nullopt;
}

json ready_checks(const std::string& db, const std::string& redis, const std::string& deps) {
  return {{"database", db}, {"redis", redis}, {"dependencies", deps}};
}

http_response ready(const service_process& p) {
  http_request r;
  r.path = "/health/ready";
  r.timeout_ms = 3000;
  return p.client().send(r);
}

/// Polls /health/ready until `pred` holds; the last answer is left in `last`.
bool ready_until(const service_process& p, http_response& last, milliseconds timeout,
                 const std::function<bool(const http_response&)>& pred) {
  return poll_until([&] { return pred(last = ready(p)); }, timeout, milliseconds{25});
}

double actor_restarts(const service_process& p) {
  return sample(p.client().get("/metrics").body, "actor_restarts_total",
                {"subsystem=\"database\""})
    .value_or(0);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(health_tests, api_fixture)

BOOST_AUTO_TEST_CASE(health_reports_status_time_and_version) {
  auto r = client().get("/health");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.header("Content-Type").value_or("") == "application/json; charset=utf-8");
  BOOST_TEST(r.json.size() == 3u, r.body);
  BOOST_TEST(r.json["status"] == "healthy");
  BOOST_TEST(r.json["version"] == PETCARE_VERSION);
  auto ts = r.json.value("timestamp", "");
  BOOST_TEST(std::regex_match(ts, std::regex{"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"}), ts);
  std::tm tm{};
  std::istringstream{ts} >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  BOOST_TEST(std::abs(static_cast<int64_t>(timegm(&tm)) - jwt::now_s()) <= 5, ts);
}

BOOST_AUTO_TEST_CASE(live_reports_uptime_and_usage) {
  auto r = client().get("/health/live");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json.size() == 4u, r.body);
  BOOST_TEST(r.json["status"] == "alive");
  BOOST_TEST(r.json["uptime"].is_number_integer());
  BOOST_TEST(r.json.value("uptime", -1) >= 0);
  for (const char* key : {"memoryUsage", "cpuUsage"}) {
    auto v = r.json.value(key, "");
    BOOST_TEST(std::regex_match(v, std::regex{"^(\\d|[1-9]\\d|100)%$"}), key << " = " << v);
  }
}

BOOST_AUTO_TEST_CASE(ready_reports_every_check_healthy) {
  auto r = ready(api());
  BOOST_TEST(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"status", "ready"}, {"checks", ready_checks("healthy", "healthy", "healthy")}}),
             r.body);
}

BOOST_AUTO_TEST_CASE(metrics_expose_the_required_families) {
  client().get("/v1/me");
  client().get("/v1/no-such-thing");
  auto r = client().get("/metrics");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.header("Content-Type").value_or("") == "text/plain; version=0.0.4; charset=utf-8");
  const auto& t = r.body;
  BOOST_TEST(sample(t, "http_requests_total", {"method=\"GET\"", "route=\"/v1/me\"", "status=\"401\""})
               .value_or(0) >= 1, "http_requests_total for GET /v1/me 401");
  BOOST_TEST(sample(t, "http_requests_total", {"route=\"unmatched\"", "status=\"404\""}).value_or(0) >= 1);
  BOOST_TEST(t.find("# TYPE http_request_duration_seconds histogram") != std::string::npos);
  for (std::string le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
                         "10", "+Inf"})
    BOOST_TEST(sample(t, "http_request_duration_seconds_bucket",
                      {"route=\"/v1/me\"", "le=\"" + le + "\""}).has_value(),
               "bucket le=\"" << le << "\"");
  BOOST_TEST(sample(t, "db_pool_max").value_or(-1) == 10);
  BOOST_TEST(sample(t, "process_resident_memory_bytes").value_or(0) > 0);
  BOOST_TEST(sample(t, "build_info", {"version=\"" PETCARE_VERSION "\""}).value_or(-1) == 1);
  for (const char* family : {"http_requests_in_flight", "household_actors_active",
                             "process_cpu_seconds_total", "process_start_time_seconds"})
    BOOST_TEST(sample(t, family).has_value(), family);
}

BOOST_AUTO_TEST_CASE(metrics_count_pool_timeouts_from_the_start_and_created_notifications) {
  const std::string token = "metrics-token-for-counting-0123456789";
  service_process p{env_overrides{{"METRICS_TOKEN", token}}}; // a fresh instance: counters start here
  const auto& c = p.client();
  auto metrics = [&] {
    auto r = c.get("/metrics", bearer(token));
    BOOST_TEST_REQUIRE(r.status == 200, describe(r));
    return r.body;
  };
  auto notifications = [&](const std::string& text, const std::string& type) {
    return sample(text, "notifications_created_total", {"type=\"" + type + "\""});
  };

  // An unlabelled family is present before its first event (SPEC §5).
  auto start = metrics();
  BOOST_TEST(sample(start, "db_pool_acquire_timeouts_total").value_or(-1) == 0,
             "db_pool_acquire_timeouts_total missing or not 0 right after start");
  BOOST_TEST(start.find("# TYPE db_pool_acquire_timeouts_total counter") != std::string::npos);
  BOOST_TEST(notifications(start, "join_request_received").value_or(0) == 0);

  // A join request notifies the leader: one join_request_received.
  auto l = hh::make_user("metrics-leader@example.com");
  auto u = hh::make_user("metrics-joiner@example.com");
  auto h = hh::create_household(c, l, "Metrics Home");
  auto rid = hh::request_join(c, u, h.code);
  auto after_join = metrics();
  BOOST_TEST(notifications(after_join, "join_request_received").value_or(-1) == 1,
             "notifications_created_total{type=\"join_request_received\"} after one join");
  BOOST_TEST(after_join.find("# TYPE notifications_created_total counter") != std::string::npos);
  // A refused join (409 DUPLICATE_REQUEST) writes no notification and counts none.
  BOOST_TEST(c.post("/v1/households/join", {{"inviteCode", h.code}}, u.auth()).status == 409);
  // The approval notifies the requester.
  hh::approve(c, l, rid);
  auto after_approve = metrics();
  BOOST_TEST(notifications(after_approve, "join_request_received").value_or(-1) == 1);
  BOOST_TEST(notifications(after_approve, "join_request_approved").value_or(-1) == 1);
  BOOST_TEST(pg::count("SELECT count(*) FROM notifications") == 2, "the counters match the rows");
  BOOST_TEST(sample(after_approve, "db_pool_acquire_timeouts_total").value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(metrics_token_and_app_version_are_honoured) {
  const std::string token = "metrics-token-for-tests-0123456789";
  service_process p{env_overrides{{"METRICS_TOKEN", token}, {"APP_VERSION", "9.8.7-test"}}};
  const auto& c = p.client();
  for (const header_list& h : {header_list{}, bearer("wrong-token"), bearer(token + "x"),
                               header_list{{"Authorization", "Basic " + token}}}) {
    auto r = c.get("/metrics", h);
    BOOST_TEST(r.status == 401, describe(r));
    BOOST_TEST(r.body.find("http_requests_total") == std::string::npos);
  }
  auto ok = c.get("/metrics", bearer(token));
  BOOST_TEST_REQUIRE(ok.status == 200, describe(ok));
  BOOST_TEST(sample(ok.body, "build_info", {"version=\"9.8.7-test\""}).value_or(-1) == 1);
  BOOST_TEST(c.get("/health").json["version"] == "9.8.7-test");
  BOOST_TEST(c.get("/openapi.json").json["info"]["version"] == "9.8.7-test");
}

BOOST_AUTO_TEST_CASE(openapi_describes_the_v1_operations) {
  auto r = client().get("/openapi.json");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.header("Content-Type").value_or("") == "application/json; charset=utf-8");
  const auto& doc = r.json;
  BOOST_TEST_REQUIRE(doc.is_object());
  BOOST_TEST(doc.value("openapi", "").rfind("3.1", 0) == 0u, doc.value("openapi", "<none>"));
  BOOST_TEST(doc["info"]["version"] == client().get("/health").json["version"]);
  BOOST_TEST_REQUIRE(doc["paths"].is_object());
  for (auto [path, method] : {std::pair{"/v1/auth/register", "post"}, std::pair{"/v1/auth/login", "post"},
                              std::pair{"/v1/auth/refresh", "post"}, std::pair{"/v1/auth/logout", "post"},
                              std::pair{"/v1/me", "get"}}) {
    BOOST_TEST_CONTEXT(method << " " << path) {
      BOOST_TEST_REQUIRE(doc["paths"].contains(path));
      BOOST_TEST_REQUIRE(doc["paths"][path].contains(method));
      BOOST_TEST(doc["paths"][path][method]["responses"].is_object());
    }
  }
  // Every documented operation is one the service routes (no 405, no unmatched 404).
  const std::regex param{"\\{[^}]+\\}"};
  for (auto& [path, ops] : doc["paths"].items()) {
    BOOST_TEST(path.rfind("/v1/", 0) == 0u, path);
    for (auto& [method, op] : ops.items()) {
      std::string m = method;
      for (auto& ch : m)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      auto concrete = std::regex_replace(path, param, "00000000-0000-4000-8000-000000000000");
      auto answer = client().call(m, concrete);
      BOOST_TEST(answer.status != 405, m << " " << path << ": " << describe(answer));
      BOOST_TEST(answer.status != 0, m << " " << path << ": " << describe(answer));
      if (concrete == path)
        BOOST_TEST(answer.status != 404, m << " " << path << ": " << describe(answer));
    }
  }
}

BOOST_AUTO_TEST_CASE(postgres_outage_fails_closed_and_recovers_without_restart) {
  service_process p;
  auto u = register_user("outage@example.com", "correct horse battery", "Out", &p.client());
  BOOST_TEST_REQUIRE(p.client().get("/v1/me", auth_header(u.access)).status == 200);

  services::outage pg_down{"pg"};
  BOOST_TEST_REQUIRE(pg_down.stop_status() == 0);
  auto t0 = std::chrono::steady_clock::now();
  http_response last;
  BOOST_TEST(ready_until(p, last, seconds{4}, [](auto& r) { return r.status == 503; }), describe(last));
  BOOST_TEST_MESSAGE("readiness 503 after " << seconds_since(t0) << " s");
  BOOST_TEST(seconds_since(t0) < 2.0, "readiness turned 503 only after " << seconds_since(t0) << " s");
  BOOST_TEST(last.json["status"] == "not_ready", last.body);
  BOOST_TEST(last.json["checks"]["database"] == "unhealthy", last.body);

  http_request me;
  me.path = "/v1/me";
  me.headers = auth_header(u.access);
  me.timeout_ms = 8000;
  auto refused = p.client().send(me);
  BOOST_TEST(is_error(refused, 503, "SERVICE_UNAVAILABLE", msg::service_unavailable));
  BOOST_TEST(refused.header("Retry-After").value_or("") == "5");
  BOOST_TEST(refused.seconds < 2.0, "/v1/me took " << refused.seconds << " s while PostgreSQL was down");

  BOOST_TEST_REQUIRE(pg_down.end() == 0);
  auto t1 = std::chrono::steady_clock::now();
  BOOST_TEST(ready_until(p, last, seconds{8}, [](auto& r) { return r.status == 200; }), describe(last));
  BOOST_TEST_MESSAGE("ready again after " << seconds_since(t1) << " s");
  BOOST_TEST(seconds_since(t1) < 5.0, "ready again only after " << seconds_since(t1) << " s");
  BOOST_TEST(last.json["status"] == "ready", last.body);
  http_response back;
  BOOST_TEST(poll_until([&] { return (back = p.client().send(me)).status == 200; }, seconds{1}),
             describe(back));
  BOOST_TEST(p.running());
}

BOOST_AUTO_TEST_CASE(redis_outage_degrades_but_keeps_serving) {
  service_process p;
  auto u = register_user("degraded@example.com", "correct horse battery", "Deg", &p.client());

  services::outage redis_down{"redis"};
  BOOST_TEST_REQUIRE(redis_down.stop_status() == 0);
  http_response last;
  BOOST_TEST(ready_until(p, last, seconds{5},
                         [](auto& r) { return r.json.is_object() && r.json.value("status", "") == "degraded"; }),
             describe(last));
  BOOST_TEST(last.status == 200);
  BOOST_TEST(last.json["checks"] == ready_checks("healthy", "unhealthy", "healthy"), last.body);

  BOOST_TEST(p.client().get("/v1/me", auth_header(u.access)).status == 200);
  auto login = p.client().post("/v1/auth/login", {{"email", u.email}, {"password", u.password}});
  BOOST_TEST_REQUIRE(login.status == 200, describe(login));
  auto access = login.json["accessToken"].get<std::string>();
  BOOST_TEST(p.client().get("/v1/me", auth_header(access)).status == 200);
  // Sessions are checked in PostgreSQL meanwhile: a logout still takes effect at once.
  BOOST_TEST(p.client().call("POST", "/v1/auth/logout", auth_header(access)).status == 204);
  BOOST_TEST(is_error(p.client().get("/v1/me", auth_header(access)), 401, "INVALID_TOKEN",
                      msg::invalid_token));

  BOOST_TEST_REQUIRE(redis_down.end() == 0);
  BOOST_TEST(ready_until(p, last, seconds{10},
                         [](auto& r) { return r.json.is_object() && r.json.value("status", "") == "ready"; }),
             describe(last));
  BOOST_TEST(p.client().get("/v1/me", auth_header(u.access)).status == 200);
}

BOOST_AUTO_TEST_CASE(killed_pool_connections_are_replaced) {
  service_process p;
  auto u = register_user("killed@example.com", "correct horse battery", "Kil", &p.client());
  BOOST_TEST_REQUIRE(p.client().get("/v1/me", auth_header(u.access)).status == 200);
  auto before = actor_restarts(p);

  auto killed = pg::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                          " AND application_name <> 'psql'");
  BOOST_TEST_REQUIRE(!killed.empty(), "no pool connection was found to kill");

  // Subsequent requests succeed within a few seconds (each needs the database).
  auto t0 = std::chrono::steady_clock::now();
  int ok_in_a_row = 0;
  http_response last;
  BOOST_TEST(poll_until(
               [&] {
                 last = p.client().post("/v1/auth/login", {{"email", u.email}, {"password", u.password}});
                 ok_in_a_row = last.status == 200 ? ok_in_a_row + 1 : 0;
                 return ok_in_a_row >= 3;
               },
               seconds{5}, milliseconds{50}),
             describe(last));
  BOOST_TEST(seconds_since(t0) < 5.0);
  double after = 0;
  BOOST_TEST(poll_until([&] { return (after = actor_restarts(p)) > before; }, seconds{5}),
             "actor_restarts_total{subsystem=\"database\"} stayed at " << before);
  BOOST_TEST(ready(p).status == 200);
}

BOOST_AUTO_TEST_CASE(sigterm_turns_unready_at_once_drains_and_exits_zero) {
  // A costlier password hash makes the login slow enough to be in flight at the signal.
  service_process p{env_overrides{{"PASSWORD_HASH_OPSLIMIT", "4"},
                                  {"PASSWORD_HASH_MEMLIMIT_KIB", "65536"},
                                  {"SHUTDOWN_DRAIN_DELAY_MS", "1000"}}};
  auto u = register_user("drain@example.com", "correct horse battery", "Dra", &p.client());
  // A resident household actor (idle timeout 5 min) must not hold the exit back.
  auto created = p.client().post("/v1/households", {{"name", "Drain House"}}, auth_header(u.access));
  BOOST_TEST_REQUIRE(created.status == 201, describe(created));
  BOOST_TEST_REQUIRE(p.client().get("/v1/households/me", auth_header(u.access)).status == 200);
  auto started = std::chrono::steady_clock::now();
  auto in_flight = std::async(std::launch::async, [&] {
    return p.client().post("/v1/auth/login", {{"email", u.email}, {"password", u.password}});
  });
  std::this_thread::sleep_for(milliseconds{30});
  p.stop(SIGTERM);
  auto t0 = std::chrono::steady_clock::now();

  http_response last;
  BOOST_TEST(ready_until(p, last, seconds{2}, [](auto& r) { return r.status == 503; }), describe(last));
  BOOST_TEST_MESSAGE("readiness 503 " << seconds_since(t0) << " s after SIGTERM");
  BOOST_TEST(seconds_since(t0) < 0.2, "readiness turned 503 after " << seconds_since(t0) << " s");
  BOOST_TEST(last.json["status"] == "not_ready", last.body);
  // Still serving while load balancers deregister.
  BOOST_TEST(p.client().get("/health").status == 200);

  auto login = in_flight.get();
  BOOST_TEST(login.status == 200, describe(login));
  BOOST_TEST(login.json.contains("accessToken"));
  const double signal_at = std::chrono::duration<double>(t0 - started).count();
  BOOST_TEST_MESSAGE("login took " << login.seconds << " s, SIGTERM after " << signal_at << " s");
  BOOST_TEST(login.seconds > signal_at,
             "the login (" << login.seconds << " s) ended before SIGTERM (" << signal_at << " s)");

  auto status = p.wait_exit(milliseconds{1000 + 5000});
  BOOST_TEST_REQUIRE(status.has_value(), "still running " << seconds_since(t0) << " s after SIGTERM");
  BOOST_TEST(*status == 0, p.log_tail());
  BOOST_TEST(seconds_since(t0) >= 0.9, "exited before SHUTDOWN_DRAIN_DELAY_MS had passed");
}

BOOST_AUTO_TEST_CASE(strict_mode_refuses_a_missing_or_weak_jwt_secret) {
  // Everything else is valid for production, so JWT_SECRET is the only problem;
  // the control run with a good secret proves that.
  const env_overrides production{{"APP_ENV", "production"},
                                 {"PUBLIC_APP_URL", "https://app.example.com"},
                                 {"CORS_ORIGINS", "https://app.example.com"},
                                 {"ENABLE_EMAIL_INVITES", "false"},
                                 {"PASSWORD_HASH_OPSLIMIT", "2"},
                                 {"PASSWORD_HASH_MEMLIMIT_KIB", "19456"}};
  for (std::optional<std::string> secret : {std::optional<std::string>{},
                                            std::optional<std::string>{"changeme"},
                                            std::optional<std::string>{std::string(40, 'x')}}) {
    BOOST_TEST_CONTEXT("JWT_SECRET " << secret.value_or("<unset>")) {
      service_process::options o;
      o.env = production;
      o.env["JWT_SECRET"] = secret;
      o.wait_ready = false;
      service_process p{o};
      auto status = p.wait_exit(seconds{15});
      BOOST_TEST_REQUIRE(status.has_value(), "a refused configuration must stop the process");
      BOOST_TEST(*status == 78, p.log_tail());
      auto err = p.stderr_text();
      std::istringstream lines{err};
      int problems = 0, naming = 0;
      for (std::string line; std::getline(lines, line);) {
        problems += line.empty() ? 0 : 1;
        naming += line.find("JWT_SECRET") != std::string::npos ? 1 : 0;
      }
      BOOST_TEST(naming == 1, err);
      BOOST_TEST(problems == 1, err);
      if (secret)
        BOOST_TEST(err.find(*secret) == std::string::npos, "the value was printed: " << err);
      BOOST_TEST(p.stdout_text().find("service.started") == std::string::npos);
    }
  }
  auto good = production;
  good["JWT_SECRET"] = "a-production-grade-secret-7f3c9e1b5d2a8f4c6e0b";
  service_process control{good};
  BOOST_TEST(ready(control).status == 200);
  // Strict mode also adds HSTS (SPEC §9).
  auto h = control.client().get("/health");
  BOOST_TEST(h.header("Strict-Transport-Security").value_or("<absent>") == "max-age=31536000");
}

BOOST_AUTO_TEST_SUITE_END()
