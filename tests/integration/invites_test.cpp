// QR codes and email invites (SPEC §3.8, §4.4, §7.2–§7.4) against the real
// binary. Each transport gets a database of its own so that no other test
// instance's dispatcher can claim these outbox rows: `file` (links read from
// EMAIL_FILE_DIR), `smtp` against a minimal SMTP server run by this test, and
// `hold` (SMTP to a closed port with a 1 h retry: mail stays unsent).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "fixtures/api_fixture.hpp"
#include "storage/crypto.hpp"
#include "storage/migrations.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;
namespace fs = std::filesystem;
using rows = std::vector<std::vector<std::optional<std::string>>>;

/// A fresh, migrated database `name` beside TEST_DATABASE_URL (once per process).
std::string database(const std::string& name) {
  static std::mutex mtx;
  static std::map<std::string, std::string> made;
  std::lock_guard<std::mutex> guard{mtx};
  if (auto i = made.find(name); i != made.end())
    return i->second;
  auto base = pg::url();
  auto url = base.substr(0, base.rfind('/') + 1) + name;
  pqxx::connection admin{base};
  pqxx::nontransaction tx{admin};
  tx.exec0("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  tx.exec0("CREATE DATABASE " + name);
  auto m = petcare::storage::migrate(url);
  BOOST_TEST_REQUIRE(m.ok, m.error);
  return made[name] = url;
}

rows sql(const std::string& url, const std::string& q, const std::vector<std::string>& p = {}) {
  pqxx::connection conn{url};
  pqxx::work tx{conn};
  auto r = tx.exec_params(q, pqxx::prepare::make_dynamic_params(p));
  tx.commit();
  rows out;
  for (const auto& row : r) {
    out.emplace_back();
    for (const auto& f : row)
      out.back().push_back(f.is_null() ? std::nullopt : std::optional<std::string>{f.c_str()});
  }
  return out;
}

std::string one(const std::string& url, const std::string& q, const std::vector<std::string>& p = {}) {
  auto r = sql(url, q, p);
  return r.empty() ? std::string{"<no row>"} : r[0][0].value_or("<null>");
}

/// A service instance on `db`; env values replace the test defaults.
std::unique_ptr<service_process> start(const std::string& db, env_overrides env) {
  env["DATABASE_URL"] = database(db);
  return std::make_unique<service_process>(std::move(env));
}

const std::string& mail_dir() {
  static const std::string dir = [] {
    auto d = fs::temp_directory_path() / ("invites-mail-" + std::to_string(::getpid()));
    fs::remove_all(d);
    return d.string();
  }();
  return dir;
}

env_overrides file_env() {
  return {{"EMAIL_TRANSPORT", "file"}, {"EMAIL_FILE_DIR", mail_dir()}, {"OUTBOX_POLL_INTERVAL_MS", "200"}};
}

env_overrides hold_env() {
  return {{"EMAIL_TRANSPORT", "smtp"}, {"SMTP_HOST", "127.0.0.1"}, {"SMTP_PORT", std::to_string(free_port())},
          {"SMTP_TLS", "none"}, {"EMAIL_RETRY_BASE_MS", "3600000"}, {"OUTBOX_POLL_INTERVAL_MS", "200"}};
}

service_process& file_api() {
  static auto p = start("household_invites_file", file_env());
  return *p;
}

service_process& hold_api() {
  static auto p = start("household_invites_hold", hold_env());
  return *p;
}

std::string file_db() { return database("household_invites_file"); }
std::string hold_db() { return database("household_invites_hold"); }

struct person {
  std::string id, email, name, token;
  header_list auth() const { return bearer(token); }
};

person signup(const http_client& c, const std::string& name = "Ann Leader") {
  static std::atomic<int> n{0};
  auto email = "inv" + std::to_string(::getpid()) + "-" + std::to_string(++n) + "@example.com";
  auto r = c.post("/v1/auth/register", {{"email", email}, {"password", "correct horse battery"}, {"displayName", name}});
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  return {r.json["user"]["id"], email, name, r.json["accessToken"]};
}

struct home {
  std::string id, code, name;
};

home make_home(const http_client& c, const person& leader, const std::string& name = "Smith Family") {
  auto r = c.post("/v1/households", {{"name", name}, {"description", "Cats & <dogs>"}}, leader.auth());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  return {r.json["household"]["id"], r.json["household"]["inviteCode"], name};
}

void add_member(const http_client& c, const person& leader, const home& h, const person& m) {
  auto j = c.post("/v1/households/join", {{"inviteCode", h.code}}, m.auth());
  BOOST_TEST_REQUIRE(j.status == 201, describe(j));
  auto a = c.post("/v1/join-requests/" + j.json["joinRequest"]["id"].get<std::string>() + "/approve", json::object(),
                  leader.auth());
  BOOST_TEST_REQUIRE(a.status == 200, describe(a));
}

http_response invite(const http_client& c, const person& leader, const home& h, const std::string& email,
                     const json& extra = json::object()) {
  json body = extra;
  body["email"] = email;
  return c.post("/v1/households/" + h.id + "/email-invites", body, leader.auth());
}

/// The outbox row of an invite.
std::string outbox_of(const std::string& db, const std::string& invite_id) {
  return one(db, "SELECT id::text FROM email_outbox WHERE email_invite_id = $1", {invite_id});
}

/// The `.json` the file transport wrote for `outbox_id` (waits up to 10 s).
json mail_json(const std::string& outbox_id) {
  auto path = fs::path{mail_dir()} / (outbox_id + ".json");
  poll_until([&] { return fs::exists(path); }, std::chrono::seconds{10});
  std::ifstream in{path};
  return json::parse(in, nullptr, false);
}

/// The invite token from the link of the emailed invite.
std::string token_of(const json& mail) {
  auto url = mail.value("inviteUrl", "");
  return url.substr(url.find("invite=") + 7);
}

bool wait_status(const std::string& db, const std::string& outbox_id, const std::string& status) {
  return poll_until([&] { return one(db, "SELECT status FROM email_outbox WHERE id = $1", {outbox_id}) == status; },
                    std::chrono::seconds{15}, std::chrono::milliseconds{50});
}

/// Tells every instance to re-read `hid` (after a direct database edit).
void invalidate(const std::string& hid) {
  std::string url = std::getenv("TEST_REDIS_URL");
  auto hostport = url.substr(url.find("//") + 2);
  auto colon = hostport.find(':');
  redisContext* c = redisConnect(hostport.substr(0, colon).c_str(), std::stoi(hostport.substr(colon + 1)));
  BOOST_TEST_REQUIRE((c != nullptr && c->err == 0));
  auto note = json{{"t", "household"}, {"id", hid}, {"from", "test"}}.dump();
  freeReplyObject(redisCommand(c, "PUBLISH hh:invalidate %s", note.c_str()));
  redisFree(c);
}

/// A minimal SMTP server on a free loopback port: EHLO/HELO, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT. The reply to each message's end of DATA comes from a
/// script (250 once it is empty); every DATA received is kept.
class fake_smtp {
public:
  fake_smtp() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_TEST_REQUIRE(::listen(fd_, 8) == 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~fake_smtp() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  void script(std::deque<int> replies) {
    std::lock_guard<std::mutex> g{mtx_};
    replies_ = std::move(replies);
  }
  std::vector<std::string> messages() {
    std::lock_guard<std::mutex> g{mtx_};
    return messages_;
  }

private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c >= 0) {
        serve(c);
        ::close(c);
      }
    }
  }
  bool line(int c, std::string& buf, std::string& out) {
    for (;;) {
      if (auto i = buf.find("\r\n"); i != std::string::npos) {
        out = buf.substr(0, i);
        buf.erase(0, i + 2);
        return true;
      }
      pollfd p{c, POLLIN, 0};
      if (stop_ || ::poll(&p, 1, 5000) <= 0)
        return false;
      char tmp[4096];
      auto n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0)
        return false;
      buf.append(tmp, static_cast<size_t>(n));
    }
  }
  void say(int c, const std::string& s) { (void)!::send(c, s.data(), s.size(), MSG_NOSIGNAL); }
  void serve(int c) {
    std::string buf, cmd;
    say(c, "220 fake.test ESMTP\r\n");
    while (line(c, buf, cmd)) {
      auto verb = cmd.substr(0, 4);
      for (auto& ch : verb)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (verb == "EHLO" || verb == "HELO")
        say(c, "250 fake.test\r\n");
      else if (verb == "MAIL" || verb == "RCPT" || verb == "RSET" || verb == "NOOP")
        say(c, "250 OK\r\n");
      else if (verb == "QUIT")
        return say(c, "221 bye\r\n");
      else if (verb == "DATA") {
        say(c, "354 go ahead\r\n");
        std::string data, l;
        while (line(c, buf, l) && l != ".")
          data += (l.rfind("..", 0) == 0 ? l.substr(1) : l) + "\r\n";
        int code = 250;
        {
          std::lock_guard<std::mutex> g{mtx_};
          messages_.push_back(data);
          if (!replies_.empty())
            code = replies_.front(), replies_.pop_front();
        }
        say(c, code == 250 ? "250 2.0.0 queued\r\n" : code == 451 ? "451 4.3.0 try again later\r\n"
                                                                  : "550 5.1.1 <x@y.test> mailbox unavailable\r\n");
      } else
        say(c, "502 unknown\r\n");
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mtx_;
  std::deque<int> replies_;
  std::vector<std::string> messages_;
};

std::string b64_decode(std::string s) {
  std::string url;
  for (char ch : s)
    if (ch == '+' || ch == '/')
      url += ch == '+' ? '-' : '_';
    else if (ch != '=' && ch != '\r' && ch != '\n')
      url += ch;
  return petcare::storage::crypto::base64url_decode(url).value_or("");
}

const std::regex invite_link{"^http://localhost:5173/households/join\\?invite=[A-Za-z0-9_-]{43}$"};

} // namespace

BOOST_AUTO_TEST_SUITE(invites_tests)

BOOST_AUTO_TEST_CASE(qr_code_png_data_url_and_refusals) {
  auto& c = file_api().client();
  auto leader = signup(c), member = signup(c, "Bob"), outsider = signup(c);
  auto h = make_home(c, leader);
  add_member(c, leader, h, member);
  auto path = "/v1/households/" + h.id + "/qr-code";
  auto png = c.get(path + "?size=300", leader.auth());
  BOOST_TEST_REQUIRE(png.status == 200, describe(png));
  BOOST_TEST(png.header("Content-Type").value_or("") == "image/png");
  BOOST_TEST_REQUIRE(png.body.size() > 24u);
  auto be32 = [&](size_t at) {
    auto b = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(png.body[at + i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  };
  BOOST_TEST(be32(16) == 300u);
  BOOST_TEST(be32(20) == 300u);
  auto d = c.get(path + "?format=data-url", leader.auth());
  BOOST_TEST_REQUIRE(d.status == 200, describe(d));
  BOOST_TEST(d.json["inviteCode"] == h.code);
  BOOST_TEST(d.json["joinUrl"] == "http://localhost:5173/households/join?code=" + h.code);
  BOOST_TEST(d.json["caption"] == "Scan to join Smith Family");
  BOOST_TEST(d.json["inviteCodeExpiresAt"].is_string());
  auto url = d.json.value("qrCodeDataUrl", "");
  BOOST_TEST_REQUIRE(url.rfind("data:image/png;base64,", 0) == 0u);
  auto decoded = b64_decode(url.substr(22));
  BOOST_TEST(decoded.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  if (std::system("command -v zbarimg >/dev/null 2>&1") == 0) {
    auto file = mail_dir() + "-qr.png";
    std::ofstream{file, std::ios::binary} << decoded;
    std::string text;
    if (FILE* p = ::popen(("zbarimg --quiet --raw " + file).c_str(), "r")) {
      char b[512];
      while (auto n = std::fread(b, 1, sizeof b, p))
        text.append(b, n);
      ::pclose(p);
    }
    BOOST_TEST(text.substr(0, text.find('\n')) == d.json["joinUrl"].get<std::string>());
  }
  BOOST_TEST(is_error(c.get(path, outsider.auth()), 404, "HOUSEHOLD_NOT_FOUND", "Household not found."));
  BOOST_TEST(is_error(c.get(path + "?size=abc", member.auth()), 403, "NOT_HOUSEHOLD_LEADER", ""));
  BOOST_TEST(one(file_db(), "SELECT count(*) FROM audit_log WHERE household_id = $1 AND action = "
                            "'authorization.denied' AND actor_user_id = $2", {h.id, member.id}) == "1");
  for (auto q : {"?size=199", "?size=1001", "?size=abc", "?format=jpg", "?size=400&size=500"})
    BOOST_TEST(is_error(c.get(path + q, leader.auth()), 400, "VALIDATION_ERROR", ""), q);
  sql(file_db(), "UPDATE households SET invite_code_expires_at = now() - interval '1 minute' WHERE id = $1", {h.id});
  invalidate(h.id);
  http_response gone;
  poll_until([&] { return (gone = c.get(path, leader.auth())).status == 409; }, std::chrono::seconds{3});
  BOOST_TEST(is_error(gone, 409, "EXPIRED_INVITE_CODE", "Your invite code has expired. Generate a new one first."));
}

BOOST_AUTO_TEST_CASE(send_writes_invite_outbox_audit_and_the_file_transport_mail) {
  auto& c = file_api().client();
  auto leader = signup(c, "Ann Leader");
  auto h = make_home(c, leader);
  auto r = invite(c, leader, h, "  Guest.One@Example.com ", {{"personalMessage", "Hi!\nCome <along>"}});
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  auto inv = r.json["emailInvite"];
  BOOST_TEST(inv.size() == 11u, inv.dump());
  BOOST_TEST(inv["email"] == "guest.one@example.com");
  BOOST_TEST(inv["status"] == "pending");
  BOOST_TEST(inv["delivery"] == "queued");
  BOOST_TEST(inv["invitedBy"] == leader.id);
  BOOST_TEST(inv["householdId"] == h.id);
  BOOST_TEST(inv["personalMessage"] == "Hi!\nCome <along>");
  BOOST_TEST((inv["acceptedAt"].is_null() && inv["revokedAt"].is_null()));
  std::string id = inv["id"];
  auto box = outbox_of(file_db(), id);
  BOOST_TEST(one(file_db(), "SELECT message_id FROM email_outbox WHERE id = $1", {box}) == "<" + box + "@localhost>");
  auto mail = mail_json(box);
  BOOST_TEST_REQUIRE(mail.is_object());
  BOOST_TEST(mail["to"] == "guest.one@example.com");
  BOOST_TEST(mail["subject"] == "Ann Leader invited you to join Smith Family");
  auto link = mail.value("inviteUrl", "");
  BOOST_TEST(std::regex_match(link, invite_link), link);
  for (auto part : {"text", "html"}) {
    auto body = mail.value(part, "");
    BOOST_TEST(body.find(link) != std::string::npos, part);
    BOOST_TEST(body.find(h.code) == std::string::npos, part);
  }
  BOOST_TEST(mail.value("text", "").find("Cats & <dogs>") != std::string::npos);
  BOOST_TEST(mail.value("html", "").find("Cats &amp; &lt;dogs&gt;") != std::string::npos);
  BOOST_TEST(mail.value("html", "").find("Come &lt;along&gt;") != std::string::npos);
  std::ifstream eml{fs::path{mail_dir()} / (box + ".eml")};
  std::string raw{std::istreambuf_iterator<char>{eml}, {}};
  BOOST_TEST(raw.find("Message-ID: <" + box + "@localhost>\r\n") != std::string::npos);
  auto token = token_of(mail);
  BOOST_TEST(one(file_db(), "SELECT token_hash FROM email_invites WHERE id = $1", {id})
             == petcare::storage::crypto::sha256_hex(token));
  BOOST_TEST(one(file_db(), "SELECT position($2 in encode(body_ciphertext, 'escape')) FROM email_outbox "
                            "WHERE id = $1", {box, token}) == "0");
  BOOST_TEST(wait_status(file_db(), box, "sent"));
  BOOST_TEST(one(file_db(), "SELECT count(*) FROM audit_log WHERE action = 'email_invite.sent' AND subject_id = $1 "
                            "AND actor_user_id = $2", {id, leader.id}) == "1");
  auto list = c.get("/v1/households/" + h.id + "/email-invites", leader.auth());
  BOOST_TEST_REQUIRE(list.status == 200, describe(list));
  BOOST_TEST(list.json["emailInvites"][0]["delivery"] == "sent");
}

BOOST_AUTO_TEST_CASE(send_refusals_in_order_and_the_hourly_limit) {
  auto& c = file_api().client();
  auto leader = signup(c), member = signup(c, "Bob"), outsider = signup(c);
  auto h = make_home(c, leader);
  add_member(c, leader, h, member);
  BOOST_TEST(is_error(invite(c, outsider, h, "a@example.com"), 404, "HOUSEHOLD_NOT_FOUND", ""));
  BOOST_TEST(is_error(invite(c, member, h, "bad"), 403, "NOT_HOUSEHOLD_LEADER", ""));
  BOOST_TEST(is_error(invite(c, leader, h, "bad"), 400, "INVALID_EMAIL", "Invalid email address"));
  auto no_email = c.post("/v1/households/" + h.id + "/email-invites", json::object(), leader.auth());
  BOOST_TEST(is_error(no_email, 400, "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(invite(c, leader, h, "a@example.com", {{"personalMessage", std::string(501, 'x')}}), 400,
                      "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(invite(c, leader, h, "a@example.com", {{"personalMessage", "a\u0001b"}}), 400,
                      "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(invite(c, leader, h, member.email), 409, "ALREADY_MEMBER", ""));
  BOOST_TEST_REQUIRE(invite(c, leader, h, "dup@example.com").status == 201);
  BOOST_TEST(is_error(invite(c, leader, h, "DUP@example.com"), 409, "INVITE_ALREADY_PENDING", ""));
  // 13 more members (15 with leader and Bob): full.
  for (int i = 0; i < 13; ++i) {
    auto u = one(file_db(), "INSERT INTO users (email, password_hash, display_name) VALUES ($1, 'x', 'Filler') "
                            "RETURNING id::text", {"fill" + std::to_string(i) + "-" + h.id + "@example.com"});
    sql(file_db(), "INSERT INTO household_members (household_id, user_id, role) VALUES ($1, $2, 'member')", {h.id, u});
  }
  BOOST_TEST(is_error(invite(c, leader, h, "full@example.com"), 409, "HOUSEHOLD_AT_CAPACITY", ""));
  BOOST_TEST(one(file_db(), "SELECT count(*) FROM email_invites WHERE household_id = $1", {h.id}) == "1");
  // Only successes count: one so far, 19 more pass, the 21st is refused.
  sql(file_db(), "UPDATE household_members SET status = 'removed', ended_at = now() WHERE household_id = $1 "
                 "AND user_id IN (SELECT id FROM users WHERE display_name = 'Filler')", {h.id});
  invalidate(h.id);
  for (int i = 0; i < 19; ++i)
    BOOST_TEST_REQUIRE(invite(c, leader, h, "n" + std::to_string(i) + "@example.com").status == 201);
  BOOST_TEST(is_error(invite(c, leader, h, "n20@example.com"), 429, "RATE_LIMIT_EXCEEDED",
                      "Too many email invites. Please try again later."));
}

BOOST_AUTO_TEST_CASE(preview_accept_then_approval_by_a_later_leader_credits_the_sender) {
  auto& c = file_api().client();
  auto leader = signup(c, "Ann Leader"), next = signup(c, "Bob"), guest = signup(c, "Gus");
  auto h = make_home(c, leader);
  add_member(c, leader, h, next);
  auto r = invite(c, leader, h, guest.email);
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  std::string iid = r.json["emailInvite"]["id"];
  auto token = token_of(mail_json(outbox_of(file_db(), iid)));
  auto p = c.post("/v1/email-invites/preview", {{"token", token}}, guest.auth());
  BOOST_TEST_REQUIRE(p.status == 200, describe(p));
  BOOST_TEST(p.json["household"] == json({{"name", "Smith Family"}, {"description", "Cats & <dogs>"}, {"memberCount", 2}}));
  BOOST_TEST(p.json["invitedBy"] == json({{"displayName", "Ann Leader"}}));
  BOOST_TEST(p.json["expiresAt"] == r.json["emailInvite"]["expiresAt"]);
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", token}}, next.auth()), 409,
                      "ALREADY_IN_HOUSEHOLD", ""));
  auto a = c.post("/v1/email-invites/accept", {{"token", token}}, guest.auth());
  BOOST_TEST_REQUIRE(a.status == 201, describe(a));
  BOOST_TEST(a.json["joinRequest"]["status"] == "pending");
  BOOST_TEST(a.json["household"] == json({{"name", "Smith Family"}, {"description", "Cats & <dogs>"}}));
  std::string rid = a.json["joinRequest"]["id"];
  BOOST_TEST(one(file_db(), "SELECT via || ' ' || email_invite_id FROM household_join_requests WHERE id = $1", {rid})
             == "email_invite " + iid);
  BOOST_TEST(one(file_db(), "SELECT status || ' ' || accepted_by FROM email_invites WHERE id = $1", {iid})
             == "accepted " + guest.id);
  BOOST_TEST(one(file_db(), "SELECT count(*) FROM notifications WHERE user_id = $1 AND type = 'join_request_received' "
                            "AND data->>'joinRequestId' = $2", {leader.id, rid}) == "1");
  BOOST_TEST(one(file_db(), "SELECT string_agg(action, ',' ORDER BY action) FROM audit_log WHERE actor_user_id = $1",
                 {guest.id}) == "email_invite.accepted,join_request.created");
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", token}}, guest.auth()), 410,
                      "INVITE_NO_LONGER_VALID", "This invite is no longer valid."));
  BOOST_TEST(is_error(c.post("/v1/email-invites/preview", {{"token", token}}, guest.auth()), 410,
                      "INVITE_NO_LONGER_VALID", ""));
  auto t = c.post("/v1/households/" + h.id + "/leadership", {{"newLeaderId", next.id}}, leader.auth());
  BOOST_TEST_REQUIRE(t.status == 200, describe(t));
  auto ok = c.post("/v1/join-requests/" + rid + "/approve", json::object(), next.auth());
  BOOST_TEST_REQUIRE(ok.status == 200, describe(ok));
  BOOST_TEST(ok.json["member"]["invitedBy"] == leader.id);
}

BOOST_AUTO_TEST_CASE(accept_refusals_change_nothing) {
  auto& c = file_api().client();
  auto leader = signup(c), guest = signup(c);
  auto h = make_home(c, leader);
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", std::string(43, 'A')}}, guest.auth()), 404,
                      "INVITE_NOT_FOUND", "Invite not found."));
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", ""}}, guest.auth()), 400, "VALIDATION_ERROR", ""));
  std::string iid = invite(c, leader, h, guest.email).json["emailInvite"]["id"];
  auto token = token_of(mail_json(outbox_of(file_db(), iid)));
  BOOST_TEST_REQUIRE(c.post("/v1/households/join", {{"inviteCode", h.code}}, guest.auth()).status == 201);
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", token}}, guest.auth()), 409, "DUPLICATE_REQUEST", ""));
  BOOST_TEST(one(file_db(), "SELECT status FROM email_invites WHERE id = $1", {iid}) == "pending");
  // Four more join requests elsewhere: with the code join above, five this hour.
  for (int i = 0; i < 4; ++i) {
    auto l = signup(c);
    auto o = make_home(c, l, "Home " + std::string(1, static_cast<char>('A' + i)));
    BOOST_TEST_REQUIRE(c.post("/v1/households/join", {{"inviteCode", o.code}}, guest.auth()).status == 201);
  }
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", token}}, guest.auth()), 429,
                      "RATE_LIMIT_EXCEEDED", "Too many join requests. Please try again later."));
  sql(file_db(), "UPDATE email_invites SET created_at = now() - interval '20 days', "
                 "expires_at = now() - interval '1 second' WHERE id = $1", {iid});
  BOOST_TEST(is_error(c.post("/v1/email-invites/preview", {{"token", token}}, guest.auth()), 410, "INVITE_EXPIRED",
                      "This invite has expired. Please ask the household leader for a new one."));
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", {{"token", token}}, guest.auth()), 410, "INVITE_EXPIRED", ""));
  BOOST_TEST(one(file_db(), "SELECT status FROM email_invites WHERE id = $1", {iid}) == "pending");
}

BOOST_AUTO_TEST_CASE(list_revoke_cancels_unsent_mail_and_the_hourly_job_expires) {
  auto& c = hold_api().client();
  auto leader = signup(c), member = signup(c, "Bob");
  auto h = make_home(c, leader);
  add_member(c, leader, h, member);
  std::string a = invite(c, leader, h, "a@example.com").json["emailInvite"]["id"];
  std::string b = invite(c, leader, h, "b@example.com").json["emailInvite"]["id"];
  auto box = outbox_of(hold_db(), a);
  BOOST_TEST(poll_until([&] { return one(hold_db(), "SELECT attempts FROM email_outbox WHERE id = $1", {box}) == "1"; },
                        std::chrono::seconds{10}));
  BOOST_TEST(wait_status(hold_db(), box, "pending"));
  BOOST_TEST(one(hold_db(), "SELECT last_error FROM email_outbox WHERE id = $1", {box}).rfind("network: ", 0) == 0u);
  auto base = "/v1/households/" + h.id + "/email-invites";
  auto page = c.get(base + "?limit=1", leader.auth());
  BOOST_TEST_REQUIRE(page.status == 200, describe(page));
  BOOST_TEST(page.json["emailInvites"][0]["id"] == b);
  auto rest = c.get(base + "?limit=1&cursor=" + page.json["nextCursor"].get<std::string>(), leader.auth());
  BOOST_TEST(rest.json["emailInvites"][0]["id"] == a);
  BOOST_TEST(rest.json["nextCursor"].is_null());
  BOOST_TEST(is_error(c.get(base + "?status=open", leader.auth()), 400, "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(c.get(base, member.auth()), 403, "NOT_HOUSEHOLD_LEADER", ""));
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + a, member.auth()), 403, "NOT_HOUSEHOLD_LEADER", ""));
  BOOST_TEST(is_error(c.call("DELETE", base + "/not-a-uuid", leader.auth()), 404, "INVITE_NOT_FOUND", ""));
  BOOST_TEST(c.call("DELETE", base + "/" + a, leader.auth()).status == 204);
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + a, leader.auth()), 409, "INVITE_NOT_PENDING", ""));
  BOOST_TEST(one(hold_db(), "SELECT status || ' ' || revoked_by FROM email_invites WHERE id = $1", {a})
             == "revoked " + leader.id);
  BOOST_TEST(one(hold_db(), "SELECT status FROM email_outbox WHERE id = $1", {box}) == "cancelled");
  auto revoked = c.get(base + "?status=revoked", leader.auth());
  BOOST_TEST(revoked.json["emailInvites"].size() == 1u);
  BOOST_TEST(revoked.json["emailInvites"][0]["delivery"] == "cancelled");
  // The hourly job runs shortly after an instance starts.
  sql(hold_db(), "UPDATE email_invites SET created_at = now() - interval '20 days', expires_at = now() - "
                 "interval '1 day' WHERE id = $1", {b});
  auto old_note = one(hold_db(), "INSERT INTO notifications (user_id, type, title, body, created_at) VALUES "
                                 "($1, 'member_removed', 't', 'b', now() - interval '91 days') RETURNING id::text", {member.id});
  auto second = start("household_invites_hold", hold_env());
  BOOST_TEST(poll_until([&] { return one(hold_db(), "SELECT status FROM email_invites WHERE id = $1", {b}) == "expired"; },
                        std::chrono::seconds{10}));
  BOOST_TEST(one(hold_db(), "SELECT status FROM email_outbox WHERE email_invite_id = $1", {b}) == "cancelled");
  BOOST_TEST(one(hold_db(), "SELECT count(*) FROM notifications WHERE id = $1", {old_note}) == "0");
}

BOOST_AUTO_TEST_CASE(feature_disabled_answers_404_after_authentication) {
  auto off = start("household_invites_file", [] { auto e = file_env(); e["ENABLE_EMAIL_INVITES"] = "false"; return e; }());
  auto& c = off->client();
  auto leader = signup(c);
  auto h = make_home(c, leader);
  auto base = "/v1/households/" + h.id + "/email-invites";
  const std::string msg = "Email invites are not available.";
  BOOST_TEST(is_error(c.post(base, {{"email", "a@example.com"}}), 401, "AUTH_REQUIRED", ""));
  BOOST_TEST(is_error(c.post(base, {{"email", "a@example.com"}}, leader.auth()), 404, "FEATURE_DISABLED", msg));
  BOOST_TEST(is_error(c.get(base, leader.auth()), 404, "FEATURE_DISABLED", msg));
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + h.id, leader.auth()), 404, "FEATURE_DISABLED", msg));
  BOOST_TEST(is_error(c.post("/v1/email-invites/preview", {{"token", "x"}}, leader.auth()), 404, "FEATURE_DISABLED", msg));
  BOOST_TEST(is_error(c.post("/v1/email-invites/accept", json::object(), leader.auth()), 404, "FEATURE_DISABLED", msg));
  BOOST_TEST(is_error(c.post_raw("/v1/email-invites/accept", "{", "application/json", leader.auth()), 400,
                      "MALFORMED_JSON", ""));
  BOOST_TEST(c.get("/v1/households/" + h.id + "/qr-code", leader.auth()).status == 200);
}

BOOST_AUTO_TEST_CASE(smtp_delivery_headers_transient_retry_and_permanent_failure) {
  fake_smtp server;
  auto api = start("household_invites_smtp",
                   {{"EMAIL_TRANSPORT", "smtp"}, {"SMTP_HOST", "127.0.0.1"}, {"SMTP_PORT", std::to_string(server.port())},
                    {"SMTP_TLS", "none"}, {"FROM_EMAIL", "invites@petcare.test"}, {"EMAIL_RETRY_BASE_MS", "200"},
                    {"EMAIL_RETRY_MAX_MS", "1000"}, {"EMAIL_MAX_ATTEMPTS", "3"}, {"OUTBOX_POLL_INTERVAL_MS", "200"}});
  auto db = database("household_invites_smtp");
  auto& c = api->client();
  auto leader = signup(c, "Ann Leader");
  auto h = make_home(c, leader);
  auto send = [&](const std::string& to) {
    auto r = invite(c, leader, h, to);
    BOOST_TEST_REQUIRE(r.status == 201, describe(r));
    return outbox_of(db, r.json["emailInvite"]["id"]);
  };
  server.script({451});
  auto box = send("retry@example.com");
  BOOST_TEST_REQUIRE(wait_status(db, box, "sent"));
  BOOST_TEST(one(db, "SELECT attempts FROM email_outbox WHERE id = $1", {box}) == "2");
  auto msgs = server.messages();
  BOOST_TEST_REQUIRE(msgs.size() == 2u);
  const std::string mid = "Message-ID: <" + box + "@petcare.test>\r\n";
  for (auto& m : msgs) {
    BOOST_TEST(m.find(mid) != std::string::npos, m.substr(0, 400));
    BOOST_TEST(m.find("Subject: Ann Leader invited you to join Smith Family\r\n") != std::string::npos);
  }
  auto at = msgs[1].find("base64\r\n\r\n");
  auto text = b64_decode(msgs[1].substr(at + 10, msgs[1].find("\r\n--", at) - at - 10));
  std::smatch link;
  BOOST_TEST(std::regex_search(text, link, std::regex{"http://localhost:5173/households/join\\?invite=[A-Za-z0-9_-]{43}"}),
             text);
  server.script({550});
  auto bad = send("reject@example.com");
  BOOST_TEST_REQUIRE(wait_status(db, bad, "failed"));
  auto err = one(db, "SELECT attempts || ' ' || last_error FROM email_outbox WHERE id = $1", {bad});
  BOOST_TEST(err.rfind("1 SMTP 550", 0) == 0u, err);
  BOOST_TEST(err.find('@') == std::string::npos, err);
  auto metrics = c.get("/metrics").body;
  BOOST_TEST(metrics.find("email_outbox_sent_total 1") != std::string::npos);
  BOOST_TEST(metrics.find("email_outbox_failed_total 1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
