#include "storage/redis.hpp"

#include <hiredis/hiredis.h>

#include <cerrno>
#include <vector>

namespace petcare::storage {

namespace {

using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

/// Sliding-window log: entries scored by the server's clock in milliseconds.
/// ARGV: window, limit, member, mode. Mode "reserve" adds a pending entry
/// ("p:" member) and, when the window is full but some entries are still
/// pending, answers 2 ("wait") instead of refusing: a reservation that is later
/// released must never cause a 429 (SPEC §3.9).
constexpr const char* rate_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  allowed = 1
elseif ARGV[4] == 'reserve' then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if string.sub(m, 1, 2) == 'p:' then allowed = 2 break end
  end
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = window
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, count, reset}
)lua";

/// Turns pending entry ARGV[1] into committed entry ARGV[2] with the same score.
constexpr const char* commit_script = R"lua(
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[1], score, ARGV[2])
end
return 1
)lua";

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

redisContext* connect(const redis_endpoint& ep, std::chrono::milliseconds timeout) {
  auto tv = to_timeval(timeout);
  redisContext* c = redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
  if (c == nullptr)
    return nullptr;
  if (c->err != 0) {
    redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, tv);
  auto ok = [&](redisReply* r) {
    bool good = r != nullptr && r->type != REDIS_REPLY_ERROR;
    if (r != nullptr)
      freeReplyObject(r);
    return good;
  };
  if (!ep.password.empty()) {
    auto* r = ep.username.empty()
                ? static_cast<redisReply*>(redisCommand(c, "AUTH %s", ep.password.c_str()))
                : static_cast<redisReply*>(
                  redisCommand(c, "AUTH %s %s", ep.username.c_str(), ep.password.c_str()));
    if (!ok(r)) {
      redisFree(c);
      return nullptr;
    }
  }
  if (ep.db != 0 && !ok(static_cast<redisReply*>(redisCommand(c, "SELECT %d", ep.db)))) {
    redisFree(c);
    return nullptr;
  }
  return c;
}

redis_reply convert(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(convert(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

} // namespace

const std::string& rate_script_text() {
  static const std::string s = rate_script;
  return s;
}

const std::string& rate_commit_script_text() {
  static const std::string s = commit_script;
  return s;
}

caf::expected<rate_decision> parse_rate_reply(const redis_reply& r) {
  if (r.type != redis_reply::kind::array || r.elements.size() != 3)
    return make_error(errc::query_failed);
  return rate_decision{r.elements[0].integer == 1, r.elements[1].integer, r.elements[2].integer,
                       r.elements[0].integer == 2};
}

std::optional<redis_endpoint> parse_redis_url(const std::string& url) {
  redis_endpoint ep;
  std::string rest;
  if (url.rfind("redis://", 0) == 0)
    rest = url.substr(8);
  else if (url.rfind("rediss://", 0) == 0)
    rest = url.substr(9);
  else
    return std::nullopt;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto creds = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = creds.find(':'); colon != std::string::npos) {
      ep.username = creds.substr(0, colon);
      ep.password = creds.substr(colon + 1);
    } else {
      ep.password = creds;
    }
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      try {
        ep.db = std::stoi(db);
      } catch (...) {
        return std::nullopt;
      }
    }
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    try {
      ep.port = std::stoi(rest.substr(colon + 1));
    } catch (...) {
      return std::nullopt;
    }
    rest = rest.substr(0, colon);
  }
  if (!rest.empty())
    ep.host = rest;
  if (ep.host == "localhost")
    ep.host = "127.0.0.1";
  return ep;
}

struct redis::impl {
  redisContext* ctx = nullptr;
  std::string script_sha;
  bool broken = false;

  ~impl() {
    if (ctx != nullptr)
      redisFree(ctx);
  }

  /// Runs a command; errc::unavailable (and broken) on I/O errors.
  caf::expected<reply_ptr> run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) {
      broken = true;
      return make_error(errc::unavailable);
    }
    reply_ptr out{r, freeReplyObject};
    if (r->type == REDIS_REPLY_ERROR && std::string{r->str, r->len}.rfind("NOSCRIPT", 0) != 0)
      return make_error(errc::query_failed);
    return out;
  }
};

redis::redis(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
redis::~redis() = default;

caf::expected<std::unique_ptr<redis>> redis::open(const redis_endpoint& ep,
                                                  std::chrono::milliseconds timeout) {
  auto p = std::make_unique<impl>();
  p->ctx = connect(ep, timeout);
  if (p->ctx == nullptr)
    return make_error(errc::unavailable);
  auto sha = p->run({"SCRIPT", "LOAD", rate_script});
  if (!sha || (*sha)->type != REDIS_REPLY_STRING)
    return make_error(errc::unavailable);
  p->script_sha.assign((*sha)->str, (*sha)->len);
  return std::unique_ptr<redis>{new redis(std::move(p))};
}

bool redis::broken() const {
  return impl_->broken || impl_->ctx->err != 0;
}

caf::error redis::ping() {
  auto r = impl_->run({"PING"});
  return r ? caf::error{} : r.error();
}

caf::expected<rate_decision> redis::rate_take(const std::string& key, int64_t limit,
                                              int64_t window_ms, const std::string& member) {
  auto args = std::vector<std::string>{"EVALSHA", impl_->script_sha, "1", key,
                                       std::to_string(window_ms), std::to_string(limit), member, "count"};
  auto r = impl_->run(args);
  if (r && (*r)->type == REDIS_REPLY_ERROR) { // NOSCRIPT: the server lost its script cache
    args[0] = "EVAL";
    args[1] = rate_script;
    r = impl_->run(args);
  }
  if (!r)
    return r.error();
  auto& rep = **r;
  if (rep.type != REDIS_REPLY_ARRAY || rep.elements != 3)
    return make_error(errc::query_failed);
  return rate_decision{rep.element[0]->integer == 1, rep.element[1]->integer,
                       rep.element[2]->integer};
}

caf::error redis::rate_release(const std::string& key, const std::string& member) {
  auto r = impl_->run({"ZREM", key, member});
  return r ? caf::error{} : r.error();
}

caf::expected<std::string> redis::get(const std::string& key) {
  auto r = impl_->run({"GET", key});
  if (!r)
    return r.error();
  if ((*r)->type != REDIS_REPLY_STRING)
    return std::string{};
  return std::string{(*r)->str, (*r)->len};
}

caf::error redis::set(const std::string& key, const std::string& value, int64_t ttl_ms) {
  if (ttl_ms <= 0)
    return del(key);
  auto r = impl_->run({"SET", key, value, "PX", std::to_string(ttl_ms)});
  return r ? caf::error{} : r.error();
}

caf::error redis::del(const std::string& key) {
  auto r = impl_->run({"DEL", key});
  return r ? caf::error{} : r.error();
}

caf::error redis::publish(const std::string& channel, const std::string& message) {
  auto r = impl_->run({"PUBLISH", channel, message});
  return r ? caf::error{} : r.error();
}

void redis::append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(impl_->ctx, static_cast<int>(argv.size()), argv.data(), lens.data())
      != REDIS_OK)
    impl_->broken = true;
}

caf::expected<redis_reply> redis::read() {
  void* raw = nullptr;
  if (impl_->broken || redisGetReply(impl_->ctx, &raw) != REDIS_OK || raw == nullptr) {
    impl_->broken = true;
    return make_error(errc::unavailable);
  }
  reply_ptr r{static_cast<redisReply*>(raw), freeReplyObject};
  return convert(r.get());
}

struct redis_subscription::impl {
  redisContext* ctx = nullptr;
  ~impl() {
    if (ctx != nullptr)
      redisFree(ctx);
  }
};

redis_subscription::redis_subscription(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
redis_subscription::~redis_subscription() = default;

caf::expected<std::unique_ptr<redis_subscription>>
redis_subscription::open(const redis_endpoint& ep, const std::string& channel,
                         std::chrono::milliseconds timeout) {
  auto p = std::make_unique<impl>();
  p->ctx = connect(ep, timeout);
  if (p->ctx == nullptr)
    return make_error(errc::unavailable);
  auto* r = static_cast<redisReply*>(redisCommand(p->ctx, "SUBSCRIBE %b", channel.data(), channel.size()));
  if (r == nullptr)
    return make_error(errc::unavailable);
  freeReplyObject(r);
  return std::unique_ptr<redis_subscription>{new redis_subscription(std::move(p))};
}

caf::expected<std::optional<std::string>> redis_subscription::next() {
  void* raw = nullptr;
  if (redisGetReply(impl_->ctx, &raw) != REDIS_OK) {
    // A read timeout is not a failure: clear it and report "nothing yet".
    if (impl_->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      impl_->ctx->err = 0;
      impl_->ctx->errstr[0] = '\0';
      return std::optional<std::string>{};
    }
    return make_error(errc::unavailable);
  }
  reply_ptr r{static_cast<redisReply*>(raw), freeReplyObject};
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING)
    return std::optional<std::string>{std::string{r->element[2]->str, r->element[2]->len}};
  return std::optional<std::string>{};
}

} // namespace petcare::storage
