#include "actors/events.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <set>

#include "actors/accounts.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/validation.hpp"
#include "storage/events.hpp"

namespace petcare::actors {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto poll_interval = std::chrono::milliseconds{500};
constexpr auto ping_interval = std::chrono::seconds{15};
constexpr int window_s = 30;           ///< how far back a poll looks (covers slow commits)
constexpr size_t max_streams_per_user = 5;
constexpr int replay_limit = 500;

constexpr const char* nil_uuid = "00000000-0000-0000-0000-000000000000";

std::string cursor_text(int64_t us, const std::string& id) { return "n." + std::to_string(us) + "." + id; }

std::string notification_id(const storage::events::notification_event& n) {
  return cursor_text(n.created_us, n.id);
}

/// "n.<created_us>.<uuid>" → (created_us, uuid); nullopt for anything else.
std::optional<std::pair<int64_t, std::string>> parse_cursor(const std::string& text) {
  if (text.rfind("n.", 0) != 0)
    return std::nullopt;
  auto dot = text.find('.', 2);
  if (dot == std::string::npos)
    return std::nullopt;
  int64_t us = 0;
  try {
    us = std::stoll(text.substr(2, dot - 2));
  } catch (...) {
    return std::nullopt;
  }
  auto id = normalize_uuid(text.substr(dot + 1));
  if (!id)
    return std::nullopt;
  return std::make_pair(us, *id);
}

/// Moves the stream's cursor forward to notification (us, id) (never back).
void advance(hub_state::stream& s, int64_t us, const std::string& id) {
  if (us > s.cursor_us || (us == s.cursor_us && id > s.cursor_id)) {
    s.cursor_us = us;
    s.cursor_id = id;
  }
}

void gauge(const hub_state& st) {
  metrics::instance().set("sse_streams_open", {}, static_cast<double>(st.streams.size()));
}

void close_where(hub_state& st, const std::function<bool(const hub_state::stream&)>& pred) {
  auto it = std::remove_if(st.streams.begin(), st.streams.end(), [&](hub_state::stream& s) {
    if (!pred(s))
      return false;
    s.req.sink->close();
    return true;
  });
  st.streams.erase(it, st.streams.end());
  gauge(st);
}

/// Sends `n` once per stream of its user; drops streams whose client left.
void deliver(hub_state& st, const storage::events::notification_event& n) {
  auto frame = sse_frame(notification_id(n), "notification", n.body.dump());
  for (auto& s : st.streams) {
    if (!s.primed || s.req.user_id != n.user_id || s.delivered.count(n.id) != 0)
      continue;
    s.delivered.emplace(n.id, n.created_us);
    s.req.sink->send(frame);
    advance(s, n.created_us, n.id);
  }
}

void prune(hub_state::stream& s, int64_t now_us) {
  for (auto i = s.delivered.begin(); i != s.delivered.end();)
    i = i->second < now_us - int64_t{2} * window_s * 1000000 ? s.delivered.erase(i) : std::next(i);
}

} // namespace

std::string sse_frame(const std::string& id, const std::string& event, const std::string& data) {
  return "id: " + id + "\nevent: " + event + "\ndata: " + data + "\n\n";
}

caf::behavior event_hub(caf::stateful_actor<hub_state>* self, runtime_ptr rt) {
  self->state.rt = rt;
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    close_where(self->state, [](const hub_state::stream&) { return true; });
    self->quit(msg.reason);
  });
  self->send(self, atom::tick_v);
  return {
    [self](atom::open, stream_request& req) {
      auto& st = self->state;
      // At most five streams per user: the oldest makes room.
      size_t mine = std::count_if(st.streams.begin(), st.streams.end(),
                                  [&](auto& s) { return s.req.user_id == req.user_id; });
      if (mine >= max_streams_per_user) {
        auto oldest = std::find_if(st.streams.begin(), st.streams.end(),
                                   [&](auto& s) { return s.req.user_id == req.user_id; });
        auto victim = oldest->id;
        close_where(st, [victim](auto& s) { return s.id == victim; });
      }
      hub_state::stream s;
      s.id = st.next_id++;
      s.req = req;
      s.last_ping = clock::now();
      const int64_t open_us = now_ms() * 1000;
      auto from = parse_cursor(req.last_event_id);
      s.cursor_us = from ? from->first : open_us;
      s.cursor_id = from ? from->second : nil_uuid;
      // The first poll must not replay the recent window as if it were new.
      auto user = req.user_id;
      auto id = s.id;
      st.streams.push_back(std::move(s));
      gauge(st);
      with_db<storage::events::batch>(
        self, st.rt, [user](storage::database& db) { return storage::events::recent(db, {user}, window_s); },
        [self, id, user, from, open_us](caf::expected<storage::events::batch> recent) {
          auto& st = self->state;
          auto s = std::find_if(st.streams.begin(), st.streams.end(), [id](auto& x) { return x.id == id; });
          if (s == st.streams.end())
            return;
          if (!recent) {
            s->primed = true;
            return;
          }
          // Only what predates the stream counts as seen: a notification written
          // between the open and this read is still delivered by the next poll.
          for (auto& n : recent->items)
            if (n.created_us < open_us)
              s->delivered.emplace(n.id, n.created_us);
          s->primed = true;
          // Last-Event-ID "n.<created_us>.<id>": replay every notification after it.
          if (!from)
            return;
          with_db<storage::events::batch>(
            self, st.rt,
            [user, us = from->first, nid = from->second](storage::database& db) {
              return storage::events::after(db, user, us, nid, replay_limit);
            },
            [self, id, open_us](caf::expected<storage::events::batch> missed) {
              auto& st = self->state;
              auto s = std::find_if(st.streams.begin(), st.streams.end(), [id](auto& x) { return x.id == id; });
              if (s == st.streams.end() || !missed)
                return;
              for (auto& n : missed->items) {
                if (!s->delivered.emplace(n.id, n.created_us).second && n.created_us >= open_us)
                  continue; // already sent live by a poll that ran before this answer
                s->req.sink->send(sse_frame(notification_id(n), "notification", n.body.dump()));
                advance(*s, n.created_us, n.id);
              }
            });
        });
    },
    [self](atom::publish, const household_event& e) {
      auto at = format_time_ms(now_ms());
      for (auto& change : e.changes) {
        nlohmann::json data{{"householdId", e.household_id}, {"change", change},
                            {"version", e.version}, {"at", at}};
        auto payload = data.dump();
        std::set<std::string> to(e.members.begin(), e.members.end());
        for (auto& s : self->state.streams) {
          if (to.count(s.req.user_id) == 0)
            continue;
          if (change == "invite_code_regenerated" && s.req.user_id != e.leader_id)
            continue; // the leader's business only
          // The id is the stream's notification cursor: reconnecting with it replays
          // every notification this stream has not sent yet (SPEC §4.5).
          s.req.sink->send(sse_frame(cursor_text(s.cursor_us, s.cursor_id), "household", payload));
        }
      }
    },
    [self](atom::revoke, const std::string& sid) {
      close_where(self->state, [&](auto& s) { return s.req.sid == sid; });
    },
    [self](atom::tick) {
      auto& st = self->state;
      auto now_s = now_ms() / 1000;
      close_where(st, [&](auto& s) { return s.req.expires_at_s <= now_s; });
      for (auto& s : st.streams) {
        prune(s, now_ms() * 1000);
        if (clock::now() - s.last_ping >= ping_interval) {
          s.last_ping = clock::now();
          if (!s.req.sink->send(": ping\n\n"))
            s.req.expires_at_s = 0; // gone: closed on the next tick
        }
      }
      self->delayed_send(self, poll_interval, atom::tick_v);
      if (st.streams.empty() || st.polling)
        return;
      std::set<std::string> users;
      for (auto& s : st.streams)
        users.insert(s.req.user_id);
      st.polling = true;
      with_db<storage::events::batch>(
        self, st.rt,
        [list = std::vector<std::string>(users.begin(), users.end())](storage::database& db) {
          return storage::events::recent(db, list, window_s);
        },
        [self](caf::expected<storage::events::batch> b) {
          self->state.polling = false;
          if (!b)
            return;
          for (auto& n : b->items)
            deliver(self->state, n);
        });
    },
    [](atom::heartbeat) { return true; },
  };
}

} // namespace petcare::actors
