#include "storage/outbox.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "storage/crypto.hpp"
#include "storage/household_sql.hpp"

namespace petcare::storage::outbox {

using detail::conn;

namespace {

/// Key of the §7.2 notification retention job (7101 is the temporary-access sweep).
constexpr int purge_lock_key = 7202;

std::string from_hex(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(),
                     hex.size(), nullptr, &len, nullptr)
      != 0)
    return {};
  out.resize(len);
  return out;
}

/// Escaped multi-line user text with its line breaks kept as `<br>`.
std::string html_lines(const std::string& s) {
  std::string out;
  for (char ch : html_escape(s)) {
    if (ch == '\r')
      continue;
    if (ch == '\n')
      out += "<br>\n";
    else
      out += ch;
  }
  return out;
}

} // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

composed compose_invite(const invite_mail& m) {
  composed c;
  c.subject = m.sender_name + " invited you to join " + m.household_name;
  auto& t = c.text;
  t = "Hi,\n\n" + m.sender_name + " invited you to join the household \"" + m.household_name
      + "\".\n\n";
  if (m.description)
    t += "About " + m.household_name + ": " + *m.description + "\n\n";
  if (m.personal_message)
    t += "Personal message from " + m.sender_name + ":\n" + *m.personal_message + "\n\n";
  t += "Accept the invitation:\n" + m.invite_url + "\n\n";
  t += "This invitation expires on " + m.expires
       + ". After you accept, the household leader approves your request.\n"
         "If you were not expecting this email, you can ignore it.\n";

  auto sender = html_escape(m.sender_name);
  auto name = html_escape(m.household_name);
  auto url = html_escape(m.invite_url);
  auto& h = c.html;
  h = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html_escape(c.subject)
      + "</title></head>\n<body>\n<p>Hi,</p>\n<p><strong>" + sender
      + "</strong> invited you to join the household <strong>" + name + "</strong>.</p>\n";
  if (m.description)
    h += "<p>About " + name + ": " + html_escape(*m.description) + "</p>\n";
  if (m.personal_message)
    h += "<p>Personal message from " + sender + ":</p>\n<blockquote>" + html_lines(*m.personal_message)
         + "</blockquote>\n";
  h += "<p><a href=\"" + url + "\">Accept the invitation</a></p>\n<p>" + url + "</p>\n";
  h += "<p>This invitation expires on " + html_escape(m.expires)
       + ". After you accept, the household leader approves your request.</p>\n"
         "<p>If you were not expecting this email, you can ignore it.</p>\n</body></html>\n";
  return c;
}

sealed seal(const std::string& key, const std::string& plain, const std::string& ad) {
  crypto::init();
  sealed s;
  s.nonce = crypto::random_bytes(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  s.ciphertext.resize(plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    reinterpret_cast<unsigned char*>(s.ciphertext.data()), &len,
    reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
    reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
    reinterpret_cast<const unsigned char*>(s.nonce.data()),
    reinterpret_cast<const unsigned char*>(key.data()));
  s.ciphertext.resize(static_cast<size_t>(len));
  return s;
}

std::optional<std::string> open(const std::string& key, const sealed& s, const std::string& ad) {
  crypto::init();
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES
      || s.nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
      || s.ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return std::nullopt;
  std::string plain(s.ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr,
        reinterpret_cast<const unsigned char*>(s.ciphertext.data()), s.ciphertext.size(),
        reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
        reinterpret_cast<const unsigned char*>(s.nonce.data()),
        reinterpret_cast<const unsigned char*>(key.data()))
      != 0)
    return std::nullopt;
  plain.resize(static_cast<size_t>(len));
  return plain;
}

caf::expected<claim_result> claim(database& db, const std::string& owner, const std::string& key) {
  return guarded(db.internals(), [&]() -> caf::expected<claim_result> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params(
      "UPDATE email_outbox o SET status = 'sending', lease_owner = $1, "
      "lease_expires_at = now() + make_interval(secs => $2), attempts = o.attempts + 1 "
      "WHERE o.id = (SELECT id FROM email_outbox WHERE (status = 'pending' AND next_attempt_at <= now()) "
      "OR (status = 'sending' AND lease_expires_at <= now()) ORDER BY next_attempt_at, id LIMIT 1 "
      "FOR UPDATE SKIP LOCKED) "
      "RETURNING o.id::text, o.to_address, o.subject, encode(o.body_nonce, 'hex'), "
      "encode(o.body_ciphertext, 'hex'), o.message_id, o.attempts",
      owner, lease_seconds);
    claim_result out;
    if (!r.empty()) {
      message m;
      m.id = r[0][0].as<std::string>();
      m.to = r[0][1].as<std::string>();
      m.subject = r[0][2].as<std::string>();
      m.message_id = r[0][5].as<std::string>();
      m.attempts = r[0][6].as<int>();
      auto plain = open(key, {from_hex(r[0][3].as<std::string>()), from_hex(r[0][4].as<std::string>())},
                        m.id);
      auto body = plain ? nlohmann::json::parse(*plain, nullptr, false) : nlohmann::json();
      if (body.is_object()) {
        m.text = body.value("text", "");
        m.html = body.value("html", "");
        m.invite_url = body.value("inviteUrl", "");
      } else {
        m.readable = false;
      }
      out.claimed = std::move(m);
    }
    out.waiting = tx.exec("SELECT count(*) FROM email_outbox WHERE status IN ('pending', 'sending')")[0][0]
                    .as<int64_t>();
    tx.commit();
    return out;
  });
}

caf::expected<bool> mark_sent(database& db, const std::string& id, const std::string& owner) {
  return guarded(db.internals(), [&]() -> caf::expected<bool> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params("UPDATE email_outbox SET status = 'sent', sent_at = now(), lease_owner = NULL, "
                            "lease_expires_at = NULL, last_error = NULL "
                            "WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                            id, owner);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

caf::expected<bool> mark_retry(database& db, const std::string& id, const std::string& owner,
                               int64_t delay_ms, const std::string& error) {
  return guarded(db.internals(), [&]() -> caf::expected<bool> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params(
      "UPDATE email_outbox SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, "
      "last_error = $3, next_attempt_at = now() + make_interval(secs => $4::double precision / 1000) "
      "WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
      id, owner, error.substr(0, 200), delay_ms);
    tx.commit();
    return r.affected_rows() == 1;
  });
}

caf::expected<bool> mark_failed(database& db, const std::string& id, const std::string& owner,
                                const std::string& error) {
  return guarded(db.internals(), [&]() -> caf::expected<bool> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params("UPDATE email_outbox SET status = 'failed', lease_owner = NULL, "
                            "lease_expires_at = NULL, last_error = $3 "
                            "WHERE id = $1 AND status = 'sending' AND lease_owner = $2",
                            id, owner, error.substr(0, 200));
    tx.commit();
    return r.affected_rows() == 1;
  });
}

caf::expected<int64_t> release(database& db, const std::string& owner) {
  return guarded(db.internals(), [&]() -> caf::expected<int64_t> {
    pqxx::work tx{conn(db)};
    auto r = tx.exec_params("UPDATE email_outbox SET status = 'pending', lease_owner = NULL, "
                            "lease_expires_at = NULL, next_attempt_at = now(), "
                            "attempts = greatest(attempts - 1, 0) "
                            "WHERE status = 'sending' AND lease_owner = $1",
                            owner);
    tx.commit();
    return static_cast<int64_t>(r.affected_rows());
  });
}

caf::expected<int64_t> purge_notifications(database& db, int64_t retention_days) {
  return guarded(db.internals(), [&]() -> caf::expected<int64_t> {
    pqxx::work tx{conn(db)};
    if (!tx.exec_params("SELECT pg_try_advisory_xact_lock($1)", purge_lock_key)[0][0].as<bool>())
      return int64_t{-1};
    auto r = tx.exec_params("DELETE FROM notifications WHERE created_at < now() - make_interval(days => $1)",
                            static_cast<int>(retention_days));
    tx.commit();
    return static_cast<int64_t>(r.affected_rows());
  });
}

} // namespace petcare::storage::outbox
