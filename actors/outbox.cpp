#include "actors/outbox.hpp"

#include <algorithm>
#include <random>

#include "actors/accounts.hpp"
#include "actors/mailer.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "config/log.hpp"
#include "storage/invites.hpp"
#include "storage/outbox.hpp"

namespace petcare::actors {

namespace {

using self_ptr = caf::stateful_actor<outbox_state>*;
using config::log_level;

constexpr auto watch_interval = std::chrono::milliseconds{100};
constexpr auto first_maintenance = std::chrono::seconds{2};
constexpr auto maintenance_interval = std::chrono::hours{1};
/// Above the transport's own 40 s bound, below the 60 s lease.
constexpr auto send_timeout = std::chrono::milliseconds{45000};

double jitter_unit() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(gen);
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
    self, st.rt, [owner](storage::database& db) { return storage::outbox::release(db, owner); },
    [](caf::expected<int64_t> n) {
      config::log(log_level::info, "outbox.stopped", {{"released", n ? *n : 0}});
    });
}

/// The send is over: commits its outcome, then looks for the next due row.
void finish(self_ptr self, const storage::outbox::message& m, const mail::outcome& o) {
  auto& st = self->state;
  const auto& cfg = st.rt->cfg;
  auto step = next_step(o.ok, o.permanent, m.attempts, cfg.email_max_attempts);
  auto owner = st.rt->instance_id;
  auto id = m.id;
  auto delay = retry_delay_ms(m.attempts, cfg.email_retry_base_ms, cfg.email_retry_max_ms, jitter_unit());
  auto error = o.error;
  with_db<bool>(
    self, st.rt,
    [=](storage::database& db) {
      if (step == delivery_step::sent)
        return storage::outbox::mark_sent(db, id, owner);
      if (step == delivery_step::failed)
        return storage::outbox::mark_failed(db, id, owner, error);
      return storage::outbox::mark_retry(db, id, owner, delay, error);
    },
    [=](caf::expected<bool> committed) {
      if (committed && *committed) {
        if (step == delivery_step::sent)
          metrics::instance().inc("email_outbox_sent_total");
        else if (step == delivery_step::failed)
          metrics::instance().inc("email_outbox_failed_total");
      }
      const char* event = step == delivery_step::sent     ? "email.delivered"
                          : step == delivery_step::failed ? "email.failed"
                                                          : "email.retry_scheduled";
      config::log(step == delivery_step::sent ? log_level::info : log_level::warn, event,
                  {{"outboxId", id},
                   {"attempts", m.attempts},
                   {"error", error},
                   {"retryInMs", step == delivery_step::retry ? delay : 0},
                   {"committed", committed && *committed}});
      self->state.busy = false;
      if (self->state.stopping)
        return release(self);
      poll(self);
    });
}

void poll(self_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (st.busy) {
    st.again = true;
    return;
  }
  st.busy = true;
  st.again = false;
  auto owner = st.rt->instance_id;
  auto key = st.rt->cfg.encryption_key;
  with_db<storage::outbox::claim_result>(
    self, st.rt, [owner, key](storage::database& db) { return storage::outbox::claim(db, owner, key); },
    [self](caf::expected<storage::outbox::claim_result> r) {
      auto& st = self->state;
      if (r)
        metrics::instance().set("email_outbox_pending", {}, static_cast<double>(r->waiting));
      if (!r || !r->claimed) {
        st.busy = false;
        if (st.stopping)
          return release(self);
        if (r && st.again)
          poll(self);
        return;
      }
      auto m = std::move(*r->claimed);
      mail::send_mail(self, st.mailer, m, send_timeout, [self, m](caf::expected<mail::outcome> o) {
        finish(self, m, o ? *o : mail::outcome{false, false, "mailer unavailable"});
      });
    });
}

/// §7.2: invites past their expiry and notifications past retention.
void maintenance(self_ptr self) {
  auto rt = self->state.rt;
  with_db<int64_t>(
    self, rt, [](storage::database& db) { return storage::invites::expire_overdue(db); },
    [](caf::expected<int64_t> n) {
      metrics::instance().inc("background_job_runs_total",
                              {{"job", "email_invite_expiry"}, {"outcome", !n ? "error" : *n < 0 ? "skipped" : "ok"}});
      if (n && *n > 0)
        config::log(log_level::info, "job.email_invites_expired", {{"count", *n}});
    });
  auto days = rt->cfg.notification_retention_days;
  with_db<int64_t>(
    self, rt, [days](storage::database& db) { return storage::outbox::purge_notifications(db, days); },
    [](caf::expected<int64_t> n) {
      metrics::instance().inc("background_job_runs_total",
                              {{"job", "notification_retention"}, {"outcome", !n ? "error" : *n < 0 ? "skipped" : "ok"}});
    });
}

} // namespace

delivery_step next_step(bool ok, bool permanent, int attempts, int64_t max_attempts) {
  if (ok)
    return delivery_step::sent;
  if (permanent || attempts >= max_attempts)
    return delivery_step::failed;
  return delivery_step::retry;
}

int64_t retry_delay_ms(int attempts, int64_t base_ms, int64_t max_ms, double unit) {
  int shift = std::clamp(attempts - 1, 0, 40);
  double d = std::min(static_cast<double>(base_ms) * static_cast<double>(int64_t{1} << shift),
                      static_cast<double>(max_ms));
  return static_cast<int64_t>(d * (0.8 + 0.4 * std::clamp(unit, 0.0, 1.0)));
}

caf::behavior outbox_dispatcher(caf::stateful_actor<outbox_state>* self, runtime_ptr rt) {
  auto& st = self->state;
  st.rt = rt;
  st.mailer = mail::spawn_mailer(self, rt->cfg);
  auto& m = metrics::instance();
  m.inc("email_outbox_sent_total", {}, 0);
  m.inc("email_outbox_failed_total", {}, 0);
  if (m.value("email_outbox_pending") == 0)
    m.set("email_outbox_pending", {}, 0); // present before the first claim answers
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->state.stopping = true;
    if (self->state.mailer)
      self->send_exit(self->state.mailer, msg.reason);
    self->quit(msg.reason);
  });
  auto interval = std::chrono::milliseconds{std::max<int64_t>(rt->cfg.outbox_poll_interval_ms, 10)};
  self->send(self, atom::tick_v);
  self->delayed_send(self, watch_interval, atom::tick_v, std::string{"watch"});
  self->delayed_send(self, first_maintenance, atom::tick_v, std::string{"maintenance"});
  return {
    [self, interval](atom::tick) {
      poll(self);
      if (!self->state.stopping)
        self->delayed_send(self, interval, atom::tick_v);
    },
    [self](atom::ping) { poll(self); },
    [self](atom::tick, const std::string& job) {
      auto& st = self->state;
      if (job == "watch") {
        if (st.rt->shutting_down && st.rt->shutting_down->load() && !st.stopping) {
          st.stopping = true;
          if (!st.busy)
            release(self);
          return;
        }
        self->delayed_send(self, watch_interval, atom::tick_v, std::string{"watch"});
      } else if (job == "maintenance" && !st.stopping) {
        maintenance(self);
        self->delayed_send(self, maintenance_interval, atom::tick_v, std::string{"maintenance"});
      }
    },
    [](atom::heartbeat) { return true; },
  };
}

} // namespace petcare::actors
