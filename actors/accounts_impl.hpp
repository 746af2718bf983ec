#pragma once
/// Template definitions for accounts.hpp.

#include "actors/errc.hpp"
#include "actors/messages.hpp"
#include "actors/pool.hpp"
#include "storage/database.hpp"

namespace petcare::actors {

template <class T, class F>
void with_db(caf::event_based_actor* self, const runtime_ptr& rt, F fn, callback<T> done) {
  auto db = rt->db();
  if (!db) {
    done(storage::make_error(storage::errc::unavailable));
    return;
  }
  self->request(db, std::chrono::milliseconds{rt->cfg.request_timeout_ms}, atom::exec_v,
                make_job<storage::database>(std::move(fn)))
    .then([done](T& x) { done(std::move(x)); }, [done](caf::error& e) { done(std::move(e)); });
}

} // namespace petcare::actors
