#pragma once
/// Reads behind live events (SPEC §4.5): notifications as they appear and
/// replay after a Last-Event-ID.

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "storage/database.hpp"

namespace petcare::storage::events {

struct notification_event {
  std::string id;
  std::string user_id;
  int64_t created_us = 0; ///< for the event id and ordering
  nlohmann::json body;    ///< the Notification object of SPEC §4.1
};

struct batch {
  std::vector<notification_event> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch&) {
  return f(caf::meta::type_name("event_batch"));
}

/// Notifications of `users` created in the last `window_s` seconds, oldest first.
caf::expected<batch> recent(database& db, const std::vector<std::string>& users, int window_s);

/// Notifications of `user` after (created_us, id), oldest first, at most `limit`.
caf::expected<batch> after(database& db, const std::string& user, int64_t created_us,
                           const std::string& id, int limit);

} // namespace petcare::storage::events
