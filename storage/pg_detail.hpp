#pragma once
/// Private to storage/*.cpp: the libpqxx connection and the exception → errc mapping.

#include <pqxx/pqxx>

#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <string>
#include <type_traits>
#include <vector>

#include "storage/database.hpp"

namespace petcare::storage {

struct database::impl {
  std::unique_ptr<pqxx::connection> conn;
  bool broken = false;
};

/// Milliseconds since the epoch, as SQL that reads a timestamptz column. Truncated
/// (floor), like to_char's MS in PETCARE_ISO, so one instant prints the same everywhere.
#define PETCARE_MS(col) "floor(extract(epoch from " col ") * 1000)::bigint"

/// errc::query_failed carrying the server's message, for the error log only.
inline caf::error query_failed(const std::string& what) {
  return caf::error{static_cast<uint8_t>(errc::query_failed), errc_category,
                    caf::make_message(what.substr(0, what.find('\n')))}; // no DETAIL: it may hold values
}

/// Runs `f` and turns libpqxx exceptions into storage errors; a broken
/// connection marks the worker's connection unusable.
/// What the storage call running on this thread wrote that observers outside
/// storage count or log (notification types, audited actions), reported to the
/// observers (storage/database.hpp) only when the call succeeded, i.e. after
/// its transaction committed.
class commit_tally {
public:
  commit_tally();
  ~commit_tally();
  commit_tally(const commit_tally&) = delete;
  commit_tally& operator=(const commit_tally&) = delete;
  void committed();
  /// From notify(): one notification of `type` in the current transaction.
  static void notification(const std::string& type);
  /// From audit(): one audited action in the current transaction.
  static void audited(audited_action a);

private:
  std::vector<std::string> notifications_;
  std::vector<audited_action> audited_;
  commit_tally* outer_;
};

template <class F>
auto guarded(database::impl& d, F&& f) -> decltype(f()) {
  try {
    commit_tally tally;
    auto result = f();
    if constexpr (std::is_same_v<decltype(result), caf::error>) {
      if (!result)
        tally.committed();
    } else if (result) {
      tally.committed();
    }
    return result;
  } catch (const pqxx::broken_connection&) {
    d.broken = true;
    return make_error(errc::unavailable);
  } catch (const pqxx::unique_violation&) {
    return make_error(errc::conflict);
  } catch (const pqxx::in_doubt_error&) {
    d.broken = true;
    return make_error(errc::unavailable);
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    if (state == "57014") // statement_timeout / cancel
      return make_error(errc::timeout);
    // Admin shutdown / terminated backend arrive as sql_error with SQLSTATE 57P..
    if (state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0) {
      d.broken = true;
      return make_error(errc::unavailable);
    }
    return query_failed(e.what());
  } catch (const std::exception& e) {
    if (d.conn == nullptr || !d.conn->is_open()) {
      d.broken = true;
      return make_error(errc::unavailable);
    }
    return query_failed(e.what());
  }
}

} // namespace petcare::storage
