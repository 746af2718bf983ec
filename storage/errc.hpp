#pragma once
/// Errors of the storage layer, carried as `caf::error` values.

#include <caf/error.hpp>
#include <caf/atom.hpp>
#include <cstdint>

namespace petcare::storage {

enum class errc : uint8_t {
  unavailable = 1, ///< connection lost or database down (→ 503, Retry-After 5)
  conflict,        ///< unique or exclusion violation
  query_failed,    ///< any other SQL error (→ 500)
  not_found,       ///< the row asked for does not exist
  timeout,         ///< pool acquire or statement timeout (→ 503)
  refused,         ///< a business rule said no; context: (code, message) of SPEC §4.2
};

/// Category atom used when rendering `errc` values.
constexpr caf::atom_value errc_category = caf::atom("storage");

inline caf::error make_error(errc x) { return caf::error{static_cast<uint8_t>(x), errc_category}; }

const char* to_string(errc x);

} // namespace petcare::storage
