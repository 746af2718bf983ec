#pragma once
/// Live events (SPEC §4.5): one hub per instance holds the open streams and
/// feeds them notifications (polled from PostgreSQL, so commits on any
/// instance arrive within ~0.5 s) and household changes (from the household
/// actors here and the invalidation channel from other instances).

#include <caf/all.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime.hpp"

namespace petcare::actors {

/// Where a stream's frames go (implemented by http/ over a chunked response).
class event_sink {
public:
  virtual ~event_sink() = default;
  /// Queues one frame; false once the client is gone.
  virtual bool send(const std::string& frame) = 0;
  /// Ends the stream.
  virtual void close() = 0;
};

/// A new stream for the hub.
struct stream_request {
  std::string user_id;
  std::string sid;
  int64_t expires_at_s = 0; ///< the access token's `exp`
  std::string last_event_id;
  std::shared_ptr<event_sink> sink;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_request&) {
  return f(caf::meta::type_name("stream_request"));
}

/// A committed household change for the members' streams.
struct household_event {
  std::string household_id;
  std::vector<std::string> changes;
  std::vector<std::string> members;
  std::string leader_id;
  int64_t version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, household_event&) {
  return f(caf::meta::type_name("household_event"));
}

struct hub_state {
  struct stream {
    uint64_t id = 0;
    stream_request req;
    std::map<std::string, int64_t> delivered; ///< notification id → created_us (recent window)
    std::chrono::steady_clock::time_point last_ping;
    bool primed = false; ///< recent notifications marked as already seen
    /// Newest notification sent here (created_us, id), else where the stream started:
    /// household frames carry it as their id, so a Last-Event-ID taken from a household
    /// event still replays every notification after it.
    int64_t cursor_us = 0;
    std::string cursor_id;
  };
  runtime_ptr rt;
  uint64_t next_id = 1;
  std::deque<stream> streams;
  bool polling = false;
  static inline const char* name = "events";
};

/// Protocol: `(open, stream_request)`, `(publish, household_event)`,
/// `(revoke, sid)`, `(heartbeat)`.
caf::behavior event_hub(caf::stateful_actor<hub_state>* self, runtime_ptr rt);

/// Frame of one SSE event.
std::string sse_frame(const std::string& id, const std::string& event, const std::string& data);

} // namespace petcare::actors
