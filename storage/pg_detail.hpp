#pragma once
/// Private to storage/*.cpp: the libpqxx connection and the exception → errc mapping.

#include <pqxx/pqxx>

#include <caf/expected.hpp>

#include "storage/database.hpp"

namespace petcare::storage {

struct database::impl {
  std::unique_ptr<pqxx::connection> conn;
  bool broken = false;
};

/// Milliseconds since the epoch, as SQL that reads a timestamptz column.
#define PETCARE_MS(col) "(extract(epoch from " col ") * 1000)::bigint"

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
    return make_error(errc::query_failed);
  } catch (const std::exception&) {
    if (d.conn == nullptr || !d.conn->is_open()) {
      d.broken = true;
      return make_error(errc::unavailable);
    }
    return make_error(errc::query_failed);
  }
}

} // namespace petcare::storage
