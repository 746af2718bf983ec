#pragma once
/// Email transports of SPEC §7.3 — `smtp` (libcurl), `file` (`{id}.eml` and
/// `{id}.json` in EMAIL_FILE_DIR) and `log` (recipient domain, subject and
/// outbox id only) — and the mailer: a one-thread pool whose detached worker
/// owns the transport, so a blocking SMTP exchange never runs on a
/// cooperatively scheduled actor.

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "actors/accounts.hpp"
#include "config/settings.hpp"
#include "storage/outbox.hpp"

namespace petcare::actors::mail {

/// How one delivery attempt ended.
struct outcome {
  bool ok = false;
  bool permanent = false; ///< SMTP 5xx or an unusable message: do not retry
  std::string error;      ///< SMTP code and short reason, never addresses
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome& x) {
  return f(caf::meta::type_name("mail_outcome"), x.ok, x.permanent, x.error);
}

/// Sends one message; implementations block.
class transport {
public:
  virtual ~transport() = default;
  virtual outcome send(const storage::outbox::message& m) = 0;
};

/// The transport EMAIL_TRANSPORT names.
std::unique_ptr<transport> make_transport(const config::settings& cfg);

/// The RFC 5322 message (CRLF line ends): From, To, Subject (RFC 2047 when not
/// ASCII), Date, Message-ID, MIME-Version and a multipart/alternative body
/// with base64 text and HTML parts.
std::string mime_message(const storage::outbox::message& m, const std::string& from, int64_t now_ms);

/// `smtp://host:port` (starttls, none) or `smtps://host:port` (tls).
std::string smtp_url(const config::settings& cfg);

/// Classifies a finished SMTP exchange: curl result `rc` (0 = ok), the last
/// SMTP reply `code` (0 = none) and a short `reason`. 5xx is permanent; 4xx
/// and network failures are transient.
outcome classify_smtp(int rc, long code, const std::string& reason);

/// `text` with every word that contains '@' replaced by `[address]`.
std::string redact_addresses(const std::string& text);

/// The mailer pool (one detached worker owning the transport); protocol of
/// pool_supervisor. Linked to `parent`.
caf::actor spawn_mailer(caf::local_actor* parent, const config::settings& cfg);

/// Sends `m` on `mailer`; `done` runs on `self`.
void send_mail(caf::event_based_actor* self, const caf::actor& mailer, storage::outbox::message m,
               std::chrono::milliseconds timeout, callback<outcome> done);

} // namespace petcare::actors::mail
