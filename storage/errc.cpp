#include "storage/errc.hpp"

namespace petcare::storage {

const char* to_string(errc x) {
  switch (x) {
    case errc::unavailable: return "unavailable";
    case errc::conflict: return "conflict";
    case errc::query_failed: return "query_failed";
    case errc::not_found: return "not_found";
    case errc::timeout: return "timeout";
    case errc::refused: return "refused";
  }
  return "unknown";
}

} // namespace petcare::storage
