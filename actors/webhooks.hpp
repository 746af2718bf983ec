#pragma once
/// The `webhooks` subsystem (SPEC §4.5): the dispatcher of the webhook
/// deliveries outbox, built like the email outbox (§7.3). Every
/// OUTBOX_POLL_INTERVAL_MS it claims due deliveries one at a time under a 60 s
/// lease (up to `webhook_parallel` in flight), POSTs each on a detached libcurl
/// worker (timeout 5 s, no redirects) with the `X-Household-*` headers and
/// commits `delivered` (2xx), a retry with the §7.3 backoff, or `failed` after
/// EMAIL_MAX_ATTEMPTS. At shutdown it stops claiming and gives back its leases.
/// Also the checks of a webhook URL (scheme, credentials, and in strict mode
/// the addresses it resolves to).

#include <caf/all.hpp>

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "actors/accounts.hpp"
#include "actors/runtime.hpp"
#include "storage/webhooks.hpp"

namespace petcare::actors {

/// Registry name of the dispatcher; `(ping)` to it means "deliveries may be due now".
constexpr caf::atom_value webhooks_name = caf::atom("webhooks");

/// Deliveries sent at the same time by one instance.
constexpr int webhook_parallel = 4;

struct webhook_state {
  runtime_ptr rt;
  caf::actor sender;     ///< pool of detached libcurl workers
  int in_flight = 0;     ///< claimed deliveries not yet committed
  bool claiming = false; ///< a claim is in flight
  bool again = false;    ///< woken while claiming: claim once more afterwards
  bool stopping = false; ///< shutdown seen: claim nothing more
  bool released = false;
  static inline const char* name = "webhooks";
};

/// Protocol: `(tick)` poll timer; `(ping)` wake-up; `(tick, "watch")`
/// shutdown watch; `(heartbeat)` → true.
caf::behavior webhook_dispatcher(caf::stateful_actor<webhook_state>* self, runtime_ptr rt);

namespace webhook {

/// The VALIDATION_ERROR message for a webhook URL, empty when acceptable:
/// absolute http(s) URL ≤ 2048 characters with a host, https only in
/// `strict` mode, no user name or password, no spaces or controls.
std::string url_problem(const std::string& url, bool strict);

/// An acceptable URL as stored: the scheme in lower case.
std::string normalized_url(const std::string& url);

/// True for addresses a strict-mode webhook may not reach: loopback,
/// link-local, private (RFC 1918, ULA), shared (100.64/10), unspecified,
/// multicast and reserved; IPv4-mapped IPv6 is judged as IPv4.
bool is_internal_address(const sockaddr* a);

/// Resolves the URL's host on a short-lived detached thread; `done` gets the
/// VALIDATION_ERROR message (unresolvable, or an internal address), empty
/// when every address is public.
void check_destination(caf::event_based_actor* self, const std::string& url,
                       callback<std::string> done);

/// `t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>`; the key is
/// the base64url secret string exactly as the leader received it.
std::string signature(const std::string& secret, int64_t unix_seconds, const std::string& body);

/// How one POST ended.
struct outcome {
  bool ok = false;               ///< 2xx
  std::optional<int> status;     ///< the HTTP status, when a response came
  std::string error;             ///< e.g. "HTTP 500" or "network: …"; empty when ok
  bool permanent = false;        ///< not worth retrying (secret unreadable)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome&) {
  return f(caf::meta::type_name("webhook_outcome")); // local only
}

/// POSTs `d` (blocking; 5 s timeout, no redirects, http/https only; in
/// `strict` mode refuses to connect to an internal address).
outcome post(const storage::webhooks::delivery& d, bool strict, int64_t unix_seconds);

} // namespace webhook

} // namespace petcare::actors
