#pragma once
/// A blocking connection owned by exactly one pool worker.

#include <caf/error.hpp>

namespace petcare::storage {

/// Base of the PostgreSQL and Redis connections; only pool workers call it.
class connection {
public:
  virtual ~connection() = default;
  /// Round trip that proves the connection works (`SELECT 1` / `PING`).
  virtual caf::error ping() = 0;
  /// True once the connection is known to be unusable; the worker then quits.
  virtual bool broken() const = 0;
};

} // namespace petcare::storage
