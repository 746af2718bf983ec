#pragma once
/// Route table with the matching rules of SPEC §4.1: literal segments beat
/// parameters, also for method matching (`PATCH /v1/households/join` ⇒ 405,
/// `Allow: POST`); unknown paths ⇒ 404, known paths with another method ⇒ 405.

#include <caf/all.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/call.hpp"

namespace petcare::http {

/// A handler runs on the request's own short-lived actor.
using handler = std::function<void(const call_ptr&, caf::event_based_actor*)>;

enum class body_rule { none, optional, required };

struct route {
  std::string method; ///< "GET", "POST", "PATCH", "DELETE"
  std::string path;   ///< template, e.g. "/v1/join-requests/{requestId}/approve"
  handler run;
  bool auth = true;           ///< needs a bearer token
  body_rule body = body_rule::none;
  bool auth_limit = false;    ///< register/login: the `auth` rate limit
  bool operational = false;   ///< outside /v1: no limits, no auth
  bool secret_answer = false; ///< the 2xx carries tokens or secrets: an idempotent copy is sealed
};

/// `r` marked as answering with tokens or secrets (SPEC §9, §4.5).
inline route with_secret_answer(route r) {
  r.secret_answer = true;
  return r;
}

struct match {
  const route* found = nullptr;           ///< null: see `allow`
  std::map<std::string, std::string> params;
  std::string allow;                      ///< non-empty ⇒ 405 with this Allow header
  std::string path;                       ///< the template that matched, if any
};

class router {
public:
  void add(route r);
  match find(std::string_view method, std::string_view path) const;
  /// Every registered route in registration order (the OpenAPI consistency test walks it).
  std::vector<const route*> routes() const;

private:
  struct entry {
    std::vector<std::string> segments;
    route r;
  };
  std::vector<entry> routes_;
};

} // namespace petcare::http
