// The sd_notify protocol (deploy/systemd/household.service, Type=notify,
// NotifyAccess=main, WatchdogSec=): a fake NOTIFY_SOCKET (an AF_UNIX datagram
// socket, as systemd's) receives READY=1 only once /health/ready is 200,
// WATCHDOG=1 about every half of WATCHDOG_USEC while the actor system is
// healthy — also while PostgreSQL is down, which a restart would not fix —
// none while the actor system is wedged (its scheduler threads frozen with
// ptrace), and STOPPING=1 at SIGTERM.

#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/api_fixture.hpp"

namespace {

using namespace fixtures;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t watchdog_usec = 2'000'000; // pings expected about every second

/// What systemd would read from NOTIFY_SOCKET: one datagram = one message.
struct notify_message {
  clock_type::time_point at;
  std::string text;
  pid_t sender = -1; ///< SCM_CREDENTIALS pid (NotifyAccess=main checks it)

  bool has_line(const std::string& line) const {
    std::istringstream in{text};
    for (std::string l; std::getline(in, l);)
      if (l == line)
        return true;
    return false;
  }
  std::optional<std::string> value(const std::string& key) const {
    std::istringstream in{text};
    for (std::string l; std::getline(in, l);)
      if (l.rfind(key + "=", 0) == 0)
        return l.substr(key.size() + 1);
    return std::nullopt;
  }
};

class notify_listener {
public:
  notify_listener() {
    static std::atomic<int> counter{0};
    ::mkdir("/tmp/household-it", 0777);
    path_ = "/tmp/household-it/notify-" + std::to_string(::getpid()) + "-" + std::to_string(++counter)
            + ".sock";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
                       "bind " << path_ << ": " << std::strerror(errno));
    int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread{[this] { read_loop(); }};
  }
  ~notify_listener() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;

  const std::string& path() const { return path_; }

  std::vector<notify_message> messages() const {
    std::lock_guard<std::mutex> lock{mtx_};
    return messages_;
  }

  /// The first message at or after `since` with the exact line `line` (e.g. "READY=1").
  std::optional<notify_message> wait_line(const std::string& line, milliseconds timeout,
                                          clock_type::time_point since = {}) const {
    std::optional<notify_message> found;
    poll_until(
      [&] {
        for (auto& m : messages())
          if (m.at >= since && m.has_line(line))
            return (found = m).has_value();
        return false;
      },
      timeout, milliseconds{5});
    return found;
  }

  /// The first message at or after `since` whose STATUS= contains `part`.
  std::optional<notify_message> wait_status(const std::string& part, milliseconds timeout,
                                            clock_type::time_point since = {}) const {
    std::optional<notify_message> found;
    poll_until(
      [&] {
        for (auto& m : messages())
          if (m.at >= since && m.value("STATUS").value_or("").find(part) != std::string::npos)
            return (found = m).has_value();
        return false;
      },
      timeout, milliseconds{5});
    return found;
  }

  /// Arrival times of messages with line `line` in [from, to).
  std::vector<clock_type::time_point> times_of(const std::string& line, clock_type::time_point from,
                                               clock_type::time_point to = clock_type::time_point::max()) const {
    std::vector<clock_type::time_point> out;
    for (auto& m : messages())
      if (m.at >= from && m.at < to && m.has_line(line))
        out.push_back(m.at);
    return out;
  }

  std::string dump() const {
    std::ostringstream os;
    auto all = messages();
    auto t0 = all.empty() ? clock_type::now() : all.front().at;
    for (auto& m : all) {
      auto text = m.text;
      std::replace(text.begin(), text.end(), '\n', '|');
      os << "  +" << std::chrono::duration<double>(m.at - t0).count() << " s pid " << m.sender << ": "
         << text << '\n';
    }
    return os.str();
  }

private:
  void read_loop() {
    while (!stop_) {
      char buf[4096];
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
      iovec iov{buf, sizeof buf};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = ::recvmsg(fd_, &msg, 0);
      if (n < 0)
        continue; // timeout: look at stop_
      notify_message m;
      m.at = clock_type::now();
      m.text.assign(buf, static_cast<size_t>(n));
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
          ucred cred;
          std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
          m.sender = cred.pid;
        }
      std::lock_guard<std::mutex> lock{mtx_};
      messages_.push_back(std::move(m));
    }
  }

  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mtx_;
  std::vector<notify_message> messages_;
  std::thread reader_;
};

env_overrides notify_env(const notify_listener& l, env_overrides extra = {}) {
  extra["NOTIFY_SOCKET"] = l.path();
  extra["WATCHDOG_USEC"] = std::to_string(watchdog_usec);
  return extra;
}

int ready_status(const service_process& p) {
  http_request r;
  r.path = "/health/ready";
  r.timeout_ms = 3000;
  return p.client().send(r).status;
}

/// Freezes the CAF scheduler threads ("caf.multiplexer") of a process with
/// ptrace: every cooperatively scheduled actor — the root supervisor included —
/// stops, as if a handler blocked forever, while the process's other threads
/// (the notifier's, the clock, detached workers) run on. Thawed on destruction.
class frozen_scheduler {
public:
  explicit frozen_scheduler(pid_t pid) {
    auto dir_name = "/proc/" + std::to_string(pid) + "/task";
    DIR* dir = ::opendir(dir_name.c_str());
    if (!dir) {
      error = "cannot list " + dir_name;
      return;
    }
    while (auto* e = ::readdir(dir)) {
      if (e->d_name[0] == '.')
        continue;
      std::ifstream comm{dir_name + "/" + e->d_name + "/comm"};
      std::string name;
      std::getline(comm, name);
      if (name == "caf.multiplexer")
        tids_.push_back(static_cast<pid_t>(std::stol(e->d_name)));
    }
    ::closedir(dir);
    if (tids_.empty())
      error = "no caf.multiplexer thread found";
    for (auto tid : tids_) {
      if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        error = std::string{"PTRACE_SEIZE: "} + std::strerror(errno);
        permission_denied = errno == EPERM;
        break;
      }
      seized_.push_back(tid);
      ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
      int status = 0;
      ::waitpid(tid, &status, __WALL);
    }
  }
  ~frozen_scheduler() { thaw(); }
  void thaw() {
    for (auto tid : seized_)
      ::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
    seized_.clear();
  }
  size_t threads() const { return tids_.size(); }

  std::string error;
  bool permission_denied = false;

private:
  std::vector<pid_t> tids_;
  std::vector<pid_t> seized_;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(systemd_notify_tests, api_fixture)

BOOST_AUTO_TEST_CASE(ready_only_once_readiness_is_200_and_watchdog_runs_while_postgres_is_down) {
  notify_listener sd;
  std::optional<service_process> p;
  {
    // PostgreSQL is down at start: HTTP serves, readiness is 503, the actor
    // system is healthy — so WATCHDOG=1 but no READY=1.
    services::outage pg_down{"pg"};
    BOOST_TEST_REQUIRE(pg_down.stop_status() == 0);
    service_process::options o;
    o.env = notify_env(sd, {{"AUTO_MIGRATE", "false"}});
    o.wait_ready = false;
    p.emplace(o);
    BOOST_TEST_REQUIRE(poll_until([&] { return ready_status(*p) == 503; }, seconds{10}), p->log_tail());
    auto t0 = clock_type::now();
    BOOST_TEST(sd.wait_status("PostgreSQL", seconds{5}).has_value(), sd.dump());
    std::this_thread::sleep_for(milliseconds{3000});
    BOOST_TEST(!sd.wait_line("READY=1", milliseconds{0}).has_value(), "READY=1 while PostgreSQL is down\n"
                                                                             << sd.dump());
    BOOST_TEST(ready_status(*p) == 503);
    auto pings = sd.times_of("WATCHDOG=1", t0);
    BOOST_TEST(pings.size() >= 2, "WATCHDOG=1 stopped while only PostgreSQL was down\n" << sd.dump());
    BOOST_TEST_REQUIRE(pg_down.end() == 0);
  }
  auto ready = sd.wait_line("READY=1", seconds{15});
  BOOST_TEST_REQUIRE(ready.has_value(), "no READY=1 after PostgreSQL came back\n" << sd.dump() << p->log_tail());
  // The moment READY=1 arrives, readiness answers 200.
  BOOST_TEST(ready_status(*p) == 200);
  BOOST_TEST(ready->value("STATUS").value_or("").rfind("ready", 0) == 0, ready->text);
  BOOST_TEST(sd.times_of("READY=1", {}).size() == 1u);
  for (auto& m : sd.messages())
    BOOST_TEST(m.sender == p->pid(), "message from pid " << m.sender << ", not the main pid " << p->pid());
  p->stop(SIGTERM);
  BOOST_TEST(p->wait_exit(seconds{10}).value_or(-1) == 0, p->log_tail());
}

BOOST_AUTO_TEST_CASE(watchdog_every_half_interval_and_stopping_at_sigterm) {
  notify_listener sd;
  service_process p{notify_env(sd, {{"SHUTDOWN_DRAIN_DELAY_MS", "1000"}})};
  auto ready = sd.wait_line("READY=1", seconds{5});
  BOOST_TEST_REQUIRE(ready.has_value(), sd.dump());
  auto t0 = clock_type::now();
  std::this_thread::sleep_for(milliseconds{5500});
  auto pings = sd.times_of("WATCHDOG=1", t0);
  BOOST_TEST_MESSAGE("WATCHDOG=1 messages in 5.5 s with WATCHDOG_USEC=" << watchdog_usec << ": " << pings.size());
  BOOST_TEST(pings.size() >= 4u, sd.dump());
  BOOST_TEST(pings.size() <= 7u, sd.dump());
  for (size_t i = 1; i < pings.size(); ++i) {
    double gap = std::chrono::duration<double>(pings[i] - pings[i - 1]).count();
    BOOST_TEST(gap >= 0.9, "pings " << gap << " s apart (half interval is 1 s)\n" << sd.dump());
    BOOST_TEST(gap < 1.8, "pings " << gap << " s apart, too close to the 2 s timeout\n" << sd.dump());
  }

  auto signalled = clock_type::now(); // before the signal: the answer may come first
  p.stop(SIGTERM);
  auto stopping = sd.wait_line("STOPPING=1", seconds{1}, signalled);
  BOOST_TEST_REQUIRE(stopping.has_value(), "no STOPPING=1 within 1 s of SIGTERM\n" << sd.dump());
  BOOST_TEST_MESSAGE("STOPPING=1 " << std::chrono::duration<double>(stopping->at - signalled).count()
                                   << " s after SIGTERM");
  BOOST_TEST(stopping->value("STATUS").has_value());
  BOOST_TEST(p.wait_exit(seconds{10}).value_or(-1) == 0, p.log_tail());
  // Nothing but STOPPING at or after STOPPING: no late WATCHDOG or READY.
  BOOST_TEST(sd.times_of("WATCHDOG=1", stopping->at).empty(), sd.dump());
  BOOST_TEST(sd.times_of("READY=1", stopping->at).empty(), sd.dump());
}

BOOST_AUTO_TEST_CASE(watchdog_pauses_while_the_actor_system_is_wedged) {
  notify_listener sd;
  service_process p{notify_env(sd)};
  BOOST_TEST_REQUIRE(sd.wait_line("READY=1", seconds{5}).has_value(), sd.dump());
  BOOST_TEST_REQUIRE(sd.wait_line("WATCHDOG=1", seconds{3}).has_value(), sd.dump());

  std::optional<frozen_scheduler> frozen{p.pid()};
  if (frozen->permission_denied) {
    BOOST_WARN_MESSAGE(false, "ptrace not permitted here (" << frozen->error << "): wedge case not checked");
    return;
  }
  BOOST_TEST_REQUIRE(frozen->error.empty(), frozen->error);
  auto t_frozen = clock_type::now();
  BOOST_TEST_MESSAGE("froze " << frozen->threads() << " CAF scheduler threads");
  // The notifier itself still runs and says why it pauses.
  BOOST_TEST(sd.wait_status("not answering", seconds{5}, t_frozen).has_value(), sd.dump());
  std::this_thread::sleep_for(milliseconds{3000});
  // A ping already on its way when the threads froze may still arrive (< 0.3 s).
  auto during = sd.times_of("WATCHDOG=1", t_frozen + milliseconds{300});
  BOOST_TEST(during.empty(), "WATCHDOG=1 while the actor system was wedged\n" << sd.dump());
  BOOST_TEST_MESSAGE("no WATCHDOG=1 for " << seconds_since(t_frozen)
                                          << " s: systemd would have restarted the service after "
                                          << watchdog_usec / 1e6 << " s");
  BOOST_TEST(p.running());

  frozen->thaw();
  auto t_thawed = clock_type::now();
  auto resumed = sd.wait_line("WATCHDOG=1", seconds{5}, t_thawed);
  BOOST_TEST(resumed.has_value(), "WATCHDOG=1 did not resume after the thaw\n" << sd.dump());
  if (resumed)
    BOOST_TEST_MESSAGE("WATCHDOG=1 resumed " << std::chrono::duration<double>(resumed->at - t_thawed).count()
                                             << " s after the thaw");
  BOOST_TEST(poll_until([&] { return ready_status(p) == 200; }, seconds{5}));
  p.stop(SIGTERM);
  BOOST_TEST(p.wait_exit(seconds{10}).value_or(-1) == 0, p.log_tail());
}

BOOST_AUTO_TEST_CASE(without_notify_socket_nothing_is_sent_and_nothing_changes) {
  // The common case (containers): no NOTIFY_SOCKET, no notifier thread.
  service_process p;
  auto tasks = "/proc/" + std::to_string(p.pid()) + "/task";
  bool notifier_thread = false;
  if (DIR* dir = ::opendir(tasks.c_str())) {
    while (auto* e = ::readdir(dir)) {
      std::ifstream comm{tasks + "/" + e->d_name + "/comm"};
      std::string name;
      std::getline(comm, name);
      notifier_thread = notifier_thread || name == "sd-notify";
    }
    ::closedir(dir);
  }
  BOOST_TEST(!notifier_thread);
  p.stop(SIGTERM);
  BOOST_TEST(p.wait_exit(seconds{10}).value_or(-1) == 0, p.log_tail());
}

BOOST_AUTO_TEST_SUITE_END()
