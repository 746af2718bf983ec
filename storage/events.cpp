#include "storage/events.hpp"

#include "storage/household_sql.hpp"

namespace petcare::storage::events {

namespace {

constexpr const char* columns =
  "id::text, user_id::text, (extract(epoch from created_at) * 1000000)::bigint, type, title, body, "
  "data::text, " PETCARE_ISO("created_at") ", CASE WHEN read_at IS NULL THEN NULL ELSE "
  PETCARE_ISO("read_at") " END";

batch to_batch(const pqxx::result& rows) {
  batch out;
  for (const auto& r : rows) {
    notification_event e;
    e.id = r[0].as<std::string>();
    e.user_id = r[1].as<std::string>();
    e.created_us = r[2].as<int64_t>();
    e.body = {{"id", e.id},
              {"type", r[3].as<std::string>()},
              {"title", r[4].as<std::string>()},
              {"body", r[5].as<std::string>()},
              {"data", nlohmann::json::parse(r[6].as<std::string>(), nullptr, false)},
              {"createdAt", r[7].as<std::string>()},
              {"readAt", r[8].is_null() ? nlohmann::json(nullptr) : nlohmann::json(r[8].as<std::string>())}};
    out.items.push_back(std::move(e));
  }
  return out;
}

} // namespace

caf::expected<batch> recent(database& db, const std::vector<std::string>& users, int window_s) {
  std::string array = "{";
  for (size_t i = 0; i < users.size(); ++i)
    array += (i ? "," : "") + users[i];
  array += "}";
  return guarded(db.internals(), [&]() -> caf::expected<batch> {
    pqxx::nontransaction tx{detail::conn(db)};
    return to_batch(tx.exec_params(std::string{"SELECT "} + columns
                                     + " FROM notifications WHERE user_id = ANY($1::uuid[]) AND "
                                       "created_at > now() - make_interval(secs => $2) "
                                       "ORDER BY created_at, id",
                                   array, window_s));
  });
}

caf::expected<batch> after(database& db, const std::string& user, int64_t created_us,
                           const std::string& id, int limit) {
  return guarded(db.internals(), [&]() -> caf::expected<batch> {
    pqxx::nontransaction tx{detail::conn(db)};
    return to_batch(tx.exec_params(
      std::string{"SELECT "} + columns
        + " FROM notifications WHERE user_id = $1 AND (created_at, id) > "
          "(timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid) ORDER BY created_at, id LIMIT $4",
      user, created_us, id, limit));
  });
}

} // namespace petcare::storage::events
