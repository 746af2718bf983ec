#pragma once
/// The sd_notify(3) protocol with systemd (deploy/systemd/household.service,
/// Type=notify, WatchdogSec=): READY=1 once /health/ready would first answer
/// 200, STATUS= lines when the state changes, STOPPING=1 at the start of the
/// shutdown sequence, and WATCHDOG=1 every half watchdog interval ONLY while
/// the actor system is healthy, so that a wedged actor system gets restarted.
///
/// "Actor system healthy" (decision): the root supervisor answers `(health)`
/// within 1 s — its mailbox is being processed, so the CAF scheduler is not
/// wedged — and reports `dependencies` healthy: every subsystem running, not
/// failed, with a fresh heartbeat (SPEC §1.1, §5). PostgreSQL or Redis being
/// unreachable does NOT pause the watchdog: readiness handles that, and a
/// restart would not bring the database back. A single subsystem restart is
/// shorter than the watchdog interval; a subsystem that keeps crashing (marked
/// failed) or stops answering heartbeats pauses the pings until systemd
/// restarts the process.
///
/// Without NOTIFY_SOCKET in the environment (containers, `deploy/local/run`)
/// it does nothing and starts no thread.

#include <caf/fwd.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "actors/messages.hpp"
#include "actors/runtime.hpp"

namespace petcare::http {

class systemd_notifier {
public:
  /// Starts watching the root supervisor; construct once the HTTP listener is up.
  systemd_notifier(caf::actor_system& sys, actors::runtime_ptr rt);
  ~systemd_notifier();
  systemd_notifier(const systemd_notifier&) = delete;
  systemd_notifier& operator=(const systemd_notifier&) = delete;

  /// Sends STOPPING=1 (and a STATUS line) and ends the watch: no further
  /// READY or WATCHDOG messages. Idempotent.
  void stopping();

  /// Whether the service manager is listening at all (NOTIFY_SOCKET set).
  bool active() const { return active_; }

private:
  void run();

  caf::actor_system& sys_;
  actors::runtime_ptr rt_;
  bool active_ = false;
  uint64_t watchdog_usec_ = 0;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

/// What the notifier concludes from one root supervisor answer (exposed for tests).
/// `report` is empty when the root did not answer in time.
struct notify_view {
  bool ready = false;      ///< /health/ready would answer 200
  bool actors_ok = false;  ///< watchdog pings allowed
  std::string status;      ///< STATUS= text
};
notify_view judge(const actors::health_report* report, bool shutting_down);

} // namespace petcare::http
