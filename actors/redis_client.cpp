#include "actors/redis_client.hpp"

#include "actors/metrics.hpp"

namespace petcare::actors {

namespace {

constexpr size_t max_batch = 256;

/// The connection's thread: waits for one job, takes whatever else is queued,
/// writes all commands, then reads all replies in order.
void redis_worker(caf::blocking_actor* self, storage::redis_endpoint ep, caf::actor parent,
                  std::shared_ptr<std::atomic<bool>> stop) {
  auto conn = storage::redis::open(ep, std::chrono::milliseconds{1000});
  if (!conn)
    return;
  self->send(parent, atom::up_v);
  struct item {
    redis_job job;
    caf::response_promise rp;
  };
  std::vector<item> batch;
  bool more = true;
  auto on_exec = [&](atom::exec, redis_job& j) {
    batch.push_back({std::move(j), self->make_response_promise()});
  };
  auto on_exit = [&](caf::exit_msg&) { stop->store(true); };
  while (!stop->load() && !(*conn)->broken()) {
    batch.clear();
    self->receive(on_exec, on_exit, [&](atom::ping) { (*conn)->ping(); },
                  caf::after(std::chrono::seconds{1}) >> [&] { (*conn)->ping(); });
    more = true;
    while (more && batch.size() < max_batch)
      self->receive(on_exec, on_exit, caf::after(std::chrono::seconds{0}) >> [&] { more = false; });
    for (auto& i : batch)
      (*conn)->append(*i.job.args);
    for (auto& i : batch) {
      auto reply = (*conn)->read();
      if (!reply) {
        i.rp.deliver(reply.error());
        continue;
      }
      auto msg = (*i.job.parse)(*reply);
      if (msg)
        i.rp.deliver(std::move(*msg));
      else
        i.rp.deliver(std::move(msg.error()));
    }
  }
}

} // namespace

redis_job redis_command(std::vector<std::string> args) {
  return make_redis_job<bool>(std::move(args),
                              [](const storage::redis_reply&) { return caf::expected<bool>{true}; });
}

void redis_send(caf::event_based_actor* self, const runtime_ptr& rt, std::vector<std::string> args) {
  redis_call<bool>(self, rt, redis_command(std::move(args)), [](caf::expected<bool>) {});
}

caf::behavior redis_supervisor(caf::event_based_actor* self, storage::redis_endpoint ep) {
  struct state {
    caf::actor worker;
    std::chrono::milliseconds delay{0};
    std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
  };
  auto st = std::make_shared<state>();
  auto spawn_worker = [self, ep, st] {
    st->worker = self->spawn<caf::detached + caf::monitored>(redis_worker, ep, caf::actor{self}, st->stop);
  };
  self->set_down_handler([self, st](const caf::down_msg& msg) {
    if (!st->worker || msg.source != st->worker.address())
      return;
    self->system().registry().erase(names::redis);
    st->worker = nullptr;
    if (st->stop->load())
      return;
    metrics::instance().inc("actor_restarts_total", {{"subsystem", "redis"}});
    st->delay = st->delay.count() == 0 ? std::chrono::milliseconds{100}
                                       : std::min(st->delay * 2, std::chrono::milliseconds{2000});
    self->delayed_send(self, st->delay, atom::respawn_v);
  });
  self->set_exit_handler([self, st](const caf::exit_msg& msg) {
    st->stop->store(true);
    self->system().registry().erase(names::redis);
    if (st->worker)
      self->send_exit(st->worker, msg.reason);
    self->quit(msg.reason);
  });
  spawn_worker();
  return {
    [self, st](atom::up) {
      st->delay = std::chrono::milliseconds{0};
      self->system().registry().put(names::redis, caf::actor_cast<caf::strong_actor_ptr>(st->worker));
    },
    [st, spawn_worker](atom::respawn) {
      if (!st->worker)
        spawn_worker();
    },
    [](atom::heartbeat) { return true; },
  };
}

} // namespace petcare::actors
