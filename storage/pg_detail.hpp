#pragma once
/// Private to storage/*.cpp: the libpqxx connection and the exception → errc mapping.

#include <pqxx/pqxx>

#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "storage/database.hpp"

namespace petcare::storage {

struct database::impl {
  std::unique_ptr<pqxx::connection> conn;
  bool broken = false;
};

/// Milliseconds since the epoch, as SQL that reads a timestamptz column.
#define PETCARE_MS(col) "(extract(epoch from " col ") * 1000)::bigint"

/// errc::query_failed carrying the server's message, for the error log only.
inline caf::error query_failed(const std::string& what) {
  return caf::error{static_cast<uint8_t>(errc::query_failed), errc_category,
                    caf::make_message(what.substr(0, what.find('\n')))}; // no DETAIL: it may hold values
}

/// Runs `f` and turns libpqxx exceptions into storage errors; a broken
/// connection marks the worker's connection unusable.
template <class F>
auto guarded(database::impl& d, F&& f) -> decltype(f()) {
  try {
    return f();
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
