#include "actors/mailer.hpp"

#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "actors/messages.hpp"
#include "actors/pool.hpp"
#include "config/log.hpp"
#include "storage/crypto.hpp"

namespace petcare::actors::mail {

namespace {

using storage::outbox::message;

/// Bounded below the 60 s lease so an attempt never outlives its claim.
constexpr long connect_timeout_ms = 10000;
constexpr long exchange_timeout_ms = 30000;

std::string rfc5322_date(int64_t now_ms) {
  std::time_t secs = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

/// A header value as is when printable ASCII, else RFC 2047 encoded-words of
/// whole UTF-8 sequences (≤ 45 bytes each, so every word stays ≤ 75 chars).
std::string header_text(const std::string& s) {
  bool ascii = true;
  for (unsigned char ch : s)
    ascii = ascii && ch >= 0x20 && ch < 0x7F;
  if (ascii)
    return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = std::min(s.size(), i + 45);
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
      --end;
    out += (out.empty() ? "" : "\r\n ") + std::string{"=?UTF-8?B?"}
           + storage::crypto::base64(s.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string base64_lines(const std::string& body) {
  auto b = storage::crypto::base64(body);
  std::string out;
  for (size_t i = 0; i < b.size(); i += 76)
    out += b.substr(i, 76) + "\r\n";
  return out;
}

class log_transport final : public transport {
public:
  outcome send(const message& m) override {
    config::log(config::log_level::info, "email.sent",
                {{"transport", "log"}, {"recipientDomain", config::email_domain(m.to)},
                 {"subject", m.subject}, {"outboxId", m.id}});
    return {true, false, {}};
  }
};

class file_transport final : public transport {
public:
  file_transport(std::string dir, std::string from) : dir_(std::move(dir)), from_(std::move(from)) {}

  outcome send(const message& m) override {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    auto json = nlohmann::json{{"to", m.to}, {"subject", m.subject}, {"text", m.text},
                               {"html", m.html}, {"inviteUrl", m.invite_url}}
                  .dump(2);
    // .eml first: a reader that sees the .json finds both files complete.
    if (!put(fs::path{dir_} / (m.id + ".eml"), mime_message(m, from_, now_ms()))
        || !put(fs::path{dir_} / (m.id + ".json"), json))
      return {false, false, "file: cannot write to EMAIL_FILE_DIR"};
    return {true, false, {}};
  }

private:
  /// Writes via a temporary name and a rename, so readers never see half a file.
  static bool put(const std::filesystem::path& path, const std::string& data) {
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
      out << data;
      if (!out.flush())
        return false;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    return !ec;
  }

  std::string dir_;
  std::string from_;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* src = static_cast<std::pair<const std::string*, size_t>*>(user);
  size_t n = std::min(size * count, src->first->size() - src->second);
  std::memcpy(buffer, src->first->data() + src->second, n);
  src->second += n;
  return n;
}

class smtp_transport final : public transport {
public:
  explicit smtp_transport(const config::settings& cfg)
    : url_(smtp_url(cfg)), starttls_(cfg.smtp_tls == "starttls"), user_(cfg.smtp_username),
      password_(cfg.smtp_password), from_(cfg.from_email) {}

  outcome send(const message& m) override {
    CURL* h = curl_easy_init();
    if (h == nullptr)
      return {false, false, "smtp: cannot initialise libcurl"};
    auto data = mime_message(m, from_, now_ms());
    std::pair<const std::string*, size_t> cursor{&data, 0};
    auto from = "<" + from_ + ">";
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.to + ">").c_str());
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, exchange_timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (starttls_)
      curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!user_.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, user_.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, password_.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    auto rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    std::string reason = errbuf[0] != '\0' ? std::string{errbuf} : std::string{curl_easy_strerror(rc)};
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    return classify_smtp(static_cast<int>(rc), code, reason);
  }

private:
  std::string url_;
  bool starttls_;
  std::string user_;
  std::string password_;
  std::string from_;
};

/// The mailer pool's "connection": the transport, on the worker's own thread.
struct mailer_connection final : storage::connection {
  explicit mailer_connection(std::unique_ptr<transport> t) : out(std::move(t)) {}
  caf::error ping() override { return caf::none; }
  bool broken() const override { return false; }
  std::unique_ptr<transport> out;
};

} // namespace

std::string smtp_url(const config::settings& cfg) {
  auto scheme = cfg.smtp_tls == "tls" ? "smtps://" : "smtp://";
  return scheme + cfg.smtp_host + ":" + std::to_string(cfg.smtp_port);
}

std::string redact_addresses(const std::string& text) {
  std::string out, word;
  auto flush = [&] {
    out += word.find('@') == std::string::npos ? word : "[address]";
    word.clear();
  };
  for (char ch : text) {
    if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
      flush();
      out += ' ';
    } else {
      word += ch;
    }
  }
  flush();
  return out;
}

outcome classify_smtp(int rc, long code, const std::string& reason) {
  if (rc == 0)
    return {true, false, {}};
  auto why = redact_addresses(reason).substr(0, 120);
  if (code >= 500 && code < 600)
    return {false, true, "SMTP " + std::to_string(code) + ": " + why};
  if (code >= 400 && code < 500)
    return {false, false, "SMTP " + std::to_string(code) + ": " + why};
  return {false, false, "network: " + why};
}

std::string mime_message(const message& m, const std::string& from, int64_t now_ms) {
  const std::string boundary = "=_petcare_" + m.id;
  std::string out;
  out += "From: " + from + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + header_text(m.subject) + "\r\n";
  out += "Date: " + rfc5322_date(now_ms) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(m.text);
  out += "--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

std::unique_ptr<transport> make_transport(const config::settings& cfg) {
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (cfg.email_transport == "smtp")
    return std::make_unique<smtp_transport>(cfg);
  if (cfg.email_transport == "file")
    return std::make_unique<file_transport>(cfg.email_file_dir, cfg.from_email);
  return std::make_unique<log_transport>();
}

caf::actor spawn_mailer(caf::local_actor* parent, const config::settings& cfg) {
  pool_config pc;
  pc.name = "mailer";
  pc.min = 1;
  pc.max = 1;
  pc.acquire_timeout = std::chrono::milliseconds{2 * exchange_timeout_ms};
  pc.idle_timeout = std::chrono::hours{24};
  pc.connect = [cfg]() -> caf::expected<std::unique_ptr<storage::connection>> {
    return std::unique_ptr<storage::connection>{new mailer_connection{make_transport(cfg)}};
  };
  return parent->spawn<caf::linked>(pool_supervisor, std::move(pc));
}

void send_mail(caf::event_based_actor* self, const caf::actor& mailer, message m,
               std::chrono::milliseconds timeout, callback<outcome> done) {
  self
    ->request(mailer, timeout, atom::exec_v,
              make_job<mailer_connection>([m = std::move(m)](mailer_connection& c) -> caf::expected<outcome> {
                if (!m.readable)
                  return outcome{false, true, "cannot decrypt the stored body"};
                return c.out->send(m);
              }))
    .then([done](outcome& o) { done(std::move(o)); }, [done](caf::error& e) { done(std::move(e)); });
}

} // namespace petcare::actors::mail
