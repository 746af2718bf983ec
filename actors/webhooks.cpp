#include "actors/webhooks.hpp"

#include <algorithm>
#include <random>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/outbox.hpp"
#include "actors/pool.hpp"
#include "config/log.hpp"

namespace petcare::actors {

namespace {

using self_ptr = caf::stateful_actor<webhook_state>*;
using config::log_level;
using storage::webhooks::delivery;

constexpr auto watch_interval = std::chrono::milliseconds{100};
/// Above the 5 s POST timeout, well below the 60 s lease.
constexpr auto send_timeout = std::chrono::milliseconds{15000};

double jitter_unit() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(gen);
}

/// The sender pool's "connection": nothing to keep, only a thread of its own.
struct sender_connection final : storage::connection {
  caf::error ping() override { return caf::none; }
  bool broken() const override { return false; }
};

caf::actor spawn_sender(caf::local_actor* parent) {
  pool_config pc;
  pc.name = "webhook_sender";
  pc.min = 1;
  pc.max = static_cast<size_t>(webhook_parallel);
  pc.acquire_timeout = send_timeout;
  pc.idle_timeout = std::chrono::minutes{5};
  pc.connect = []() -> caf::expected<std::unique_ptr<storage::connection>> {
    return std::unique_ptr<storage::connection>{new sender_connection};
  };
  return parent->spawn<caf::linked>(pool_supervisor, std::move(pc));
}

void poll(self_ptr self);

/// Gives back every lease this instance holds (SPEC §8.4).
void release(self_ptr self) {
  auto& st = self->state;
  if (st.released)
    return;
  st.released = true;
  auto owner = st.rt->instance_id;
  with_db<int64_t>(
    self, st.rt, [owner](storage::database& db) { return storage::webhooks::release(db, owner); },
    [](caf::expected<int64_t> n) {
      config::log(log_level::info, "webhooks.stopped", {{"released", n ? *n : 0}});
    });
}

/// Shutdown waits for the last commit before giving the leases back.
void settle(self_ptr self) {
  auto& st = self->state;
  if (st.stopping && st.in_flight == 0 && !st.claiming)
    release(self);
}

/// The attempt is over: commits its outcome, then looks for more due rows.
void finish(self_ptr self, const delivery& d, const webhook::outcome& o) {
  auto& st = self->state;
  const auto& cfg = st.rt->cfg;
  auto step = next_step(o.ok, o.permanent, d.attempts, cfg.email_max_attempts);
  auto owner = st.rt->instance_id;
  auto id = d.id;
  auto delay = retry_delay_ms(d.attempts, cfg.email_retry_base_ms, cfg.email_retry_max_ms, jitter_unit());
  storage::webhooks::attempt_result a{o.status, o.error};
  with_db<bool>(
    self, st.rt,
    [=](storage::database& db) {
      if (step == delivery_step::sent)
        return storage::webhooks::mark_delivered(db, id, owner, a);
      if (step == delivery_step::failed)
        return storage::webhooks::mark_failed(db, id, owner, a);
      return storage::webhooks::mark_retry(db, id, owner, delay, a);
    },
    [=](caf::expected<bool> committed) {
      bool ok = committed && *committed;
      if (ok && step != delivery_step::retry)
        metrics::instance().inc("webhook_deliveries_total",
                                {{"outcome", step == delivery_step::sent ? "delivered" : "failed"}});
      const char* event = step == delivery_step::sent     ? "webhook.delivered"
                          : step == delivery_step::failed ? "webhook.failed"
                                                          : "webhook.retry_scheduled";
      config::log(step == delivery_step::sent ? log_level::info : log_level::warn, event,
                  {{"deliveryId", id},
                   {"event", d.event},
                   {"attempts", d.attempts},
                   {"statusCode", o.status ? *o.status : 0},
                   {"error", o.error},
                   {"retryInMs", step == delivery_step::retry ? delay : 0},
                   {"committed", ok}});
      self->state.in_flight -= 1;
      settle(self);
      poll(self);
    });
}

void dispatch(self_ptr self, delivery d) {
  auto strict = self->state.rt->cfg.strict;
  auto job = make_job<sender_connection>([d, strict](sender_connection&) -> caf::expected<webhook::outcome> {
    return webhook::post(d, strict, now_ms() / 1000);
  });
  self->request(self->state.sender, send_timeout, atom::exec_v, std::move(job))
    .then([self, d](webhook::outcome& o) { finish(self, d, o); },
          [self, d](caf::error&) {
            finish(self, d, webhook::outcome{false, std::nullopt, "network: sender unavailable", false});
          });
}

void poll(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (st.claiming) {
    st.again = true;
    return;
  }
  if (st.in_flight >= webhook_parallel)
    return; // a finishing attempt polls again
  st.claiming = true;
  st.again = false;
  auto owner = st.rt->instance_id;
  auto key = st.rt->cfg.encryption_key;
  with_db<storage::webhooks::claim_result>(
    self, st.rt,
    [owner, key](storage::database& db) { return storage::webhooks::claim(db, owner, key); },
    [self](caf::expected<storage::webhooks::claim_result> r) {
      auto& st = self->state;
      st.claiming = false;
      if (r && r->claimed) {
        st.in_flight += 1;
        dispatch(self, std::move(*r->claimed));
        return poll(self); // more may be due: fill the free slots
      }
      settle(self);
      if (r && st.again)
        poll(self);
    });
}

} // namespace

caf::behavior webhook_dispatcher(caf::stateful_actor<webhook_state>* self, runtime_ptr rt) {
  auto& st = self->state;
  st.rt = rt;
  st.sender = spawn_sender(self);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.stopping = true;
    if (self->state.sender)
      self->send_exit(self->state.sender, msg.reason);
    self->quit(msg.reason);
  });
  auto interval = std::chrono::milliseconds{std::max<int64_t>(rt->cfg.outbox_poll_interval_ms, 10)};
  self->send(self, atom::tick_v);
  self->delayed_send(self, watch_interval, atom::tick_v, std::string{"watch"});
  return {
    [self, interval](atom::tick) {
      poll(self);
      if (!self->state.stopping)
        self->delayed_send(self, interval, atom::tick_v);
    },
    [self](atom::ping) { poll(self); },
    [self](atom::tick, const std::string& job) {
      auto& st = self->state;
      if (job != "watch")
        return;
      if (st.rt->shutting_down && st.rt->shutting_down->load() && !st.stopping) {
        st.stopping = true; // claim nothing more; leases go back once in-flight work committed
        settle(self);
        return;
      }
      self->delayed_send(self, watch_interval, atom::tick_v, std::string{"watch"});
    },
    [](atom::heartbeat) { return true; },
  };
}

} // namespace petcare::actors
