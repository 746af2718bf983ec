#pragma once
/// The one place where every failure becomes the contract's error (SPEC §4.2).

#include <caf/error.hpp>

#include <string>

namespace petcare::http {

struct problem {
  int status = 500;
  std::string code = "INTERNAL_ERROR";
  std::string message = "An unexpected error occurred.";
  int retry_after = 0;          ///< seconds; 0 = no Retry-After header
  bool www_authenticate = false; ///< adds `WWW-Authenticate: Bearer`
  std::string reason;           ///< for logs and metrics only (e.g. authn failure reason)
};

/// The catalogue entry for `code` (status and message), e.g. problem_for("NOT_FOUND").
problem problem_for(const std::string& code);

/// 400 VALIDATION_ERROR with a message naming the field.
problem validation_error(const std::string& message);

/// Maps any error from actors or storage to its HTTP problem.
problem to_problem(const caf::error& err);

} // namespace petcare::http
