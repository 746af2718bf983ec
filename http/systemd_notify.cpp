#include "http/systemd_notify.hpp"

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include <caf/all.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>

#include "config/log.hpp"

namespace petcare::http {

namespace {

using clock = std::chrono::steady_clock;
using config::log_level;
constexpr auto health_timeout = std::chrono::milliseconds{1000};
constexpr auto max_tick = std::chrono::milliseconds{250};

void notify(const std::string& text) {
  // Errors (no listener, socket gone) are not actionable here: systemd
  // notices a missing READY or WATCHDOG on its own.
  (void)sd_notify(0, text.c_str());
}

} // namespace

notify_view judge(const actors::health_report* r, bool shutting_down) {
  notify_view v;
  if (!r) {
    v.status = "actor system not answering (watchdog paused)";
    return v;
  }
  v.actors_ok = r->dependencies;
  // The same rule as GET /health/ready (http/routes_ops.cpp).
  v.ready = !shutting_down && !r->shutting_down && r->database && r->dependencies;
  if (!r->dependencies)
    v.status = "actor system unhealthy: a subsystem is failed, restarting or silent (watchdog paused)";
  else if (!r->database)
    v.status = "not ready: PostgreSQL unreachable or schema version differs";
  else if (!r->redis)
    v.status = "ready (degraded: Redis unreachable)";
  else
    v.status = "ready";
  return v;
}

systemd_notifier::systemd_notifier(caf::actor_system& sys, actors::runtime_ptr rt)
  : sys_(sys), rt_(std::move(rt)) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && *socket != '\0';
  if (!active_)
    return;
  if (sd_watchdog_enabled(0, &watchdog_usec_) <= 0)
    watchdog_usec_ = 0;
  config::log(log_level::info, "systemd.notify",
              {{"watchdogMs", static_cast<int64_t>(watchdog_usec_ / 1000)}});
  notify("STATUS=starting: waiting for PostgreSQL and the subsystems");
  thread_ = std::thread{[this] { run(); }};
}

systemd_notifier::~systemd_notifier() {
  {
    std::lock_guard<std::mutex> lock{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void systemd_notifier::stopping() {
  if (!active_)
    return;
  {
    // Under the lock the watch thread sends with: nothing of it follows STOPPING=1.
    std::lock_guard<std::mutex> lock{mtx_};
    if (stop_)
      return;
    stop_ = true;
    notify("STOPPING=1\nSTATUS=stopping: draining, then closing (SPEC 8.4)");
  }
  cv_.notify_all(); // the thread ends within one health timeout; joined by the destructor
}

void systemd_notifier::run() {
  pthread_setname_np(pthread_self(), "sd-notify");
  // Ping at half the interval (sd_watchdog_enabled(3)); look more often so a
  // short unhealthy moment delays a ping by one tick rather than half an interval.
  const auto half = std::chrono::microseconds{watchdog_usec_ / 2};
  auto tick = max_tick;
  if (watchdog_usec_ > 0)
    tick = std::min<std::chrono::milliseconds>(
      max_tick, std::max(std::chrono::milliseconds{10},
                         std::chrono::duration_cast<std::chrono::milliseconds>(half / 4)));
  caf::scoped_actor self{sys_};
  bool ready_sent = false;
  std::string last_status;
  auto last_ping = clock::now() - half; // first healthy look pings at once
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      if (stop_)
        return;
    }
    std::optional<actors::health_report> report;
    if (auto root = rt_->lookup(actors::names::root)) {
      self->request(root, health_timeout, atom::health_v)
        .receive([&](const actors::health_report& r) { report = r; },
                 [&](const caf::error&) {});
    }
    auto view = judge(report ? &*report : nullptr, rt_->shutting_down->load());
    std::string msg;
    if (view.ready && !ready_sent) {
      msg += "READY=1\n";
      ready_sent = true;
      config::log(log_level::info, "systemd.ready", {});
    }
    if (view.status != last_status) {
      msg += "STATUS=" + view.status + "\n";
      last_status = view.status;
    }
    if (watchdog_usec_ > 0 && view.actors_ok && clock::now() - last_ping >= half) {
      msg += "WATCHDOG=1\n";
      last_ping = clock::now();
    }
    std::unique_lock<std::mutex> lock{mtx_};
    if (stop_) // stopping() began meanwhile: no READY or WATCHDOG after STOPPING=1
      return;
    if (!msg.empty())
      notify(msg);
    cv_.wait_for(lock, tick, [this] { return stop_; });
  }
}

} // namespace petcare::http
