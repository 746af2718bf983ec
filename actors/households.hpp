#pragma once
/// One actor per household (SPEC §1.1): serialises that household's mutations
/// inside this instance and serves reads from memory while coherent (SPEC §9).

#include <caf/all.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "storage/households.hpp"

namespace petcare::actors {

struct household_state {
  runtime_ptr rt;
  std::string id;
  storage::household_row row;
  bool loaded = false;
  bool stale = true;
  bool gone = false; ///< absent or deactivated: answers HOUSEHOLD_NOT_FOUND until it stops
  std::shared_ptr<std::atomic<int64_t>> depth;
  static inline const char* name = "household";
};

/// Protocol: `(get)` → household_row (HOUSEHOLD_NOT_FOUND refusal when absent
/// or deactivated); `(exec, household_tx)` → tx_result after commit;
/// `(invalidate)` → re-read before the next answer.
caf::behavior household(caf::stateful_actor<household_state>* self, runtime_ptr rt, std::string id,
                        std::shared_ptr<std::atomic<int64_t>> depth);

struct registry_state {
  struct entry {
    household_handle handle;
  };
  runtime_ptr rt;
  std::unordered_map<std::string, entry> actors;
  std::unordered_map<caf::actor_addr, std::string> ids;
  static inline const char* name = "households";
};

/// Protocol: `(get, id)` → household_handle (spawned on first use);
/// `(invalidate, id)` → forwarded to a resident actor; `(heartbeat)`.
caf::behavior household_registry(caf::stateful_actor<registry_state>* self, runtime_ptr rt);

/// user → household id for `GET /v1/households/me`, positive entries only and
/// always confirmed against the household actor's coherent member list.
class household_directory {
public:
  std::string find(const std::string& user) const;
  void put(const std::string& user, const std::string& hid);
  void erase(const std::string& user);

private:
  mutable std::mutex mtx_;
  std::unordered_map<std::string, std::string> map_;
};

} // namespace petcare::actors
