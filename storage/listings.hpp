#pragma once
/// Paginated reads of SPEC §4.4 — household members, join requests, in-app
/// notifications and the audit log — plus the two notification writes.
///
/// Lists use keyset pagination (SPEC §4.1 "Lists"): every list is ordered by a
/// timestamp and a UUID tie-breaker, a page fetches `limit + 1` rows to learn
/// whether another page follows, and `nextCursor` is the sort key of the last
/// row returned, bound to the filters the list was read with:
/// `base64url(JSON {"k":[timestamp µs since the epoch, uuid], "f":filter})`.
/// Microseconds, not the milliseconds shown to clients, so rows created within
/// the same millisecond are neither skipped nor repeated.

#include <caf/expected.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "storage/database.hpp"

namespace petcare::storage::listings {

/// The sort key of one row: a timestamp and the UUID that breaks ties.
struct position {
  int64_t at_us = 0; ///< microseconds since the Unix epoch, 0 ≤ at_us ≤ max_at_us
  std::string id;    ///< lowercase UUID
};

bool operator==(const position& a, const position& b);

/// 9999-12-31T23:59:59.999999Z, the largest timestamp a cursor may carry.
inline constexpr int64_t max_at_us = 253402300799999999;

/// The opaque `nextCursor` for a page ending at `last`, read with `filter`.
std::string encode_cursor(const position& last, std::string_view filter);

enum class cursor_status { ok, malformed, other_filter };

struct decoded_cursor {
  cursor_status status = cursor_status::malformed;
  position after; ///< valid when status == ok
};

/// Reads a cursor made by `encode_cursor`; `other_filter` when it is well
/// formed but was issued for filters other than `filter`.
decoded_cursor decode_cursor(std::string_view text, std::string_view filter);

/// A validated page request.
struct page_request {
  int limit = 20;
  std::optional<position> after; ///< nullopt = first page
  std::string filter;            ///< what the cursors of this list are bound to
};

/// Validates the `limit` (an integer 1–100, default 20) and `cursor` query
/// values (nullopt = absent; `cursor=` empty counts as absent) into `out`.
/// Returns the VALIDATION_ERROR message, empty when both are fine.
std::string parse_page(std::optional<std::string_view> limit,
                       std::optional<std::string_view> cursor, std::string filter,
                       page_request& out);

/// `{members, nextCursor}`: with `expired` false the rows that grant access
/// now (by joinedAt, then userId); else the ended temporary memberships,
/// swept or not (latest endedAt first). Each item is a Member plus `status`
/// and `endedAt`.
caf::expected<nlohmann::json> members(database& db, const std::string& hid, bool expired,
                                      const page_request& page);

/// `{joinRequests, nextCursor}` of `user`, newest first, each with
/// `household {name, description}`; `status` "all" = no filter.
caf::expected<nlohmann::json> my_join_requests(database& db, const std::string& user,
                                               const std::string& status,
                                               const page_request& page);

/// `{joinRequests, nextCursor}` of household `hid`, oldest first, each with
/// `requester {userId, displayName, email}`; `status` "all" = no filter.
caf::expected<nlohmann::json> household_join_requests(database& db, const std::string& hid,
                                                      const std::string& status,
                                                      const page_request& page);

/// `{notifications, nextCursor, unreadCount}` of `user`, newest first, read
/// in one snapshot so the count matches the page.
caf::expected<nlohmann::json> notifications(database& db, const std::string& user,
                                            bool unread_only, const page_request& page);

/// Marks one of `user`'s notifications read, keeping the first `readAt`;
/// refused NOTIFICATION_NOT_FOUND when it is not theirs (or does not exist).
/// Answers `{notification}`.
caf::expected<nlohmann::json> mark_read(database& db, const std::string& user,
                                        const std::string& notification_id);

/// Marks all of `user`'s unread notifications read; answers `{updated}`.
caf::expected<nlohmann::json> mark_all_read(database& db, const std::string& user);

/// `{entries, nextCursor}`: household `hid`'s audit log, newest first.
caf::expected<nlohmann::json> audit_log(database& db, const std::string& hid,
                                        const page_request& page);

} // namespace petcare::storage::listings
