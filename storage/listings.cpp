#include "storage/listings.hpp"

#include "storage/crypto.hpp"
#include "storage/household_sql.hpp"

#include <algorithm>

namespace petcare::storage::listings {

using nlohmann::json;
using namespace detail;

/// A timestamp column as exact microseconds since the epoch (cursor keys).
#define PETCARE_US(col) "(extract(epoch from " col ") * 1000000)::bigint"

/// The timestamptz of a microsecond parameter. Split into seconds and
/// microseconds: PostgreSQL multiplies intervals in double precision, which is
/// exact only for the parts, not for the whole count of microseconds.
#define PETCARE_FROM_US(p)                                                                        \
  "(timestamptz 'epoch' + (" p "::bigint / 1000000) * interval '1 second' + (" p                  \
  "::bigint % 1000000) * interval '1 microsecond')"

#define PETCARE_ISO_OR_NULL(col) "CASE WHEN " col " IS NULL THEN NULL ELSE " PETCARE_ISO(col) " END"

#define PETCARE_MEMBER_COLS                                                                       \
  "m.user_id::text, u.display_name, m.role, m.is_temporary, "                                     \
  PETCARE_ISO_OR_NULL("m.temporary_expires_at") ", " PETCARE_ISO("m.joined_at") ", m.invited_by::text"

#define PETCARE_REQUEST_COLS                                                                      \
  "r.id::text, r.household_id::text, r.user_id::text, r.status, r.via, "                          \
  PETCARE_ISO("r.requested_at") ", " PETCARE_ISO_OR_NULL("r.responded_at") ", r.responded_by::text"

#define PETCARE_NOTIFICATION_COLS                                                                 \
  "n.id::text, n.type, n.title, n.body, n.data::text, " PETCARE_ISO("n.created_at") ", "          \
  PETCARE_ISO_OR_NULL("n.read_at")

namespace {

constexpr const char* nil_uuid = "00000000-0000-0000-0000-000000000000";
constexpr const char* max_uuid = "ffffffff-ffff-ffff-ffff-ffffffffffff";
constexpr size_t max_cursor_chars = 512;

/// Lowercase 8-4-4-4-12 hexadecimal, as PostgreSQL prints a uuid.
bool is_lower_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char ch = s[i];
    if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
      return false;
  }
  return true;
}

/// The key a page starts after: the cursor's, else one before every row.
position start_of(const page_request& page, bool descending) {
  if (page.after)
    return *page.after;
  return descending ? position{max_at_us, max_uuid} : position{0, nil_uuid};
}

json text_or_null(const pqxx::field& f) {
  return f.is_null() ? json(nullptr) : json(f.as<std::string>());
}

/// A jsonb column printed as text (always a valid object: checked in SQL).
json jsonb(const pqxx::field& f) {
  auto j = json::parse(f.c_str(), nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

/// The page of `rows` (fetched with limit + 1) as `{key: items, nextCursor}`.
/// Every list query ends its columns with the row's sort key (µs, uuid).
template <class F>
json page_of(const pqxx::result& rows, const page_request& page, const char* key, F item) {
  auto items = json::array();
  auto n = std::min<size_t>(rows.size(), static_cast<size_t>(page.limit));
  for (size_t i = 0; i < n; ++i)
    items.push_back(item(rows[static_cast<pqxx::result::size_type>(i)]));
  json next = nullptr;
  if (rows.size() > n) {
    auto last = rows[static_cast<pqxx::result::size_type>(n - 1)];
    auto cols = last.size();
    next = encode_cursor({last[cols - 2].as<int64_t>(), last[cols - 1].as<std::string>()}, page.filter);
  }
  return {{key, items}, {"nextCursor", next}};
}

json member_item(const pqxx::row& r) {
  return {{"userId", r[0].as<std::string>()},   {"displayName", r[1].as<std::string>()},
          {"role", r[2].as<std::string>()},     {"isTemporary", r[3].as<bool>()},
          {"temporaryExpiresAt", text_or_null(r[4])}, {"joinedAt", r[5].as<std::string>()},
          {"invitedBy", text_or_null(r[6])},    {"status", r[7].as<std::string>()},
          {"endedAt", text_or_null(r[8])}};
}

/// JoinRequest of SPEC §4.1 from the PETCARE_REQUEST_COLS columns.
json request_item(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},     {"householdId", r[1].as<std::string>()},
          {"userId", r[2].as<std::string>()}, {"status", r[3].as<std::string>()},
          {"via", r[4].as<std::string>()},    {"requestedAt", r[5].as<std::string>()},
          {"respondedAt", text_or_null(r[6])}, {"respondedBy", text_or_null(r[7])}};
}

json notification_item(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},    {"type", r[1].as<std::string>()},
          {"title", r[2].as<std::string>()}, {"body", r[3].as<std::string>()},
          {"data", jsonb(r[4])},             {"createdAt", r[5].as<std::string>()},
          {"readAt", text_or_null(r[6])}};
}

} // namespace

bool operator==(const position& a, const position& b) {
  return a.at_us == b.at_us && a.id == b.id;
}

std::string encode_cursor(const position& last, std::string_view filter) {
  json c{{"k", json::array({last.at_us, last.id})}, {"f", std::string{filter}}};
  return crypto::base64url(c.dump());
}

decoded_cursor decode_cursor(std::string_view text, std::string_view filter) {
  decoded_cursor out;
  if (text.empty() || text.size() > max_cursor_chars)
    return out;
  auto raw = crypto::base64url_decode(text);
  if (!raw)
    return out;
  auto c = json::parse(*raw, nullptr, false);
  if (c.is_discarded() || !c.is_object() || c.size() != 2)
    return out;
  auto k = c.find("k");
  auto f = c.find("f");
  if (k == c.end() || f == c.end() || !f->is_string() || !k->is_array() || k->size() != 2)
    return out;
  const auto& at = (*k)[0];
  const auto& id = (*k)[1];
  if (!at.is_number_integer() || !id.is_string() || !is_lower_uuid(id.get<std::string>()))
    return out;
  // Unsigned first: a huge value must not wrap when read as int64.
  if (at.is_number_unsigned() ? at.get<uint64_t>() > static_cast<uint64_t>(max_at_us)
                              : (at.get<int64_t>() < 0 || at.get<int64_t>() > max_at_us))
    return out;
  if (f->get<std::string>() != filter) {
    out.status = cursor_status::other_filter;
    return out;
  }
  out.status = cursor_status::ok;
  out.after = position{at.get<int64_t>(), id.get<std::string>()};
  return out;
}

std::string parse_page(std::optional<std::string_view> limit,
                       std::optional<std::string_view> cursor, std::string filter,
                       page_request& out) {
  out = page_request{};
  out.filter = std::move(filter);
  if (limit) {
    int v = 0;
    bool digits = !limit->empty();
    for (char ch : *limit) {
      digits = digits && ch >= '0' && ch <= '9';
      v = std::min(v * 10 + (ch - '0'), 1000); // saturates: long inputs cannot overflow
    }
    if (!digits || v < 1 || v > 100)
      return "limit must be an integer from 1 to 100.";
    out.limit = v;
  }
  if (cursor && !cursor->empty()) {
    auto d = decode_cursor(*cursor, out.filter);
    if (d.status == cursor_status::malformed)
      return "cursor is malformed.";
    if (d.status == cursor_status::other_filter)
      return "cursor was issued for other filters.";
    out.after = d.after;
  }
  return {};
}

caf::expected<json> members(database& db, const std::string& hid, bool expired,
                            const page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto from = start_of(page, expired);
    pqxx::result rows;
    if (!expired) {
      rows = tx.exec_params(
        "SELECT " PETCARE_MEMBER_COLS ", 'active', NULL::text, " PETCARE_US("m.joined_at")
        ", m.user_id::text FROM household_members m JOIN users u ON u.id = m.user_id "
        "WHERE m.household_id = $1 AND " PETCARE_ACTIVE("m")
        " AND (m.joined_at, m.user_id) > (" PETCARE_FROM_US("$2") ", $3::uuid) "
        "ORDER BY m.joined_at, m.user_id LIMIT $4",
        hid, from.at_us, from.id, page.limit + 1);
    } else {
      // Temporary rows past their end count as expired before the sweep marks
      // them (SPEC §3.5); their end is then the row's `temporary_expires_at`.
      rows = tx.exec_params(
        "SELECT " PETCARE_MEMBER_COLS ", 'expired', " PETCARE_ISO("e.ended") ", "
        PETCARE_US("e.ended") ", m.id::text "
        "FROM household_members m JOIN users u ON u.id = m.user_id "
        "CROSS JOIN LATERAL (SELECT coalesce(m.ended_at, m.temporary_expires_at) AS ended) e "
        "WHERE m.household_id = $1 AND (m.status = 'expired' OR (m.status = 'active' AND "
        "m.is_temporary AND m.temporary_expires_at <= now())) "
        "AND (e.ended, m.id) < (" PETCARE_FROM_US("$2") ", $3::uuid) "
        "ORDER BY e.ended DESC, m.id DESC LIMIT $4",
        hid, from.at_us, from.id, page.limit + 1);
    }
    return page_of(rows, page, "members", member_item);
  });
}

caf::expected<json> my_join_requests(database& db, const std::string& user,
                                     const std::string& status, const page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto from = start_of(page, true);
    auto rows = tx.exec_params(
      "SELECT " PETCARE_REQUEST_COLS ", h.name, h.description, " PETCARE_US("r.requested_at")
      ", r.id::text FROM household_join_requests r JOIN households h ON h.id = r.household_id "
      "WHERE r.user_id = $1 AND ($2::text = 'all' OR r.status = $2::text) "
      "AND (r.requested_at, r.id) < (" PETCARE_FROM_US("$3") ", $4::uuid) "
      "ORDER BY r.requested_at DESC, r.id DESC LIMIT $5",
      user, status, from.at_us, from.id, page.limit + 1);
    return page_of(rows, page, "joinRequests", [](const pqxx::row& r) {
      auto item = request_item(r);
      item["household"] = {{"name", r[8].as<std::string>()}, {"description", text_or_null(r[9])}};
      return item;
    });
  });
}

caf::expected<json> household_join_requests(database& db, const std::string& hid,
                                            const std::string& status, const page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto from = start_of(page, false);
    auto rows = tx.exec_params(
      "SELECT " PETCARE_REQUEST_COLS ", u.display_name, u.email, " PETCARE_US("r.requested_at")
      ", r.id::text FROM household_join_requests r JOIN users u ON u.id = r.user_id "
      "WHERE r.household_id = $1 AND ($2::text = 'all' OR r.status = $2::text) "
      "AND (r.requested_at, r.id) > (" PETCARE_FROM_US("$3") ", $4::uuid) "
      "ORDER BY r.requested_at, r.id LIMIT $5",
      hid, status, from.at_us, from.id, page.limit + 1);
    return page_of(rows, page, "joinRequests", [](const pqxx::row& r) {
      auto item = request_item(r);
      item["requester"] = {{"userId", r[2].as<std::string>()},
                           {"displayName", r[8].as<std::string>()},
                           {"email", r[9].as<std::string>()}};
      return item;
    });
  });
}

caf::expected<json> notifications(database& db, const std::string& user, bool unread_only,
                                  const page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn(db)};
    auto from = start_of(page, true);
    auto rows = tx.exec_params(
      "SELECT " PETCARE_NOTIFICATION_COLS ", " PETCARE_US("n.created_at") ", n.id::text "
      "FROM notifications n WHERE n.user_id = $1 AND (NOT $2::boolean OR n.read_at IS NULL) "
      "AND (n.created_at, n.id) < (" PETCARE_FROM_US("$3") ", $4::uuid) "
      "ORDER BY n.created_at DESC, n.id DESC LIMIT $5",
      user, unread_only, from.at_us, from.id, page.limit + 1);
    auto out = page_of(rows, page, "notifications", notification_item);
    out["unreadCount"] = tx.exec_params1("SELECT count(*) FROM notifications "
                                         "WHERE user_id = $1 AND read_at IS NULL",
                                         user)[0]
                           .as<int64_t>();
    return out;
  });
}

caf::expected<json> mark_read(database& db, const std::string& user,
                              const std::string& notification_id) {
  if (!is_lower_uuid(notification_id))
    return refused("NOTIFICATION_NOT_FOUND");
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::work tx{conn(db)};
    // Only an unread row is written, so the first readAt is kept.
    tx.exec_params0("UPDATE notifications SET read_at = now() "
                    "WHERE id = $1 AND user_id = $2 AND read_at IS NULL",
                    notification_id, user);
    auto r = tx.exec_params("SELECT " PETCARE_NOTIFICATION_COLS
                            " FROM notifications n WHERE n.id = $1 AND n.user_id = $2",
                            notification_id, user);
    if (r.empty())
      return refused("NOTIFICATION_NOT_FOUND");
    auto item = notification_item(r[0]);
    tx.commit();
    return json{{"notification", item}};
  });
}

caf::expected<json> mark_all_read(database& db, const std::string& user) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params0("UPDATE notifications SET read_at = now() "
                             "WHERE user_id = $1 AND read_at IS NULL",
                             user);
    tx.commit();
    return json{{"updated", r.affected_rows()}};
  });
}

caf::expected<json> audit_log(database& db, const std::string& hid, const page_request& page) {
  return guarded(db.internals(), [&]() -> caf::expected<json> {
    pqxx::read_transaction tx{conn(db)};
    auto from = start_of(page, true);
    auto rows = tx.exec_params(
      "SELECT a.id::text, a.action, a.actor_user_id::text, a.target_user_id::text, "
      "a.subject_id::text, a.metadata::text, a.request_id, " PETCARE_ISO("a.created_at") ", "
      PETCARE_US("a.created_at") ", a.id::text FROM audit_log a WHERE a.household_id = $1 "
      "AND (a.created_at, a.id) < (" PETCARE_FROM_US("$2") ", $3::uuid) "
      "ORDER BY a.created_at DESC, a.id DESC LIMIT $4",
      hid, from.at_us, from.id, page.limit + 1);
    return page_of(rows, page, "entries", [](const pqxx::row& r) {
      return json{{"id", r[0].as<std::string>()},      {"action", r[1].as<std::string>()},
                  {"actorUserId", text_or_null(r[2])}, {"targetUserId", text_or_null(r[3])},
                  {"subjectId", text_or_null(r[4])},   {"metadata", jsonb(r[5])},
                  {"requestId", r[6].as<std::string>()}, {"createdAt", r[7].as<std::string>()}};
    });
  });
}

} // namespace petcare::storage::listings
