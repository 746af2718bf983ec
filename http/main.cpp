/// household-service: `serve` (default), `migrate`, `verify`, `--version`, `--help`.
/// The only place that wires every layer together.

#include <signal.h>

#include <caf/all.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

#include "actors/events.hpp"
#include "actors/households.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/outbox.hpp"
#include "actors/scheduler.hpp"
#include "actors/pool.hpp"
#include "actors/rate_limit.hpp"
#include "actors/redis_client.hpp"
#include "actors/supervisor.hpp"
#include "actors/telemetry.hpp"
#include "actors/validation.hpp"
#include "actors/webhooks.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "http/call.hpp"
#include "http/server.hpp"
#include "http/systemd_notify.hpp"
#include "storage/crypto.hpp"
#include "storage/database.hpp"
#include "storage/migrations.hpp"
#include "storage/redis.hpp"

namespace {

using namespace petcare;
using config::log_level;
constexpr int exit_config = 78;

const char* usage = R"(household-service — the household backend

Usage:
  household-service [serve]   run the service (configuration from the environment)
  household-service migrate   apply pending database migrations and exit
  household-service verify    check invariants I1–I5 and exit non-zero on a violation
  household-service --version
  household-service --help

Configuration: environment variables of SPEC §6 (see README.md).
)";

std::string database_url_from_env() {
  auto env = config::process_environment();
  auto i = env.find("DATABASE_URL");
  return i == env.end() || i->second.empty() ? config::settings{}.database_url : i->second;
}

int run_migrate() {
  auto r = storage::migrate(database_url_from_env());
  for (auto& name : r.applied)
    std::cout << "applied " << name << '\n';
  if (!r.ok) {
    std::cerr << "migrate failed: " << r.error << '\n';
    return 1;
  }
  std::cout << "schema at version " << storage::build_schema_version() << '\n';
  return 0;
}

int run_verify() {
  auto r = storage::verify(database_url_from_env());
  for (auto& line : r.lines)
    std::cout << line << '\n';
  if (!r.error.empty())
    std::cerr << "verify failed: " << r.error << '\n';
  return r.ok ? 0 : 1;
}

/// Adds libpq's connect timeout (a frozen server cannot hang a worker's connect)
/// and a statement timeout at the request budget (work past it is rolled back).
std::string with_timeouts(const std::string& url, int64_t request_timeout_ms) {
  std::string out = url;
  auto add = [&out](const std::string& kv) {
    out += (out.find('?') == std::string::npos ? "?" : "&") + kv;
  };
  if (url.find("connect_timeout=") == std::string::npos)
    add("connect_timeout=2");
  if (url.find("options=") == std::string::npos)
    add("options=-c%20statement_timeout%3D" + std::to_string(request_timeout_ms));
  return out;
}

std::vector<actors::subsystem_spec> subsystems(const actors::runtime_ptr& rt) {
  const auto& cfg = rt->cfg;
  auto db_url = with_timeouts(cfg.database_url, cfg.request_timeout_ms);
  auto redis_ep = storage::parse_redis_url(cfg.redis_url).value_or(storage::redis_endpoint{});
  std::vector<actors::subsystem_spec> out;
  out.push_back({actors::names::database, "database", [=](caf::local_actor* parent) {
                   actors::pool_config pc;
                   pc.name = "database";
                   pc.min = static_cast<size_t>(cfg.database_pool_min);
                   pc.max = static_cast<size_t>(cfg.database_pool_max);
                   pc.acquire_timeout = std::chrono::milliseconds{cfg.database_pool_acquire_timeout_ms};
                   pc.idle_timeout = std::chrono::milliseconds{cfg.database_pool_idle_timeout_ms};
                   // A frozen server answers 503 after 1.5 s instead of the request timeout.
                   pc.stall_after = std::chrono::milliseconds{1500};
                   pc.connect = [db_url]() -> caf::expected<std::unique_ptr<storage::connection>> {
                     auto db = storage::database::open(db_url);
                     if (!db)
                       return db.error();
                     return std::unique_ptr<storage::connection>{std::move(*db)};
                   };
                   return parent->spawn(actors::pool_supervisor, std::move(pc));
                 }});
  out.push_back({caf::atom("redis_sup"), "redis", [=](caf::local_actor* parent) {
                   return parent->spawn(actors::redis_supervisor, redis_ep);
                 }});
  out.push_back({actors::names::hasher, "hasher", [](caf::local_actor* parent) {
                   return actors::spawn_hasher_pool(
                     parent, std::max(1u, std::thread::hardware_concurrency()));
                 }});
  out.push_back({actors::names::households, "households", [rt](caf::local_actor* parent) {
                   return parent->spawn(actors::household_registry, rt);
                 }});
  out.push_back({caf::atom("subscriber"), "subscriber", [rt](caf::local_actor* parent) {
                   // Another instance changed a household: its resident actor re-reads.
                   auto on_household = [rt](const std::string& payload) {
                     auto j = nlohmann::json::parse(payload, nullptr, false);
                     if (j.is_discarded() || j.value("from", "") == rt->instance_id)
                       return;
                     if (auto reg = rt->lookup(actors::names::households))
                       caf::anon_send(reg, atom::invalidate_v, j.value("id", ""));
                     actors::household_event e;
                     e.household_id = j.value("id", "");
                     e.changes = j.value("changes", std::vector<std::string>{});
                     e.members = j.value("members", std::vector<std::string>{});
                     e.leader_id = j.value("leader", "");
                     e.version = j.value("version", int64_t{0});
                     if (auto hub = rt->lookup(actors::names::events); hub && !e.changes.empty())
                       caf::anon_send(hub, atom::publish_v, e);
                   };
                   return parent->spawn(actors::subscriber, rt,
                                        std::function<void(const std::string&)>{on_household});
                 }});
  out.push_back({actors::names::events, "events", [rt](caf::local_actor* parent) {
                   return parent->spawn(actors::event_hub, rt);
                 }});
  out.push_back({caf::atom("scheduler"), "scheduler", [rt](caf::local_actor* parent) {
                   return parent->spawn(actors::scheduler, rt);
                 }});
  out.push_back({actors::outbox_name, "outbox", [rt](caf::local_actor* parent) {
                   return parent->spawn(actors::outbox_dispatcher, rt);
                 }});
  out.push_back({actors::webhooks_name, "webhooks", [rt](caf::local_actor* parent) {
                   return parent->spawn(actors::webhook_dispatcher, rt);
                 }});
  out.push_back({caf::atom("telemetry"), "telemetry", [](caf::local_actor* parent) {
                   return parent->spawn(actors::telemetry);
                 }});
  return out;
}

/// Waits for SIGTERM/SIGINT up to `timeout`; true when one arrived.
bool wait_signal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

int run_serve() {
  auto loaded = config::load(config::process_environment());
  if (!loaded.ok()) {
    for (auto& p : loaded.problems)
      std::cerr << p << '\n';
    return exit_config;
  }
  auto cfg = loaded.value;
  config::init_log(cfg.log_level, cfg.datadog_service_name, cfg.env_name, cfg.app_version);
  for (auto& w : loaded.warnings)
    config::log(log_level::warn, "config.warning", {{"message", w}});
  for (auto& n : loaded.notes)
    config::log(log_level::info, "config.note", {{"message", n}});
  storage::crypto::init();
  storage::on_notifications_created([](const std::string& type) {
    actors::metrics::instance().inc("notifications_created_total", {{"type", type}});
  });
  if (cfg.enable_analytics) // SPEC §6: id-only analytics events as log lines
    storage::on_audited([](const storage::audited_action& a) {
      nlohmann::json fields{{"action", a.action}};
      for (auto [name, id] : {std::pair{"householdId", &a.household_id},
                              std::pair{"actorUserId", &a.actor_user_id},
                              std::pair{"targetUserId", &a.target_user_id}})
        if (!id->empty())
          fields[name] = *id;
      config::log(log_level::info, "analytics.event", fields);
    });

  // Signals are taken synchronously by this thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (cfg.auto_migrate) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
    for (;;) {
      auto r = storage::migrate(cfg.database_url);
      if (r.ok) {
        if (!r.applied.empty())
          config::log(log_level::info, "db.migrated", {{"applied", r.applied}});
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        config::log(log_level::error, "db.migrate_failed", {{"error", r.error}});
        return 1;
      }
      if (wait_signal(signals, std::chrono::milliseconds{1000}))
        return 0;
    }
  }

  caf::actor_system_config sys_cfg;
  sys_cfg.add_message_types<caf::id_block::petcare>();
  sys_cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  sys_cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{sys_cfg};

  auto rt = std::make_shared<actors::runtime>();
  rt->sys = &sys;
  rt->cfg = cfg;
  rt->instance_id = actors::new_uuid_v4();
  rt->sessions = std::make_shared<actors::session_cache>();
  rt->local_limits = std::make_shared<actors::memory_limiter>();
  rt->shutting_down = std::make_shared<std::atomic<bool>>(false);
  actors::runtime_ptr crt = rt;

  auto root = sys.spawn(actors::root_supervisor, crt, subsystems(crt), storage::build_schema_version());
  http::server front{crt};
  try {
    front.start();
  } catch (const std::exception& e) {
    config::log(log_level::error, "http.listen_failed", {{"error", e.what()}});
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    return 1;
  }
  config::log(log_level::info, "service.started",
              {{"port", cfg.port},
               {"host", cfg.host},
               {"database", config::mask_url_password(cfg.database_url)},
               {"instance", rt->instance_id}});
  http::systemd_notifier notifier{sys, crt}; // READY/WATCHDOG/STOPPING under systemd

  while (!wait_signal(signals, std::chrono::hours{1})) {
  }
  // SPEC §8.4: not ready at once, keep serving while load balancers notice,
  // then stop accepting, let in-flight work finish, stop the actors, exit 0.
  config::log(log_level::info, "service.stopping", {});
  rt->shutting_down->store(true);
  caf::anon_send(root, atom::drain_v);
  notifier.stopping();
  if (wait_signal(signals, std::chrono::milliseconds{cfg.shutdown_drain_delay_ms}))
    std::_Exit(1);
  front.close_listener();
  // A connection accepted just before the close may not have been read yet, so
  // in_flight() == 0 once is not enough: wait for a quiet spell of 250 ms.
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds{cfg.shutdown_timeout_ms};
  auto quiet_since = clock::now();
  while (clock::now() < deadline && clock::now() - quiet_since < std::chrono::milliseconds{250}) {
    if (wait_signal(signals, std::chrono::milliseconds{20}))
      std::_Exit(1);
    if (http::in_flight().load() > 0)
      quiet_since = clock::now();
  }
  front.stop();
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  // Actors may still hold connections (open SSE streams, answers being built):
  // they must let go while the server's io_context exists, so wait for them
  // here rather than in ~actor_system, which runs after ~server.
  sys.await_all_actors_done();
  config::log(log_level::info, "service.stopped", {});
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "serve";
  if (cmd == "--version" || cmd == "-V") {
    std::cout << "household-service " << PETCARE_VERSION << '\n';
    return 0;
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << usage;
    return 0;
  }
  if (cmd == "migrate")
    return run_migrate();
  if (cmd == "verify")
    return run_verify();
  if (cmd == "serve")
    return run_serve();
  std::cerr << "unknown command: " << cmd << "\n\n" << usage;
  return 64;
}
