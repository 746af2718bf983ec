// Webhooks (SPEC §4.5) against the real binary: registration, its refusals
// and audit rows, the limit of 5, deletion, and delivery to a minimal HTTP
// receiver run by this test (signature, headers, retry with backoff, give-up
// after EMAIL_MAX_ATTEMPTS). The instance gets a database of its own so that
// no other test instance's dispatcher claims these deliveries, and small
// poll/backoff settings so the retries take well under a second.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>
#include <sodium.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "fixtures/api_fixture.hpp"
#include "storage/migrations.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;
using rows = std::vector<std::vector<std::optional<std::string>>>;

constexpr const char* db_name = "household_webhooks";
constexpr int max_attempts = 3;

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

std::string db() { return database(db_name); }

rows sql(const std::string& q, const std::vector<std::string>& p = {}) {
  pqxx::connection conn{db()};
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

std::string one(const std::string& q, const std::vector<std::string>& p = {}) {
  auto r = sql(q, p);
  return r.empty() ? std::string{"<no row>"} : r[0][0].value_or("<null>");
}

service_process& api() {
  static auto p = [] {
    env_overrides env{{"DATABASE_URL", database(db_name)},
                      {"OUTBOX_POLL_INTERVAL_MS", "100"},
                      {"EMAIL_RETRY_BASE_MS", "150"},
                      {"EMAIL_RETRY_MAX_MS", "400"},
                      {"EMAIL_MAX_ATTEMPTS", std::to_string(max_attempts)}};
    return std::make_unique<service_process>(std::move(env));
  }();
  return *p;
}

struct person {
  std::string id, email, token;
  header_list auth() const { return bearer(token); }
};

person signup(const http_client& c, const std::string& name = "Ann Leader") {
  static std::atomic<int> n{0};
  auto email = "wh" + std::to_string(::getpid()) + "-" + std::to_string(++n) + "@example.com";
  auto r = c.post("/v1/auth/register", {{"email", email}, {"password", "correct horse battery"}, {"displayName", name}});
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  return {r.json["user"]["id"], email, r.json["accessToken"]};
}

struct home {
  std::string id, code;
};

home make_home(const http_client& c, const person& leader, const std::string& name = "Smith Family") {
  auto r = c.post("/v1/households", {{"name", name}}, leader.auth());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  return {r.json["household"]["id"], r.json["household"]["inviteCode"]};
}

/// join + approve; the join request id.
std::string add_member(const http_client& c, const person& leader, const home& h, const person& m) {
  auto j = c.post("/v1/households/join", {{"inviteCode", h.code}}, m.auth());
  BOOST_TEST_REQUIRE(j.status == 201, describe(j));
  std::string rid = j.json["joinRequest"]["id"];
  auto a = c.post("/v1/join-requests/" + rid + "/approve", json::object(), leader.auth());
  BOOST_TEST_REQUIRE(a.status == 200, describe(a));
  return rid;
}

http_response create(const http_client& c, const person& who, const home& h, const json& body) {
  return c.post("/v1/households/" + h.id + "/webhooks", body, who.auth());
}

int64_t audit_count(const home& h, const std::string& action, const std::string& actor) {
  return std::stoll(one("SELECT count(*) FROM audit_log WHERE household_id = $1 AND action = $2 AND actor_user_id = $3",
                        {h.id, action, actor}));
}

bool wait_status(const std::string& delivery_id, const std::string& status) {
  return poll_until([&] { return one("SELECT status FROM webhook_deliveries WHERE id = $1", {delivery_id}) == status; },
                    std::chrono::seconds{15}, std::chrono::milliseconds{50});
}

/// The one delivery of `webhook_id` for `event` (waits until it exists).
std::string delivery_of(const std::string& webhook_id, const std::string& event) {
  std::string id;
  poll_until([&] {
    id = one("SELECT id::text FROM webhook_deliveries WHERE webhook_id = $1 AND event = $2", {webhook_id, event});
    return id != "<no row>";
  }, std::chrono::seconds{5});
  return id;
}

/// Lowercase hex HMAC-SHA-256, computed here with libsodium (independently of the service).
std::string hmac_hex(const std::string& key, const std::string& message) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

std::string unhex(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  size_t len = 0;
  sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), hex.data(), hex.size(), nullptr, &len,
                 nullptr);
  out.resize(len);
  return out;
}

/// Opens the stored secret with the test ENCRYPTION_KEY (bytes 0x00..0x1f), the webhook id as associated data.
std::optional<std::string> open_secret(const std::string& webhook_id) {
  auto r = sql("SELECT encode(secret_nonce, 'hex'), encode(secret_ciphertext, 'hex') FROM webhooks WHERE id = $1",
               {webhook_id});
  if (r.empty())
    return std::nullopt;
  auto nonce = unhex(*r[0][0]), sealed = unhex(*r[0][1]);
  unsigned char key[32];
  for (int i = 0; i < 32; ++i)
    key[i] = static_cast<unsigned char>(i);
  if (nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
      || sealed.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return std::nullopt;
  std::string plain(sealed.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr,
        reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
        reinterpret_cast<const unsigned char*>(webhook_id.data()), webhook_id.size(),
        reinterpret_cast<const unsigned char*>(nonce.data()), key)
      != 0)
    return std::nullopt;
  plain.resize(static_cast<size_t>(len));
  return plain;
}

/// One request the receiver got.
struct received {
  std::string method, target, body;
  std::map<std::string, std::string> headers; ///< names lower-cased
  std::string header(const std::string& name) const {
    auto i = headers.find(name);
    return i == headers.end() ? std::string{} : i->second;
  }
};

/// A minimal HTTP/1.1 server on a free loopback port: reads one request per
/// connection (Content-Length bodies), keeps it, and answers with the next
/// scripted status (`fallback` once the script is empty), then closes.
class receiver {
public:
  explicit receiver(int fallback = 200) : fallback_(fallback) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_TEST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_TEST_REQUIRE(::listen(fd_, 16) == 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~receiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void script(std::deque<int> statuses) {
    std::lock_guard<std::mutex> g{mtx_};
    script_ = std::move(statuses);
  }
  std::vector<received> requests() {
    std::lock_guard<std::mutex> g{mtx_};
    return requests_;
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
  bool fill(int c, std::string& buf) {
    pollfd p{c, POLLIN, 0};
    if (stop_ || ::poll(&p, 1, 5000) <= 0)
      return false;
    char tmp[4096];
    auto n = ::recv(c, tmp, sizeof tmp, 0);
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
  void serve(int c) {
    std::string buf;
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos)
      if (!fill(c, buf))
        return;
    received r;
    std::istringstream head{buf.substr(0, end)};
    std::string line;
    std::getline(head, line);
    std::istringstream first{line};
    first >> r.method >> r.target;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos)
        continue;
      auto name = line.substr(0, colon);
      for (auto& ch : name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    buf.erase(0, end + 4);
    while (buf.size() < length)
      if (!fill(c, buf))
        return;
    r.body = buf.substr(0, length);
    int status = fallback_;
    {
      std::lock_guard<std::mutex> g{mtx_};
      requests_.push_back(r);
      if (!script_.empty())
        status = script_.front(), script_.pop_front();
    }
    auto reply = "HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  int fallback_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mtx_;
  std::deque<int> script_;
  std::vector<received> requests_;
};

const std::regex iso_ms{"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"};
const std::regex secret_format{"^[A-Za-z0-9_-]{43}$"};

} // namespace

BOOST_AUTO_TEST_SUITE(webhooks_tests)

BOOST_AUTO_TEST_CASE(create_shows_the_secret_once_and_stores_it_sealed) {
  auto& c = api().client();
  auto leader = signup(c);
  auto h = make_home(c, leader);
  auto r = create(c, leader, h, {{"url", "http://127.0.0.1:9/hook?x=1"}, {"events", {"household.deactivated", "member.left"}}});
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  BOOST_TEST(r.json.size() == 2u, r.body);
  auto w = r.json["webhook"];
  BOOST_TEST(w.size() == 5u, w.dump());
  std::string id = w.value("id", "");
  BOOST_TEST(w["url"] == "http://127.0.0.1:9/hook?x=1");
  BOOST_TEST(w["events"] == json::array({"household.deactivated", "member.left"}));
  BOOST_TEST(w["active"] == true);
  BOOST_TEST(std::regex_match(w.value("createdAt", ""), iso_ms));
  std::string secret = r.json.value("secret", "");
  BOOST_TEST(std::regex_match(secret, secret_format), secret);
  // Sealed with ENCRYPTION_KEY: 24-byte nonce, ciphertext = secret + 16-byte tag, never the secret in clear.
  BOOST_TEST(one("SELECT octet_length(secret_nonce) || ' ' || octet_length(secret_ciphertext) FROM webhooks "
                 "WHERE id = $1", {id}) == "24 59");
  BOOST_TEST(one("SELECT position(convert_to($2, 'UTF8') in secret_ciphertext) FROM webhooks WHERE id = $1",
                 {id, secret}) == "0");
  BOOST_TEST(open_secret(id).value_or("<unopenable>") == secret);
  BOOST_TEST(one("SELECT household_id || ' ' || created_by || ' ' || active || ' ' || (deleted_at IS NULL) "
                 "FROM webhooks WHERE id = $1", {id}) == h.id + " " + leader.id + " true true");
  BOOST_TEST(one("SELECT count(*) FROM audit_log WHERE household_id = $1 AND action = 'webhook.created' "
                 "AND actor_user_id = $2 AND subject_id = $3 AND target_user_id IS NULL", {h.id, leader.id, id}) == "1");
  BOOST_TEST(one("SELECT position($2 in metadata::text) FROM audit_log WHERE subject_id = $1", {id, "127.0.0.1"}) == "0");
  auto list = c.get("/v1/households/" + h.id + "/webhooks", leader.auth());
  BOOST_TEST_REQUIRE(list.status == 200, describe(list));
  BOOST_TEST(list.json == json({{"webhooks", json::array({w})}}));
  BOOST_TEST(list.body.find(secret) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(refusals_in_contract_order) {
  auto& c = api().client();
  auto leader = signup(c), member = signup(c, "Bob"), outsider = signup(c, "Eve");
  auto h = make_home(c, leader);
  add_member(c, leader, h, member);
  auto other = make_home(c, outsider, "Other Home");
  json ok{{"url", "https://hooks.example.com/x"}, {"events", {"member.removed"}}};
  const std::string base = "/v1/households/" + h.id + "/webhooks";
  // Visibility 404 first, then role 403 (audited) even with an invalid body, then 400.
  BOOST_TEST(is_error(create(c, outsider, h, ok), 404, "HOUSEHOLD_NOT_FOUND", "Household not found."));
  BOOST_TEST(is_error(c.post("/v1/households/not-a-uuid/webhooks", ok, leader.auth()), 404, "HOUSEHOLD_NOT_FOUND", ""));
  BOOST_TEST(is_error(create(c, member, h, {{"url", "ftp://x"}}), 403, "NOT_HOUSEHOLD_LEADER",
                      "Only the household leader can perform this action."));
  BOOST_TEST(is_error(c.get(base, member.auth()), 403, "NOT_HOUSEHOLD_LEADER", ""));
  BOOST_TEST(is_error(c.get(base, outsider.auth()), 404, "HOUSEHOLD_NOT_FOUND", ""));
  BOOST_TEST(audit_count(h, "authorization.denied", member.id) == 2);
  BOOST_TEST(one("SELECT metadata->>'code' || ' ' || (metadata->>'route') FROM audit_log WHERE household_id = $1 "
                 "AND action = 'authorization.denied' ORDER BY created_at LIMIT 1", {h.id})
             == "NOT_HOUSEHOLD_LEADER /v1/households/{householdId}/webhooks");
  const std::vector<json> bad{
    json::object(),
    {{"events", {"member.added"}}},
    {{"url", 42}, {"events", {"member.added"}}},
    {{"url", ""}, {"events", {"member.added"}}},
    {{"url", "ftp://example.com/x"}, {"events", {"member.added"}}},
    {{"url", "example.com/x"}, {"events", {"member.added"}}},
    {{"url", "https://user:pw@example.com/x"}, {"events", {"member.added"}}},
    {{"url", "https://user@example.com/x"}, {"events", {"member.added"}}},
    {{"url", "https://exa mple.com/x"}, {"events", {"member.added"}}},
    {{"url", "https://"}, {"events", {"member.added"}}},
    {{"url", "https://example.com/" + std::string(2040, 'a')}, {"events", {"member.added"}}},
    {{"url", "https://example.com/x"}},
    {{"url", "https://example.com/x"}, {"events", json::array()}},
    {{"url", "https://example.com/x"}, {"events", "member.added"}},
    {{"url", "https://example.com/x"}, {"events", {"member.joined"}}},
    {{"url", "https://example.com/x"}, {"events", {"member.added", 7}}},
    {{"url", "https://example.com/x"}, {"events", {"member.added", "member.added"}}},
    {{"url", "https://example.com/x"}, {"events", {"email_invite.sent"}}},
  };
  for (const auto& body : bad)
    BOOST_TEST(is_error(create(c, leader, h, body), 400, "VALIDATION_ERROR", ""), body.dump().substr(0, 120));
  BOOST_TEST(one("SELECT count(*) FROM webhooks WHERE household_id = $1", {h.id}) == "0");
  // Five active at most; the sixth is refused, and counts only active ones.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto scheme = i == 0 ? "HTTPS" : "https"; // stored in lower case
    auto r = create(c, leader, h, {{"url", scheme + std::string{"://hooks.example.com/"} + std::to_string(i)},
                                   {"events", {"member.removed"}}});
    BOOST_TEST_REQUIRE(r.status == 201, describe(r));
    ids.push_back(r.json["webhook"]["id"]);
  }
  BOOST_TEST(one("SELECT url FROM webhooks WHERE id = $1", {ids[0]}) == "https://hooks.example.com/0");
  BOOST_TEST(is_error(create(c, leader, h, ok), 409, "WEBHOOK_LIMIT_REACHED", ""));
  auto list = c.get(base, leader.auth());
  BOOST_TEST_REQUIRE(list.status == 200, describe(list));
  BOOST_TEST(list.json["webhooks"].size() == 5u);
  for (auto& w : list.json["webhooks"])
    BOOST_TEST(!w.contains("secret"));
  // Deletion: 404s for unknown, malformed, already deleted or another household's ids; 403 for a member.
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + ids[0], member.auth()), 403, "NOT_HOUSEHOLD_LEADER", ""));
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + ids[0], outsider.auth()), 404, "HOUSEHOLD_NOT_FOUND", ""));
  BOOST_TEST(is_error(c.call("DELETE", base + "/not-a-uuid", leader.auth()), 404, "WEBHOOK_NOT_FOUND", "Webhook not found."));
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + h.id, leader.auth()), 404, "WEBHOOK_NOT_FOUND", ""));
  auto foreign = create(c, outsider, other, ok);
  BOOST_TEST_REQUIRE(foreign.status == 201, describe(foreign));
  std::string foreign_id = foreign.json["webhook"]["id"];
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + foreign_id, leader.auth()), 404, "WEBHOOK_NOT_FOUND", ""));
  BOOST_TEST(is_error(c.get(base + "/" + foreign_id + "/deliveries", leader.auth()), 404, "WEBHOOK_NOT_FOUND", ""));
  auto del = c.call("DELETE", base + "/" + ids[0], leader.auth());
  BOOST_TEST(del.status == 204, describe(del));
  BOOST_TEST(del.body.empty());
  BOOST_TEST(is_error(c.call("DELETE", base + "/" + ids[0], leader.auth()), 404, "WEBHOOK_NOT_FOUND", ""));
  BOOST_TEST(is_error(c.get(base + "/" + ids[0] + "/deliveries", leader.auth()), 404, "WEBHOOK_NOT_FOUND", ""));
  BOOST_TEST(one("SELECT active || ' ' || (deleted_at IS NOT NULL) FROM webhooks WHERE id = $1", {ids[0]}) == "false true");
  BOOST_TEST(one("SELECT count(*) FROM audit_log WHERE household_id = $1 AND action = 'webhook.deleted' "
                 "AND actor_user_id = $2 AND subject_id = $3", {h.id, leader.id, ids[0]}) == "1");
  BOOST_TEST(audit_count(h, "authorization.denied", member.id) == 3);
  BOOST_TEST(c.get(base, leader.auth()).json["webhooks"].size() == 4u);
  // A deleted webhook frees its place.
  BOOST_TEST(create(c, leader, h, ok).status == 201);
  // Deliveries list: query validation after the role check.
  BOOST_TEST(is_error(c.get(base + "/" + ids[1] + "/deliveries?limit=0", member.auth()), 403, "NOT_HOUSEHOLD_LEADER", ""));
  for (auto q : {"?limit=0", "?limit=101", "?limit=x", "?cursor=nonsense", "?limit=1&limit=2"})
    BOOST_TEST(is_error(c.get(base + "/" + ids[1] + "/deliveries" + q, leader.auth()), 400, "VALIDATION_ERROR", ""), q);
  auto empty = c.get(base + "/" + ids[1] + "/deliveries", leader.auth());
  BOOST_TEST_REQUIRE(empty.status == 200, describe(empty));
  BOOST_TEST(empty.json == json({{"deliveries", json::array()}, {"nextCursor", nullptr}}));
}

BOOST_AUTO_TEST_CASE(signed_delivery_retried_after_a_500_then_delivered) {
  receiver hook;
  hook.script({500, 200});
  auto& c = api().client();
  auto leader = signup(c);
  auto h = make_home(c, leader);
  auto r = create(c, leader, h, {{"url", hook.url()}, {"events", {"household.updated"}}});
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  std::string wid = r.json["webhook"]["id"], secret = r.json["secret"];
  auto p = c.send_json("PATCH", "/v1/households/" + h.id, {{"name", "Renamed Home"}}, leader.auth());
  BOOST_TEST_REQUIRE(p.status == 200, describe(p));
  auto did = delivery_of(wid, "household.updated");
  BOOST_TEST_REQUIRE(wait_status(did, "delivered"), one("SELECT status || ' ' || attempts || ' ' || coalesce(last_error, '') "
                                                          "FROM webhook_deliveries WHERE id = $1", {did}));
  BOOST_TEST(one("SELECT attempts || ' ' || last_status_code || ' ' || (last_error IS NULL) || ' ' || "
                 "(delivered_at IS NOT NULL) || ' ' || (lease_owner IS NULL) FROM webhook_deliveries WHERE id = $1",
                 {did}) == "2 200 true true true");
  auto got = hook.requests();
  BOOST_TEST_REQUIRE(got.size() == 2u);
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& req : got) {
    BOOST_TEST(req.method == "POST");
    BOOST_TEST(req.target == "/hook");
    BOOST_TEST(req.header("content-type") == "application/json");
    BOOST_TEST(req.header("x-household-event") == "household.updated");
    BOOST_TEST(req.header("x-household-delivery") == did);
    std::smatch m;
    auto sig = req.header("x-household-signature");
    BOOST_TEST_REQUIRE(std::regex_match(sig, m, std::regex{"^t=(\\d+),v1=([0-9a-f]{64})$"}), sig);
    BOOST_TEST(std::llabs(std::stoll(m[1].str()) - now_s) < 60);
    BOOST_TEST(m[2].str() == hmac_hex(secret, m[1].str() + "." + req.body));
    BOOST_TEST(m[2].str() != hmac_hex(secret + "x", m[1].str() + "." + req.body));
  }
  BOOST_TEST(got[0].body == got[1].body);
  auto body = json::parse(got[1].body, nullptr, false);
  BOOST_TEST_REQUIRE(body.is_object(), got[1].body);
  BOOST_TEST(body.size() == 5u, body.dump());
  BOOST_TEST(body["event"] == "household.updated");
  BOOST_TEST(body["householdId"] == h.id);
  BOOST_TEST(std::regex_match(body.value("occurredAt", ""), iso_ms));
  BOOST_TEST(std::regex_match(body.value("id", ""), std::regex{"^[0-9a-f-]{36}$"}));
  BOOST_TEST(body["data"]["actorUserId"] == leader.id);
  BOOST_TEST(body["data"]["fields"] == json::array({"name"}));
  BOOST_TEST(one("SELECT payload::text FROM webhook_deliveries WHERE id = $1", {did}) == got[1].body);
  auto list = c.get("/v1/households/" + h.id + "/webhooks/" + wid + "/deliveries", leader.auth());
  BOOST_TEST_REQUIRE(list.status == 200, describe(list));
  BOOST_TEST_REQUIRE(list.json["deliveries"].size() == 1u);
  auto item = list.json["deliveries"][0];
  BOOST_TEST(item.size() == 8u, item.dump());
  BOOST_TEST(item["id"] == did);
  BOOST_TEST(item["event"] == "household.updated");
  BOOST_TEST(item["status"] == "delivered");
  BOOST_TEST(item["attempts"] == 2);
  BOOST_TEST(item["lastStatusCode"] == 200);
  BOOST_TEST(item["lastError"].is_null());
  BOOST_TEST(std::regex_match(item.value("createdAt", ""), iso_ms));
  BOOST_TEST(std::regex_match(item.value("deliveredAt", ""), iso_ms));
  BOOST_TEST(list.json["nextCursor"].is_null());
}

BOOST_AUTO_TEST_CASE(events_map_from_the_audited_changes_and_deleted_webhooks_get_nothing) {
  receiver hook;
  auto& c = api().client();
  auto leader = signup(c), member = signup(c, "Bob");
  auto h = make_home(c, leader);
  auto all = create(c, leader, h, {{"url", hook.url("/all")},
                                    {"events", {"member.added", "join_request.created", "join_request.approved",
                                                "invite_code.regenerated", "member.removed", "household.updated"}}});
  auto gone = create(c, leader, h, {{"url", hook.url("/gone")}, {"events", {"member.added", "household.updated"}}});
  BOOST_TEST_REQUIRE((all.status == 201 && gone.status == 201));
  std::string wid = all.json["webhook"]["id"], gone_id = gone.json["webhook"]["id"];
  BOOST_TEST_REQUIRE(c.call("DELETE", "/v1/households/" + h.id + "/webhooks/" + gone_id, leader.auth()).status == 204);
  auto rid = add_member(c, leader, h, member);
  auto regen = c.post("/v1/households/" + h.id + "/invite-code", json::object(), leader.auth());
  BOOST_TEST_REQUIRE(regen.status == 200, describe(regen));
  std::string code = regen.json["inviteCode"];
  BOOST_TEST(c.call("DELETE", "/v1/households/" + h.id + "/members/" + member.id, leader.auth()).status == 204);
  BOOST_TEST(c.send_json("PATCH", "/v1/households/" + h.id, {{"description", "New words"}}, leader.auth()).status == 200);
  BOOST_TEST(poll_until([&] {
    return one("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'delivered'", {wid}) == "6";
  }, std::chrono::seconds{10}));
  BOOST_TEST(one("SELECT string_agg(event, ',' ORDER BY event) FROM webhook_deliveries WHERE webhook_id = $1", {wid})
             == "household.updated,invite_code.regenerated,join_request.approved,join_request.created,member.added,"
                "member.removed");
  BOOST_TEST(one("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1", {gone_id}) == "0");
  // member.added and join_request.approved come from one approval: the same event data, distinct event ids.
  BOOST_TEST(one("SELECT count(DISTINCT payload->>'id') FROM webhook_deliveries WHERE webhook_id = $1", {wid}) == "6");
  BOOST_TEST(one("SELECT payload->'data'->>'userId' || ' ' || (payload->'data'->>'requestId') || ' ' || "
                 "(payload->'data'->>'approvedBy') FROM webhook_deliveries WHERE webhook_id = $1 AND event = 'member.added'",
                 {wid}) == member.id + " " + rid + " " + leader.id);
  BOOST_TEST(one("SELECT payload->'data'->>'userId' || ' ' || (payload->'data'->>'removedBy') FROM webhook_deliveries "
                 "WHERE webhook_id = $1 AND event = 'member.removed'", {wid}) == member.id + " " + leader.id);
  // The regenerated code never leaves the service.
  auto regenerated = delivery_of(wid, "invite_code.regenerated");
  BOOST_TEST(one("SELECT position($2 in payload::text) FROM webhook_deliveries WHERE id = $1", {regenerated, code}) == "0");
  for (const auto& req : hook.requests()) {
    BOOST_TEST(req.target == "/all");
    BOOST_TEST(req.body.find(code) == std::string::npos);
  }
  // Newest first, keyset pages.
  auto base = "/v1/households/" + h.id + "/webhooks/" + wid + "/deliveries";
  auto first = c.get(base + "?limit=4", leader.auth());
  BOOST_TEST_REQUIRE(first.status == 200, describe(first));
  BOOST_TEST_REQUIRE(first.json["deliveries"].size() == 4u);
  BOOST_TEST(first.json["deliveries"][0]["event"] == "household.updated");
  BOOST_TEST_REQUIRE(first.json["nextCursor"].is_string());
  auto rest = c.get(base + "?limit=4&cursor=" + first.json["nextCursor"].get<std::string>(), leader.auth());
  BOOST_TEST_REQUIRE(rest.status == 200, describe(rest));
  BOOST_TEST(rest.json["deliveries"].size() == 2u);
  BOOST_TEST(rest.json["nextCursor"].is_null());
  std::set<std::string> seen;
  for (auto* page : {&first, &rest})
    for (auto& d : page->json["deliveries"])
      seen.insert(d["id"].get<std::string>());
  BOOST_TEST(seen.size() == 6u);
}

BOOST_AUTO_TEST_CASE(a_receiver_that_keeps_failing_ends_failed_after_max_attempts) {
  receiver hook{503};
  auto& c = api().client();
  auto leader = signup(c), member = signup(c, "Bob");
  auto h = make_home(c, leader);
  auto r = create(c, leader, h, {{"url", hook.url()}, {"events", {"join_request.created"}}});
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  std::string wid = r.json["webhook"]["id"];
  BOOST_TEST_REQUIRE(c.post("/v1/households/join", {{"inviteCode", h.code}}, member.auth()).status == 201);
  auto did = delivery_of(wid, "join_request.created");
  BOOST_TEST_REQUIRE(wait_status(did, "failed"));
  BOOST_TEST(one("SELECT attempts || ' ' || last_status_code || ' ' || last_error || ' ' || (delivered_at IS NULL) "
                 "FROM webhook_deliveries WHERE id = $1", {did}) == std::to_string(max_attempts) + " 503 HTTP 503 true");
  auto got = hook.requests();
  BOOST_TEST(got.size() == static_cast<size_t>(max_attempts));
  for (const auto& req : got)
    BOOST_TEST(req.header("x-household-delivery") == did);
  auto list = c.get("/v1/households/" + h.id + "/webhooks/" + wid + "/deliveries", leader.auth());
  BOOST_TEST_REQUIRE(list.status == 200, describe(list));
  BOOST_TEST(list.json["deliveries"][0]["status"] == "failed");
  BOOST_TEST(list.json["deliveries"][0]["lastError"] == "HTTP 503");
  BOOST_TEST(list.json["deliveries"][0]["deliveredAt"].is_null());
  // An unreachable receiver is a network error without a status code, retried the same way.
  int closed = free_port();
  auto down = create(c, leader, h, {{"url", "http://127.0.0.1:" + std::to_string(closed) + "/x"}, {"events", {"member.added"}}});
  BOOST_TEST_REQUIRE(down.status == 201, describe(down));
  BOOST_TEST_REQUIRE(c.post("/v1/join-requests/" + one("SELECT id::text FROM household_join_requests WHERE user_id = $1",
                                                       {member.id}) + "/approve", json::object(), leader.auth()).status == 200);
  auto lost = delivery_of(down.json["webhook"]["id"], "member.added");
  BOOST_TEST_REQUIRE(wait_status(lost, "failed"));
  auto row = one("SELECT attempts || ' ' || coalesce(last_status_code::text, 'none') || ' ' || last_error "
                 "FROM webhook_deliveries WHERE id = $1", {lost});
  BOOST_TEST(row.rfind(std::to_string(max_attempts) + " none network: ", 0) == 0u, row);
}

BOOST_AUTO_TEST_CASE(strict_mode_wants_https_and_public_addresses) {
  auto strict = std::make_unique<service_process>(env_overrides{
    {"DATABASE_URL", database(db_name)}, {"APP_ENV", "staging"}, {"PUBLIC_APP_URL", "https://app.example.com"},
    {"ENABLE_EMAIL_INVITES", "false"}, {"PASSWORD_HASH_OPSLIMIT", "2"}, {"PASSWORD_HASH_MEMLIMIT_KIB", "19456"},
    {"OUTBOX_POLL_INTERVAL_MS", "3600000"}});
  auto& c = strict->client();
  auto leader = signup(c);
  auto h = make_home(c, leader);
  for (auto url : {"http://hooks.example.com/x", "https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/x",
                   "https://169.254.169.254/latest", "https://[::1]/x", "https://192.168.0.10/x", "https://172.16.0.1/x"})
    BOOST_TEST(is_error(create(c, leader, h, {{"url", url}, {"events", {"member.added"}}}), 400, "VALIDATION_ERROR", ""),
               url);
  auto ok = create(c, leader, h, {{"url", "https://93.184.215.14/hook"}, {"events", {"member.added"}}});
  BOOST_TEST(ok.status == 201, describe(ok));
}

BOOST_AUTO_TEST_SUITE_END()
