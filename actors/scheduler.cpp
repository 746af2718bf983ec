#include "actors/scheduler.hpp"

#include <nlohmann/json.hpp>

#include "actors/accounts.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/pool.hpp"
#include "actors/redis_client.hpp"
#include "storage/households.hpp"
#include "storage/idempotency.hpp"
#include "storage/redis.hpp"

namespace petcare::actors {

caf::behavior scheduler(caf::stateful_actor<scheduler_state>* self, runtime_ptr rt) {
  auto interval = std::chrono::milliseconds{rt->cfg.expiry_sweep_interval_ms};
  self->delayed_send(self, interval, atom::tick_v);
  self->delayed_send(self, std::chrono::minutes{1}, atom::drain_v);
  return {
    // Hourly (first run a minute after start): expired idempotency keys.
    [=](atom::drain) {
      with_db<int64_t>(
        self, rt, [](storage::database& db) { return storage::idempotency::sweep(db); },
        [self](caf::expected<int64_t> n) {
          metrics::instance().inc("background_job_runs_total",
                                  {{"job", "idempotency_keys"}, {"outcome", n ? "ok" : "error"}});
          self->delayed_send(self, std::chrono::hours{1}, atom::drain_v);
        });
    },
    [=](atom::tick) {
      auto run_id = "job:temporary_access:" + rt->instance_id.substr(0, 8) + "-"
                    + std::to_string(++self->state.runs);
      with_db<std::vector<std::string>>(
        self, rt,
        [run_id](storage::database& db) { return storage::households::sweep_temporary(db, run_id); },
        [self, rt, interval](caf::expected<std::vector<std::string>> touched) {
          metrics::instance().inc("background_job_runs_total",
                                  {{"job", "temporary_access"}, {"outcome", touched ? "ok" : "error"}});
          if (touched) {
            auto reg = rt->lookup(names::households);
            for (auto& hid : *touched) {
              if (reg)
                self->send(reg, atom::invalidate_v, hid);
              auto note = nlohmann::json{{"t", "household"}, {"id", hid}, {"from", rt->instance_id}}.dump();
              redis_send(self, rt, {"PUBLISH", invalidation_channel, note});
            }
          }
          self->delayed_send(self, interval, atom::tick_v);
        });
    },
    [](atom::heartbeat) { return true; },
  };
}

} // namespace petcare::actors
