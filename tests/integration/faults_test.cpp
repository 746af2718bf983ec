// Fault injection beyond the clean outages of health_test.cpp (issue #6):
// PostgreSQL frozen with SIGSTOP for 10 s. The sockets stay open and the
// kernel keeps accepting TCP connections into the listen backlog, but nothing
// answers: the failure mode of a stalled database host or a long GC-like pause,
// which a clean stop (connection refused) does not exercise.
//
// Expected (SPEC §5, §4.2, issue #6): requests fail fast with 503 (every
// answer within a bounded time, no hang until the request timeout), the
// service's thread count stays bounded, /health/ready is 503 during the
// freeze, and after SIGCONT the same process is ready again within 5 s.
// One 10 s freeze serves both cases: the first checks answers, readiness,
// threads and recovery; the second the answer times (a known defect today).
//
// The processes frozen are those of the test's own cluster only: the
// postmaster named by $TEST_SERVICES_DIR/pg/postmaster.pid and its children,
// never anything found by name (other PostgreSQL clusters run on this host).

#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using clock_type = std::chrono::steady_clock;

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// The postmaster of the test cluster: first line of DIR/pg/postmaster.pid,
/// checked to be a live postgres process whose data directory is DIR/pg.
pid_t test_postmaster() {
  const char* dir = std::getenv("TEST_SERVICES_DIR");
  BOOST_TEST_REQUIRE(dir != nullptr, "TEST_SERVICES_DIR must be set");
  std::istringstream pidfile{slurp(std::string{dir} + "/pg/postmaster.pid")};
  std::string pid_line, datadir;
  std::getline(pidfile, pid_line);
  std::getline(pidfile, datadir);
  BOOST_TEST_REQUIRE(!pid_line.empty(), "no postmaster.pid in " << dir << "/pg");
  pid_t pid = static_cast<pid_t>(std::stol(pid_line));
  auto cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline");
  BOOST_TEST_REQUIRE(cmdline.find("postgres") != std::string::npos,
                     "pid " << pid << " from postmaster.pid is not a postgres process");
  BOOST_TEST_REQUIRE(datadir.find("/pg") != std::string::npos, datadir);
  return pid;
}

/// Direct children of `parent` (PostgreSQL backends and auxiliary processes).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr)
    return out;
  while (dirent* e = ::readdir(d)) {
    if (!std::all_of(e->d_name, e->d_name + std::strlen(e->d_name), ::isdigit))
      continue;
    auto stat = slurp(std::string{"/proc/"} + e->d_name + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream fields{stat.substr(close + 2)};
    std::string state;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent)
      out.push_back(static_cast<pid_t>(std::atol(e->d_name)));
  }
  ::closedir(d);
  return out;
}

/// SIGSTOPs the test cluster's postmaster and then every child of it (the
/// postmaster first, so no new backend is forked in between); the destructor
/// always sends SIGCONT so a failing test cannot leave the cluster frozen.
class pg_freeze {
public:
  pg_freeze() : postmaster_(test_postmaster()) {
    ::kill(postmaster_, SIGSTOP);
    frozen_.push_back(postmaster_);
    for (pid_t c : children_of(postmaster_))
      if (::kill(c, SIGSTOP) == 0)
        frozen_.push_back(c);
  }
  ~pg_freeze() { thaw(); }
  pg_freeze(const pg_freeze&) = delete;
  pg_freeze& operator=(const pg_freeze&) = delete;

  /// Children first, then the postmaster.
  void thaw() {
    if (thawed_)
      return;
    thawed_ = true;
    for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it)
      ::kill(*it, SIGCONT);
  }
  size_t processes() const { return frozen_.size(); }

private:
  pid_t postmaster_;
  std::vector<pid_t> frozen_;
  bool thawed_ = false;
};

/// `Threads:` of /proc/PID/status (-1 if unreadable).
int thread_count(pid_t pid) {
  std::istringstream in{slurp("/proc/" + std::to_string(pid) + "/status")};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Threads:", 0) == 0)
      return std::atoi(line.c_str() + 8);
  return -1;
}

struct outcome {
  std::string what;
  long status = 0;
  double seconds = 0;
  bool retry_after = false;
  std::string error;
  double done_at = 0; ///< seconds after the freeze began when the answer arrived
};

/// What the freeze test saw, for the fail-fast case that follows it.
struct freeze_observations {
  bool ran = false;
  double thaw_at = 0;
  std::vector<outcome> outcomes;
};
freeze_observations& observed() {
  static freeze_observations o;
  return o;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(faults_tests, api_fixture)

BOOST_AUTO_TEST_CASE(postgres_frozen_refuses_cleanly_without_thread_pile_up_and_recovers) {
  // Its own instance: the shared one must not inherit a frozen-database history.
  // The pool is at its maximum from the start, so any thread growth is a pile-up.
  service_process p{env_overrides{{"DATABASE_POOL_MIN", "10"}, {"DATABASE_POOL_MAX", "10"}}};
  const auto& c = p.client();
  const pid_t pid = p.pid();
  auto leader = hh::make_user("freeze-leader@example.com", "Leader");
  auto outsider = hh::make_user("freeze-outsider@example.com", "Outsider");
  auto h = hh::create_household(c, leader, "Frozen Home");
  BOOST_TEST_REQUIRE(c.get("/v1/me", leader.auth()).status == 200);
  BOOST_TEST_REQUIRE(c.get("/v1/households/me", leader.auth()).status == 200);
  std::this_thread::sleep_for(milliseconds{300});
  const int threads_before = thread_count(pid);
  BOOST_TEST_MESSAGE("service threads before: " << threads_before);

  // Reads and writes from several clients for the whole freeze.
  struct kind {
    std::string name, method, path;
    const hh::user* who;
    std::optional<json> body;
  };
  const std::vector<kind> kinds{
    {"GET /v1/me", "GET", "/v1/me", &leader, std::nullopt},
    {"GET /v1/households/me", "GET", "/v1/households/me", &leader, std::nullopt},
    {"PATCH /v1/households/{id}", "PATCH", "/v1/households/" + h.id, &leader,
     json{{"description", "frozen"}}},
    {"POST /v1/households/join", "POST", "/v1/households/join", &outsider,
     json{{"inviteCode", h.code}}},
    {"GET /v1/notifications", "GET", "/v1/notifications", &outsider, std::nullopt},
  };
  constexpr int clients = 10;
  constexpr auto freeze_for = seconds{10};
  std::mutex mu;
  std::vector<outcome> outcomes;
  std::atomic<bool> stop{false};

  std::optional<pg_freeze> freeze;
  freeze.emplace();
  const auto t0 = clock_type::now();
  BOOST_TEST_MESSAGE("froze " << freeze->processes() << " PostgreSQL processes");

  std::vector<std::thread> load;
  for (int i = 0; i < clients; ++i)
    load.emplace_back([&, i] {
      for (size_t n = static_cast<size_t>(i); !stop; ++n) {
        const auto& k = kinds[n % kinds.size()];
        http_request r;
        r.method = k.method;
        r.path = k.path;
        r.headers = k.who->auth();
        if (k.body) {
          r.body = k.body->dump();
          r.content_type = "application/json";
        }
        r.timeout_ms = 15000;
        auto a = c.send(r);
        std::lock_guard lock{mu};
        outcomes.push_back({k.name, a.status, a.seconds, a.has_header("Retry-After"),
                            a.status == 0 ? a.transport_error : a.error_code(), seconds_since(t0)});
      }
    });

  // Readiness turns 503 within 2 s and stays so; sample threads meanwhile.
  int threads_max = threads_before;
  double ready_503_after = -1;
  int ready_200_during = 0;
  while (clock_type::now() - t0 < freeze_for) {
    http_request probe;
    probe.path = "/health/ready";
    probe.timeout_ms = 5000;
    auto r = c.send(probe);
    if (r.status == 503 && ready_503_after < 0)
      ready_503_after = seconds_since(t0);
    else if (r.status == 200 && ready_503_after >= 0)
      ++ready_200_during;
    threads_max = std::max(threads_max, thread_count(pid));
    std::this_thread::sleep_for(milliseconds{200});
  }
  const int threads_end_of_freeze = thread_count(pid);
  stop = true;
  freeze->thaw();
  const auto t1 = clock_type::now();
  const double thaw_at = seconds_since(t0);
  for (auto& t : load)
    t.join();
  BOOST_TEST_MESSAGE("load threads joined " << seconds_since(t1) << " s after SIGCONT");

  // Recovery without a restart.
  http_response last;
  bool ready_again = poll_until([&] {
    http_request probe;
    probe.path = "/health/ready";
    probe.timeout_ms = 3000;
    return (last = c.send(probe)).status == 200;
  }, seconds{8}, milliseconds{50});
  const double recovered_after = seconds_since(t1);
  BOOST_TEST_MESSAGE("ready again " << recovered_after << " s after SIGCONT");
  BOOST_TEST(ready_again, describe(last));
  BOOST_TEST(recovered_after < 5.0, "ready again only " << recovered_after << " s after SIGCONT");
  BOOST_TEST(p.running(), p.log_tail());
  BOOST_TEST(p.pid() == pid);
  http_response me, patch;
  BOOST_TEST(poll_until([&] { return (me = c.get("/v1/me", leader.auth())).status == 200; },
                        seconds{3}),
             describe(me));
  BOOST_TEST(poll_until([&] {
               return (patch = c.send_json("PATCH", "/v1/households/" + h.id,
                                           {{"description", "thawed"}}, leader.auth()))
                        .status == 200;
             }, seconds{3}),
             describe(patch));
  std::this_thread::sleep_for(milliseconds{500});
  const int threads_after = thread_count(pid);

  // Report.
  std::map<std::string, std::map<long, int>> by_kind;
  std::map<std::string, double> worst;
  for (auto& o : outcomes) {
    ++by_kind[o.what][o.status];
    worst[o.what] = std::max(worst[o.what], o.seconds);
  }
  for (auto& [what, statuses] : by_kind) {
    std::ostringstream os;
    for (auto& [s, n] : statuses)
      os << " " << s << "x" << n;
    BOOST_TEST_MESSAGE(what << ":" << os.str() << ", slowest " << worst[what] << " s");
  }
  BOOST_TEST_MESSAGE("threads before " << threads_before << ", max during " << threads_max
                                       << ", end of freeze " << threads_end_of_freeze
                                       << ", after " << threads_after);

  // Readiness.
  BOOST_TEST(ready_503_after >= 0, "/health/ready never turned 503 during the freeze");
  BOOST_TEST(ready_503_after < 2.0, "/health/ready turned 503 only " << ready_503_after << " s in");
  BOOST_TEST(ready_200_during == 0, "/health/ready answered 200 " << ready_200_during
                                      << " times after turning 503 during the freeze");
  // Every answer a clean one: before the thaw 200 (served from memory) or 503 with
  // Retry-After and no write succeeding; after it (requests held during the freeze
  // and completed once the database was back) anything but a 5xx other than 503.
  BOOST_TEST(outcomes.size() >= static_cast<size_t>(clients));
  int refused = 0;
  std::vector<std::string> bad;
  for (auto& o : outcomes) {
    const bool before_thaw = o.done_at < thaw_at;
    const bool write = o.what.rfind("GET", 0) != 0;
    refused += o.status == 503 ? 1 : 0;
    bool ok = o.status != 0 && (o.status < 500 || o.status == 503)
              && (o.status != 503 || o.retry_after)
              && (!before_thaw || o.status == 503 || (!write && o.status == 200));
    if (!ok)
      bad.push_back(o.what + " -> " + std::to_string(o.status) + " " + o.error + " at "
                    + std::to_string(o.done_at) + " s");
  }
  std::ostringstream bad_list;
  for (auto& b : bad)
    bad_list << "\n  " << b;
  BOOST_TEST(bad.empty(), bad.size() << " unexpected answers (thaw at " << thaw_at << " s):" << bad_list.str());
  BOOST_TEST(refused > 0, "no request was refused while PostgreSQL was frozen");
  // No thread pile-up: at most a handful more threads than before, and back after.
  BOOST_TEST(threads_max <= threads_before + 4,
             "threads grew from " << threads_before << " to " << threads_max);
  BOOST_TEST(threads_after <= threads_before + 2,
             "threads after recovery " << threads_after << " (before " << threads_before << ")");

  auto& obs = observed();
  obs.ran = true;
  obs.thaw_at = thaw_at;
  obs.outcomes = outcomes;
}

// SPEC §4.2/§5 and issue #6: with the database frozen, requests must fail fast
// (503 within ~2 s), not hang until REQUEST_TIMEOUT_MS. Checked on the answers
// the case above collected (no second 10 s freeze). Pool workers block in libpq
// reads on the frozen sockets; the database pool notices that no job has ended
// for 1.5 s while one runs and answers everything waiting on it with 503.
BOOST_AUTO_TEST_CASE(postgres_frozen_requests_fail_fast,
                     *boost::unit_test::depends_on(
                       "faults_tests/postgres_frozen_refuses_cleanly_without_thread_pile_up_and_recovers")) {
  const auto& obs = observed();
  BOOST_TEST_REQUIRE(obs.ran);
  double slowest = 0;
  int slow = 0, answered = 0;
  for (auto& o : obs.outcomes) {
    if (o.done_at - o.seconds >= obs.thaw_at)
      continue; // sent after the thaw
    ++answered;
    slowest = std::max(slowest, o.seconds);
    slow += o.seconds >= 2.5 ? 1 : 0;
  }
  BOOST_TEST_MESSAGE(answered << " requests sent during the freeze, " << slow
                              << " answered after 2.5 s or more, slowest " << slowest << " s");
  BOOST_TEST(slow == 0, slow << " of " << answered << " requests sent during the freeze took >= 2.5 s (slowest "
                             << slowest << " s): no fail-fast while PostgreSQL is frozen");
}

BOOST_AUTO_TEST_SUITE_END()
