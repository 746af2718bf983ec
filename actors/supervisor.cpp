#include "actors/supervisor.hpp"

#include <nlohmann/json.hpp>

#include "actors/metrics.hpp"
#include "actors/pool.hpp"
#include "actors/redis_client.hpp"
#include "storage/database.hpp"
#include "storage/redis.hpp"

namespace petcare::actors {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto probe_interval = std::chrono::milliseconds{500};
constexpr auto probe_timeout = std::chrono::milliseconds{1000};
constexpr auto restart_initial = std::chrono::milliseconds{1000};
constexpr auto restart_max = std::chrono::milliseconds{30000};
constexpr size_t restart_budget = 5;
constexpr auto restart_window = std::chrono::seconds{60};

/// A connection that is only a thread: the hasher pool's workers.
struct thread_only final : storage::connection {
  caf::error ping() override { return caf::none; }
  bool broken() const override { return false; }
};

bool failed(const root_state::child& c) {
  auto recent = std::count_if(c.restarts.begin(), c.restarts.end(),
                              [](auto t) { return clock::now() - t < restart_window; });
  return static_cast<size_t>(recent) > restart_budget;
}

void start_child(caf::stateful_actor<root_state>* self, root_state::child& c) {
  c.handle = c.spec.start(self);
  self->monitor(c.handle);
  self->system().registry().put(c.spec.name, caf::actor_cast<caf::strong_actor_ptr>(c.handle));
  c.running = true;
  c.last_heartbeat = clock::now();
}

void probe(caf::stateful_actor<root_state>* self) {
  auto& st = self->state;
  auto want = st.schema_version;
  if (auto db = st.rt->db()) {
    self
      ->request(db, probe_timeout, atom::exec_v,
                make_job<storage::database>([](storage::database& d) { return d.schema_version(); }))
      .then([self, want](int v) { self->state.db_ok = v == want; },
            [self](const caf::error&) { self->state.db_ok = false; });
  } else {
    st.db_ok = false;
  }
  redis_call<bool>(self, st.rt, redis_command({"PING"}), [self](caf::expected<bool> ok) {
    self->state.redis_ok = static_cast<bool>(ok);
  });
  // Heartbeat: every subsystem answers `status` within 3 probe intervals.
  for (auto& [name, c] : st.children) {
    if (!c.running)
      continue;
    auto key = name;
    self->request(c.handle, 3 * probe_interval, atom::heartbeat_v)
      .then([self, key](bool) { self->state.children[key].last_heartbeat = clock::now(); },
            [](const caf::error&) {});
  }
}

} // namespace

caf::behavior root_supervisor(caf::stateful_actor<root_state>* self, runtime_ptr rt,
                              std::vector<subsystem_spec> subsystems, int schema_version) {
  auto& st = self->state;
  st.rt = std::move(rt);
  st.schema_version = schema_version;
  for (auto& spec : subsystems) {
    auto& c = st.children[spec.name];
    c.spec = std::move(spec);
    start_child(self, c);
  }
  self->system().registry().put(names::root, caf::actor_cast<caf::strong_actor_ptr>(self));
  // Children are monitored, not linked, so the root ends them itself.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.stopping = true;
    for (auto& [name, c] : self->state.children) {
      self->system().registry().erase(name);
      if (c.handle)
        self->send_exit(c.handle, msg.reason);
    }
    self->system().registry().erase(names::root);
    self->quit(msg.reason);
  });

  self->set_down_handler([self](const caf::down_msg& msg) {
    for (auto& [name, c] : self->state.children) {
      if (!c.handle || c.handle.address() != msg.source)
        continue;
      c.running = false;
      c.handle = nullptr;
      self->system().registry().erase(name);
      if (self->state.stopping)
        return;
      c.restarts.push_back(clock::now());
      while (c.restarts.size() > 2 * restart_budget)
        c.restarts.pop_front();
      c.delay = c.delay.count() == 0 ? restart_initial : std::min(c.delay * 2, restart_max);
      metrics::instance().inc("actor_restarts_total", {{"subsystem", c.spec.label}});
      self->delayed_send(self, c.delay, atom::respawn_v, name);
      return;
    }
  });
  self->send(self, atom::tick_v);

  return {
    [self](atom::tick) {
      probe(self);
      // A subsystem that stayed up for a whole window earns its backoff back.
      for (auto& [name, c] : self->state.children)
        if (c.running && !c.restarts.empty() && clock::now() - c.restarts.back() > restart_window)
          c.delay = std::chrono::milliseconds{0};
      self->delayed_send(self, probe_interval, atom::tick_v);
    },
    [self](atom::respawn, caf::atom_value name) {
      auto& c = self->state.children[name];
      if (!c.running && !self->state.stopping)
        start_child(self, c);
    },
    [self](atom::health) {
      auto& st = self->state;
      health_report r;
      r.database = st.db_ok;
      r.redis = st.redis_ok;
      r.shutting_down = st.stopping;
      r.dependencies = true;
      for (auto& [name, c] : st.children) {
        bool fresh = clock::now() - c.last_heartbeat <= 3 * probe_interval + probe_timeout;
        if (!c.running || failed(c) || !fresh)
          r.dependencies = false;
      }
      return r;
    },
    [self](atom::drain) { self->state.stopping = true; },
    [](atom::heartbeat) { return true; },
  };
}

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, runtime_ptr rt,
                         std::function<void(const std::string&)> on_household) {
  auto endpoint = storage::parse_redis_url(rt->cfg.redis_url).value_or(storage::redis_endpoint{});
  auto stop = self->state.stop;
  self->set_exit_handler([self, stop](const caf::exit_msg& msg) {
    stop->store(true);
    self->quit(msg.reason);
  });

  // The listening loop blocks on its socket, so it gets a thread of its own; it
  // checks `stop` between reads (250 ms read timeout).
  auto spawn_worker = [self, endpoint, stop] {
    caf::actor me = self;
    self->state.worker = self->spawn<caf::detached + caf::monitored>(
      [endpoint, stop, me](caf::blocking_actor* worker) {
        auto sub = storage::redis_subscription::open(endpoint, invalidation_channel,
                                                     std::chrono::milliseconds{250});
        if (!sub)
          return;
        worker->send(me, atom::up_v);
        while (!stop->load()) {
          auto msg = (*sub)->next();
          if (!msg)
            return;
          if (*msg)
            worker->send(me, atom::invalidate_v, std::move(**msg));
        }
      });
  };
  self->set_down_handler([self, rt, spawn_worker](const caf::down_msg&) {
    rt->sessions->reset(false); // deaf: stop trusting memory (SPEC §9)
    self->state.worker = nullptr;
    if (self->state.stop->load())
      return;
    auto& d = self->state.delay;
    d = d.count() == 0 ? std::chrono::milliseconds{100} : std::min(d * 2, std::chrono::milliseconds{2000});
    self->delayed_send(self, d, atom::respawn_v);
  });
  spawn_worker();
  return {
    [self, rt](atom::up) {
      self->state.delay = std::chrono::milliseconds{0};
      rt->sessions->reset(true); // may have missed revocations while deaf: start clean
    },
    [self, spawn_worker](atom::respawn) {
      if (!self->state.worker)
        spawn_worker();
    },
    [rt, on_household](atom::invalidate, const std::string& payload) {
      auto j = nlohmann::json::parse(payload, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("t") || !j.contains("id"))
        return;
      if (j["t"] == "session") {
        auto sid = j["id"].get<std::string>();
        rt->sessions->erase(sid);
        if (auto hub = rt->lookup(names::events))
          caf::anon_send(hub, atom::revoke_v, sid);
      }
      else if (j["t"] == "household" && on_household)
        on_household(payload);
    },
    [](atom::heartbeat) { return true; },
  };
}

caf::actor spawn_hasher_pool(caf::local_actor* parent, size_t n) {
  pool_config cfg;
  cfg.name = "hasher";
  cfg.min = n;
  cfg.max = n;
  cfg.acquire_timeout = std::chrono::milliseconds{30000};
  cfg.idle_timeout = std::chrono::hours{24};
  cfg.connect = []() -> caf::expected<std::unique_ptr<storage::connection>> {
    return std::unique_ptr<storage::connection>{new thread_only};
  };
  return parent->spawn(pool_supervisor, std::move(cfg));
}

} // namespace petcare::actors
