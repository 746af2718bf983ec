#pragma once
/// Redis through hiredis (blocking; used only by pool workers and the subscriber).
/// Holds only losable data: sessions cache, rate-limit windows, the invalidation channel.

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/connection.hpp"
#include "storage/errc.hpp"

namespace petcare::storage {

/// Where a Redis server is, parsed from `redis://[user:password@]host[:port][/db]`.
struct redis_endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;
  std::string password;
  int db = 0;
};

/// Parses a Redis URL; nullopt when it is not one.
std::optional<redis_endpoint> parse_redis_url(const std::string& url);

/// Outcome of one sliding-window check (SPEC §3.9).
struct rate_decision {
  bool allowed = false;
  int64_t count = 0;     ///< entries in the window after this call
  int64_t reset_ms = 0;  ///< until the oldest entry leaves the window
  bool wait = false;     ///< full, but pending reservations may still be released
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rate_decision& x) {
  return f(caf::meta::type_name("rate_decision"), x.allowed, x.count, x.reset_ms, x.wait);
}

/// A parsed reply, for pipelined use.
struct redis_reply {
  enum class kind { nil, integer, string, status, error, array } type = kind::nil;
  int64_t integer = 0;
  std::string str;
  std::vector<redis_reply> elements;
};

/// The sliding-window script of `rate_take`, for pipelined `EVAL`.
const std::string& rate_script_text();

/// Script turning a pending reservation into a counted entry (KEYS[1]; ARGV: pending, committed).
const std::string& rate_commit_script_text();

/// Interprets a `rate_take` script reply.
caf::expected<rate_decision> parse_rate_reply(const redis_reply& r);

class redis final : public connection {
public:
  /// Connects with `timeout` for connect and each command.
  static caf::expected<std::unique_ptr<redis>> open(const redis_endpoint& ep,
                                                    std::chrono::milliseconds timeout);
  ~redis() override;

  caf::error ping() override;
  bool broken() const override;

  /// Atomically drops expired entries and, if fewer than `limit` remain, adds `member`.
  /// One round trip (a Lua script using the server's clock, so instances agree).
  caf::expected<rate_decision> rate_take(const std::string& key, int64_t limit, int64_t window_ms,
                                         const std::string& member);
  /// Removes a reserved entry again (the operation failed, SPEC §3.9).
  caf::error rate_release(const std::string& key, const std::string& member);

  /// GET; an empty string when the key is absent.
  caf::expected<std::string> get(const std::string& key);
  caf::error set(const std::string& key, const std::string& value, int64_t ttl_ms);
  caf::error del(const std::string& key);
  caf::error publish(const std::string& channel, const std::string& message);

  /// Pipelining: queue a command without waiting ...
  void append(const std::vector<std::string>& args);
  /// ... and read the replies in order (flushes queued commands first).
  caf::expected<redis_reply> read();

  struct impl;

private:
  explicit redis(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// A dedicated SUBSCRIBE connection (pub/sub needs a connection of its own).
class redis_subscription {
public:
  static caf::expected<std::unique_ptr<redis_subscription>>
  open(const redis_endpoint& ep, const std::string& channel, std::chrono::milliseconds timeout);
  ~redis_subscription();

  /// Waits up to the read timeout: a message, nullopt on timeout, or errc::unavailable.
  caf::expected<std::optional<std::string>> next();

  struct impl;

private:
  explicit redis_subscription(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace petcare::storage
