#include "actors/session_cache.hpp"

namespace petcare::actors {

std::optional<std::string> session_cache::find(const std::string& sid, int64_t now_ms) const {
  if (!coherent_.load())
    return std::nullopt;
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(sid);
  if (i == entries_.end() || i->second.expires_at_ms <= now_ms)
    return std::nullopt;
  return i->second.user_id;
}

void session_cache::put(const std::string& sid, const std::string& user_id,
                        int64_t expires_at_ms) {
  if (!coherent_.load())
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  if (revoked_.count(sid) != 0)
    return; // revoked while its lookup was in flight
  if (entries_.size() >= max_entries)
    entries_.clear(); // crude bound; a miss only costs a Redis lookup
  entries_[sid] = entry{user_id, expires_at_ms};
}

void session_cache::erase(const std::string& sid) {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_.erase(sid);
  if (revoked_.size() >= max_entries)
    revoked_.clear();
  revoked_.insert(sid);
}

void session_cache::reset(bool coherent) {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_.clear();
  coherent_.store(coherent);
}

} // namespace petcare::actors
