#pragma once
/// In-process cache of sessions known to be active. Trusted only while this
/// instance hears the Redis invalidation channel (SPEC §9): `coherent()`.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace petcare::actors {

class session_cache {
public:
  /// The user of `sid` if cached, unexpired and the cache is coherent.
  std::optional<std::string> find(const std::string& sid, int64_t now_ms) const;
  void put(const std::string& sid, const std::string& user_id, int64_t expires_at_ms);
  void erase(const std::string& sid);
  /// Forgets everything and sets coherence (resubscribed: start clean; lost: stop trusting).
  void reset(bool coherent);
  bool coherent() const { return coherent_.load(); }

private:
  struct entry {
    std::string user_id;
    int64_t expires_at_ms;
  };
  static constexpr size_t max_entries = 500000;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
  std::unordered_set<std::string> revoked_; ///< sessions never to cache again
  std::atomic<bool> coherent_{false};
};

} // namespace petcare::actors
