#include "actors/pool.hpp"

#include <algorithm>

#include "actors/metrics.hpp"
#include "storage/errc.hpp"

namespace petcare::actors {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto tick_interval = std::chrono::milliseconds{250};
constexpr auto heartbeat_interval = std::chrono::seconds{1};

/// One connection on its own thread. Quits when its connection breaks; the pool
/// notices through the down message and starts a replacement with backoff.
caf::behavior pool_worker(caf::event_based_actor* self, caf::actor pool, size_t index,
                          connect_fn connect) {
  auto opened = connect();
  if (!opened) {
    self->quit(opened.error());
    return {};
  }
  std::shared_ptr<storage::connection> conn = std::move(*opened);
  self->send(pool, atom::up_v, index);
  auto finish = [=] {
    self->send(pool, atom::idle_v, index);
    if (conn->broken())
      self->quit(storage::make_error(storage::errc::unavailable));
  };
  return {
    // The job leaves its result where the pool reads it on `(idle, index)`.
    [=](atom::exec, const pool_job& job) {
      try {
        (*job.run)(*conn);
      } catch (const std::exception&) {
      }
      finish();
    },
    [=](atom::ping) {
      conn->ping();
      finish();
    },
  };
}

void publish_gauges(pool_state& st) {
  int in_use = 0, idle = 0;
  for (auto& s : st.slots) {
    if (!s.up)
      continue;
    (s.busy ? in_use : idle) += 1;
  }
  auto& m = metrics::instance();
  if (st.cfg.name == "database") {
    m.set("db_pool_connections", {{"state", "in_use"}}, in_use);
    m.set("db_pool_connections", {{"state", "idle"}}, idle);
    m.set("db_pool_max", {}, static_cast<double>(st.cfg.max));
  }
  m.set("actor_mailbox_depth", {{"subsystem", st.cfg.name}}, static_cast<double>(st.queue.size()));
}

} // namespace

caf::behavior pool_supervisor(caf::stateful_actor<pool_state>* self, pool_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.last_finish = clock::now();
  st.slots.resize(std::max<size_t>(st.cfg.max, 1));
  const std::string timeouts_family = st.cfg.name == "database" ? "db_pool_acquire_timeouts_total"
                                                                : "redis_pool_acquire_timeouts_total";
  metrics::instance().inc(timeouts_family, {}, 0); // an unlabelled family is always present (SPEC §5)

  auto spawn_worker = [self](size_t i) {
    auto& s = self->state.slots[i];
    s.wanted = true;
    s.worker = self->spawn<caf::detached + caf::monitored>(pool_worker, caf::actor{self}, i,
                                                          self->state.cfg.connect);
  };
  auto slot_of = [self](const caf::actor_addr& a) -> pool_state::slot* {
    for (auto& s : self->state.slots)
      if (s.worker && s.worker.address() == a)
        return &s;
    return nullptr;
  };
  // Hands queued work to idle connections, oldest first.
  auto dispatch = [self] {
    auto& st = self->state;
    for (auto& s : st.slots) {
      if (st.queue.empty())
        return;
      if (!s.up || s.busy)
        continue;
      auto w = std::move(st.queue.front());
      st.queue.pop_front();
      s.busy = true;
      s.last_used = clock::now();
      s.rp = std::move(w.rp);
      s.result = std::make_shared<caf::expected<caf::message>>(
        storage::make_error(storage::errc::query_failed));
      auto run = [run = w.job.run, out = s.result](storage::connection& c) -> caf::expected<caf::message> {
        try {
          *out = (*run)(c);
        } catch (const std::exception&) {
          *out = storage::make_error(storage::errc::query_failed);
        }
        return caf::message{};
      };
      self->send(s.worker, atom::exec_v,
                 pool_job{std::make_shared<const std::function<caf::expected<caf::message>(storage::connection&)>>(
                   std::move(run))});
    }
  };
  // Answers the job of slot `s` (once: an early answer wins over a late result).
  auto answer = [](pool_state::slot& s, caf::expected<caf::message> r) {
    if (s.rp.pending())
      s.rp.deliver(std::move(r));
    s.rp = caf::response_promise{};
    s.result.reset();
  };
  // True while the server stopped answering: some job has been running for
  // `stall_after` and no job or ping ended meanwhile.
  auto stalled = [self] {
    auto& st = self->state;
    if (st.cfg.stall_after.count() == 0 || clock::now() - st.last_finish < st.cfg.stall_after)
      return false;
    return std::any_of(st.slots.begin(), st.slots.end(), [&](auto& s) {
      return s.up && s.busy && clock::now() - s.last_used >= st.cfg.stall_after;
    });
  };
  auto fail_waiting = [self, answer] {
    auto& st = self->state;
    for (auto& w : st.queue)
      w.rp.deliver(storage::make_error(storage::errc::unavailable));
    st.queue.clear();
    for (auto& s : st.slots)
      if (s.rp.pending())
        answer(s, storage::make_error(storage::errc::unavailable));
  };
  auto healthy = [self] {
    return std::count_if(self->state.slots.begin(), self->state.slots.end(),
                         [](auto& s) { return s.up; });
  };

  for (size_t i = 0; i < std::max<size_t>(st.cfg.min, 1); ++i)
    spawn_worker(i);
  // Workers are monitored, not linked (a broken connection must not take the
  // pool down), so the pool ends them itself.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& s : self->state.slots)
      if (s.worker)
        self->send_exit(s.worker, msg.reason);
    self->quit(msg.reason);
  });

  self->set_down_handler([=](const caf::down_msg& msg) {
    auto* s = slot_of(msg.source);
    if (s == nullptr)
      return;
    const bool was_up = s->up;
    if (s->rp.pending()) // died before it finished its job
      answer(*s, storage::make_error(storage::errc::unavailable));
    s->up = false;
    s->busy = false;
    s->worker = nullptr;
    if (!s->wanted)
      return; // retired on purpose (idle above min)
    metrics::instance().inc("actor_restarts_total", {{"subsystem", self->state.cfg.name}});
    s->delay = was_up ? self->state.cfg.backoff_initial
                      : std::min(std::max(s->delay * 2, self->state.cfg.backoff_initial),
                                 self->state.cfg.backoff_max);
    auto index = static_cast<size_t>(s - self->state.slots.data());
    self->delayed_send(self, s->delay, atom::respawn_v, index);
    if (healthy() == 0) { // nobody can serve the queue: fail fast rather than hang
      for (auto& w : self->state.queue)
        w.rp.deliver(storage::make_error(storage::errc::unavailable));
      self->state.queue.clear();
    }
  });
  self->send(self, atom::tick_v);

  return {
    [=](atom::exec, pool_job& job) -> caf::result<caf::message> {
      auto& st = self->state;
      if (healthy() == 0 || stalled())
        return storage::make_error(storage::errc::unavailable);
      auto rp = self->make_response_promise();
      st.queue.push_back({rp, std::move(job), clock::now() + st.cfg.acquire_timeout});
      dispatch();
      if (!st.queue.empty()) { // all busy: grow towards max
        for (size_t i = 0; i < st.slots.size(); ++i)
          if (!st.slots[i].wanted) {
            spawn_worker(i);
            break;
          }
      }
      return rp;
    },
    [=](atom::up, size_t i) {
      auto& s = self->state.slots[i];
      s.up = true;
      s.busy = false;
      s.delay = std::chrono::milliseconds{0};
      s.last_used = clock::now();
      self->state.last_finish = clock::now();
      dispatch();
    },
    [=](atom::idle, size_t i) {
      auto& s = self->state.slots[i];
      s.busy = false;
      self->state.last_finish = clock::now();
      if (s.result)
        answer(s, std::move(*s.result));
      dispatch();
    },
    [=](atom::respawn, size_t i) {
      if (self->state.slots[i].wanted && !self->state.slots[i].worker)
        spawn_worker(i);
    },
    [=](atom::tick) {
      auto& st = self->state;
      auto now = clock::now();
      if (stalled())
        fail_waiting();
      while (!st.queue.empty() && st.queue.front().deadline <= now) {
        metrics::instance().inc(timeouts_family);
        st.queue.front().rp.deliver(storage::make_error(storage::errc::timeout));
        st.queue.pop_front();
      }
      for (size_t i = 0; i < st.slots.size(); ++i) {
        auto& s = st.slots[i];
        if (!s.up || s.busy)
          continue;
        if (i >= st.cfg.min && now - s.last_used > st.cfg.idle_timeout) {
          s.wanted = false; // idle above min: close it
          s.up = false;
          self->send_exit(s.worker, caf::exit_reason::user_shutdown);
        } else if (now - s.last_used > heartbeat_interval) {
          s.busy = true; // heartbeat finds a dead connection before a request does
          s.last_used = now;
          self->send(s.worker, atom::ping_v);
        }
      }
      publish_gauges(st);
      self->delayed_send(self, tick_interval, atom::tick_v);
    },
    [](atom::heartbeat) { return true; },
    [=](atom::status) {
      auto& st = self->state;
      pool_status out;
      out.name = st.cfg.name;
      out.max = static_cast<int32_t>(st.cfg.max);
      out.queued = static_cast<int32_t>(st.queue.size());
      for (auto& s : st.slots) {
        out.healthy += s.up ? 1 : 0;
        out.in_use += s.up && s.busy ? 1 : 0;
        out.size += s.wanted ? 1 : 0;
      }
      return out;
    },
  };
}

} // namespace petcare::actors
