// Accounts and sessions (SPEC §4.3, §4.1 authentication, §9 tokens) against the
// real binary: every success and error, the rows in PostgreSQL, and cross-
// instance revocation, and forged access tokens.

#include <boost/test/unit_test.hpp>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "storage/migrations.hpp"

namespace {

using namespace fixtures;
using nlohmann::json;

const std::regex lower_uuid{"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"};

json reg(const std::string& email, const std::string& password, const std::string& name) {
  return {{"email", email}, {"password", password}, {"displayName", name}};
}

int64_t users() { return pg::count("SELECT count(*) FROM users"); }

std::string refresh_secret(const std::string& refresh_token) {
  return refresh_token.substr(refresh_token.find('.') + 1);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(accounts_tests, api_fixture)

BOOST_AUTO_TEST_CASE(register_returns_auth_result_and_stores_an_argon2id_hash) {
  const std::string password = "correct horse battery";
  auto r = client().post("/v1/auth/register", reg("  Alice.Smith@Example.COM ", password, "  Alice  "));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  BOOST_TEST(r.header("Content-Type").value_or("") == "application/json; charset=utf-8");
  const auto& b = r.json;
  BOOST_TEST(b.size() == 4u, b.dump());
  BOOST_TEST_REQUIRE(b["user"].is_object());
  BOOST_TEST(b["user"].size() == 3u, b["user"].dump());
  auto id = b["user"].value("id", "");
  BOOST_TEST(std::regex_match(id, lower_uuid), id);
  BOOST_TEST(b["user"]["email"] == "alice.smith@example.com");
  BOOST_TEST(b["user"]["displayName"] == "Alice");
  BOOST_TEST(b["expiresIn"] == 900);
  BOOST_TEST_REQUIRE(b["accessToken"].is_string());
  BOOST_TEST_REQUIRE(b["refreshToken"].is_string());

  // Access token: HS256, claims exactly sub, sid, iat, exp = iat + 900.
  auto claims = jwt::payload_of(b["accessToken"].get<std::string>());
  BOOST_TEST_REQUIRE(claims.is_object());
  BOOST_TEST(claims.size() == 4u, claims.dump());
  BOOST_TEST(claims["sub"] == id);
  BOOST_TEST(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>() == 900);
  BOOST_TEST(std::abs(claims["iat"].get<int64_t>() - jwt::now_s()) <= 5);
  auto sid = claims.value("sid", "");
  BOOST_TEST(std::regex_match(sid, lower_uuid), sid);

  // Refresh token: {sid}.{43-char base64url secret}.
  auto refresh = b["refreshToken"].get<std::string>();
  BOOST_TEST(std::regex_match(refresh, std::regex{"^" + sid + "\\.[A-Za-z0-9_-]{43}$"}), refresh);

  auto row = pg::query("SELECT email, password_hash, display_name FROM users WHERE id = $1", {id});
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(*row[0][0] == "alice.smith@example.com");
  BOOST_TEST(row[0][1]->rfind("$argon2id$", 0) == 0u, *row[0][1]);
  BOOST_TEST(row[0][1]->find(password) == std::string::npos);
  BOOST_TEST(*row[0][2] == "Alice");

  auto session = pg::query("SELECT user_id, refresh_token_hash, revoked_at FROM sessions WHERE id = $1",
                           {sid});
  BOOST_TEST_REQUIRE(session.size() == 1u);
  BOOST_TEST(*session[0][0] == id);
  BOOST_TEST(*session[0][1] == petcare::storage::sha256_hex(refresh_secret(refresh)));
  BOOST_TEST(!session[0][2].has_value());
}

BOOST_AUTO_TEST_CASE(register_rejects_invalid_emails) {
  const std::string local65(65, 'a');
  const std::string long_domain = std::string(63, 'd') + "." + std::string(63, 'd') + "."
                                  + std::string(63, 'd') + "." + std::string(60, 'd') + ".com";
  for (std::string email :
       {std::string{""}, std::string{"   "}, std::string{"no-at-sign.example.com"},
        std::string{"a@@example.com"}, std::string{"a@b@example.com"}, std::string{"@example.com"},
        std::string{"alice@"}, std::string{"al ice@example.com"}, std::string{"alice@exa mple.com"},
        std::string{"alice@exa_mple.com"}, std::string{"alice@.example.com"},
        std::string{"alice@example..com"}, local65 + "@example.com", "a@" + long_domain}) {
    BOOST_TEST_CONTEXT("email '" << email << "'") {
      auto r = client().post("/v1/auth/register", reg(email, "correct horse battery", "Alice"));
      BOOST_TEST(is_error(r, 400, "INVALID_EMAIL", msg::invalid_email));
    }
  }
  BOOST_TEST(users() == 0);
  // The limits themselves are fine: a 64-character local part.
  auto ok = client().post("/v1/auth/register",
                          reg(std::string(64, 'b') + "@example.com", "correct horse battery", "B"));
  BOOST_TEST(ok.status == 201, describe(ok));
}

BOOST_AUTO_TEST_CASE(register_rejects_weak_passwords) {
  const std::string email = "bob@example.com";
  for (std::string password :
       {std::string(7, 'p'), std::string(129, 'p'), std::string{"Bob@Example.COM"},
        std::string{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"} /* 7 x U+00E9 */}) {
    BOOST_TEST_CONTEXT("password of " << password.size() << " bytes") {
      auto r = client().post("/v1/auth/register", reg(email, password, "Bob"));
      BOOST_TEST(is_error(r, 400, "WEAK_PASSWORD", msg::weak_password));
    }
  }
  BOOST_TEST(users() == 0);
  // 8 and 128 code points are allowed (lengths count code points, not bytes).
  std::string eight_accents;
  for (int i = 0; i < 8; ++i)
    eight_accents += "\xc3\xa9";
  for (auto [mail, password] : {std::pair{"eight@example.com", std::string(8, 'p')},
                                std::pair{"many@example.com", std::string(128, 'p')},
                                std::pair{"accents@example.com", eight_accents}}) {
    auto r = client().post("/v1/auth/register", reg(mail, password, "Ok"));
    BOOST_TEST(r.status == 201, mail << ": " << describe(r));
  }
}

BOOST_AUTO_TEST_CASE(register_rejects_missing_or_non_string_fields) {
  const json good = reg("carol@example.com", "correct horse battery", "Carol");
  const std::vector<std::optional<json>> bad_values{std::nullopt /* missing */, json(),
                                                    json(42), json(true), json::array({"x"}),
                                                    json::object()};
  for (const char* field : {"email", "password", "displayName"}) {
    for (const auto& bad : bad_values) {
      BOOST_TEST_CONTEXT(field << " = " << (bad ? bad->dump() : "<missing>")) {
        json body = good;
        if (bad)
          body[field] = *bad;
        else
          body.erase(field);
        auto r = client().post("/v1/auth/register", body);
        BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", ""));
        BOOST_TEST(r.error_message().find(field) != std::string::npos, r.error_message());
      }
    }
  }
  BOOST_TEST(users() == 0);
}

BOOST_AUTO_TEST_CASE(register_rejects_bad_display_names) {
  for (std::string name : {std::string{"   "}, std::string{""}, std::string(51, 'n'),
                           std::string{"Bob\x01"}, std::string{"Bob\x7f"},
                           std::string{"Bob\xc2\x85"} /* U+0085 */,
                           std::string{"Bob\xe2\x80\xae" "evil"} /* U+202E */,
                           std::string{"Bob\xe2\x81\xa6" "x"} /* U+2066 */}) {
    BOOST_TEST_CONTEXT("displayName of " << name.size() << " bytes") {
      auto r = client().post("/v1/auth/register", reg("dave@example.com", "correct horse battery", name));
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", ""));
      BOOST_TEST(r.error_message().find("displayName") != std::string::npos, r.error_message());
    }
  }
  BOOST_TEST(users() == 0);
  auto fifty = client().post("/v1/auth/register",
                             reg("dave@example.com", "correct horse battery", std::string(50, 'n')));
  BOOST_TEST(fifty.status == 201, describe(fifty));
}

BOOST_AUTO_TEST_CASE(register_twice_is_a_conflict_also_when_case_differs) {
  register_user("erin@example.com");
  for (std::string email : {"erin@example.com", "ERIN@Example.com", "  erin@EXAMPLE.COM  "}) {
    BOOST_TEST_CONTEXT(email) {
      auto r = client().post("/v1/auth/register", reg(email, "another password", "Erin"));
      BOOST_TEST(is_error(r, 409, "EMAIL_ALREADY_REGISTERED", msg::email_already_registered));
    }
  }
  BOOST_TEST(users() == 1);
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions") == 1);
}

BOOST_AUTO_TEST_CASE(login_opens_a_new_session) {
  auto u = register_user("frank@example.com", "frank's password");
  auto r = client().post("/v1/auth/login", {{"email", " FRANK@example.com "}, {"password", "frank's password"}});
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json.size() == 4u);
  BOOST_TEST(r.json["user"] == json({{"id", u.id}, {"email", u.email}, {"displayName", "Test User"}}));
  BOOST_TEST(r.json["expiresIn"] == 900);
  auto access = r.json["accessToken"].get<std::string>();
  auto sid = jwt::payload_of(access).value("sid", "");
  BOOST_TEST(sid != u.sid);
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                       {u.id}) == 2);
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE id = $1 AND user_id = $2", {sid, u.id}) == 1);
  BOOST_TEST(pg::count("SELECT count(*) FROM users WHERE id = $1 AND last_login_at IS NOT NULL",
                       {u.id}) == 1);
  auto me = client().get("/v1/me", auth_header(access));
  BOOST_TEST(me.status == 200, describe(me));
}

BOOST_AUTO_TEST_CASE(login_failures_are_indistinguishable) {
  auto u = register_user("gina@example.com", "gina's password");
  auto sessions_before = pg::count("SELECT count(*) FROM sessions");
  for (auto [email, password] : {std::pair{"gina@example.com", "wrong password"},
                                 std::pair{"nobody@example.com", "gina's password"},
                                 std::pair{"not-an-email", "gina's password"},
                                 std::pair{"gina@example.com", ""}}) {
    BOOST_TEST_CONTEXT(email << " / " << password) {
      auto r = client().post("/v1/auth/login", {{"email", email}, {"password", password}});
      BOOST_TEST(is_error(r, 401, "INVALID_CREDENTIALS", msg::invalid_credentials));
      BOOST_TEST(!r.has_header("WWW-Authenticate"));
    }
  }
  auto missing = client().post("/v1/auth/login", {{"email", u.email}});
  BOOST_TEST(is_error(missing, 400, "VALIDATION_ERROR", ""));
  BOOST_TEST(missing.error_message().find("password") != std::string::npos);
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions") == sessions_before);
}

BOOST_AUTO_TEST_CASE(refresh_rotates_and_replaying_the_rotated_token_revokes_the_session) {
  auto u = register_user("hank@example.com");
  auto r = client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}});
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json["user"]["id"] == u.id);
  BOOST_TEST(r.json["expiresIn"] == 900);
  auto access2 = r.json["accessToken"].get<std::string>();
  auto refresh2 = r.json["refreshToken"].get<std::string>();
  BOOST_TEST(refresh2 != u.refresh);
  BOOST_TEST(jwt::payload_of(access2).value("sid", "") == u.sid); // same session, rotated secret
  auto row = pg::query("SELECT refresh_token_hash, previous_refresh_token_hash, revoked_at"
                       " FROM sessions WHERE id = $1", {u.sid});
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(row[0][0].value_or("") == petcare::storage::sha256_hex(refresh_secret(refresh2)));
  BOOST_TEST(row[0][1].value_or("") == petcare::storage::sha256_hex(refresh_secret(u.refresh)));
  BOOST_TEST(client().get("/v1/me", auth_header(access2)).status == 200);

  // The just-rotated token again: refused, and the whole session is revoked.
  auto replay = client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}});
  BOOST_TEST(is_error(replay, 401, "INVALID_REFRESH_TOKEN", msg::invalid_refresh_token));
  BOOST_TEST(!replay.has_header("WWW-Authenticate"));
  BOOST_TEST(pg::scalar("SELECT coalesce(revoked_reason, '') FROM sessions WHERE id = $1", {u.sid})
             == "refresh_reuse");
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE id = $1 AND revoked_at IS NOT NULL",
                       {u.sid}) == 1);
  BOOST_TEST(is_error(client().get("/v1/me", auth_header(access2)), 401, "INVALID_TOKEN",
                      msg::invalid_token));
  BOOST_TEST(is_error(client().post("/v1/auth/refresh", {{"refreshToken", refresh2}}), 401,
                      "INVALID_REFRESH_TOKEN", msg::invalid_refresh_token));
}

BOOST_AUTO_TEST_CASE(refresh_rejects_empty_garbage_and_foreign_secrets) {
  auto u = register_user("ivy@example.com");
  const std::string sid_with_wrong_secret = u.sid + "." + std::string(43, 'A');
  for (std::string token : {std::string{""}, std::string{"garbage"}, std::string{"a.b.c"},
                            sid_with_wrong_secret,
                            "00000000-0000-4000-8000-000000000000." + std::string(43, 'A')}) {
    BOOST_TEST_CONTEXT("refreshToken '" << token << "'") {
      auto r = client().post("/v1/auth/refresh", {{"refreshToken", token}});
      BOOST_TEST(is_error(r, 401, "INVALID_REFRESH_TOKEN", msg::invalid_refresh_token));
    }
  }
  auto wrong_type = client().post("/v1/auth/refresh", {{"refreshToken", 12}});
  BOOST_TEST(is_error(wrong_type, 400, "VALIDATION_ERROR", ""));
  BOOST_TEST(wrong_type.error_message().find("refreshToken") != std::string::npos);
  // Guessing at someone's session does not revoke it: only the rotated token's replay does.
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE id = $1 AND revoked_at IS NULL",
                       {u.sid}) == 1);
  auto ok = client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}});
  BOOST_TEST(ok.status == 200, describe(ok));
}

BOOST_AUTO_TEST_CASE(control_characters_in_passwords_and_refresh_tokens_are_validation_errors) {
  const std::string password_msg = "password must not contain control characters.";
  // U+0001, tab, newline, U+001F, DEL, and the C1 control U+0085 (SPEC §4.1: U+0000–U+001F, U+007F–U+009F).
  const std::vector<std::string> passwords{"pass\u0001word123", "pass\tword123", "pass\nword123",
                                           "pass\u001fword123", "pass\u007fword123", "pass\u0085word123"};
  for (const auto& p : passwords) {
    BOOST_TEST_CONTEXT("password " << json(p).dump()) {
      auto r = client().post("/v1/auth/register", reg("ctl@example.com", p, "Control"));
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", password_msg));
    }
  }
  BOOST_TEST(users() == 0);
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions") == 0);

  // Login: refused as a field error before any credential check, even when the
  // stored password (written around the API) is exactly that string.
  const std::string odd = "pass\u0001word123";
  auto id = insert_user("ctl-login@example.com", odd);
  for (const auto& p : passwords) {
    BOOST_TEST_CONTEXT("login password " << json(p).dump()) {
      auto r = client().post("/v1/auth/login", {{"email", "ctl-login@example.com"}, {"password", p}});
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", password_msg));
    }
  }
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE user_id = $1", {id}) == 0);
  BOOST_TEST(pg::count("SELECT count(*) FROM users WHERE id = $1 AND last_login_at IS NOT NULL", {id}) == 0);

  // Refresh.
  auto u = register_user("ctl-refresh@example.com");
  for (std::string token : {std::string{"a\u0001b"}, u.refresh + "\u0001", "\u007f" + u.refresh}) {
    BOOST_TEST_CONTEXT("refreshToken " << json(token).dump()) {
      auto r = client().post("/v1/auth/refresh", {{"refreshToken", token}});
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", "refreshToken must not contain control characters."));
    }
  }
  // Nothing happened to the session: the real token still rotates once.
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE id = $1 AND revoked_at IS NULL", {u.sid}) == 1);
  BOOST_TEST(client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}}).status == 200);
}

BOOST_AUTO_TEST_CASE(logout_revokes_the_session_at_once) {
  auto u = register_user("jack@example.com", "jack's password");
  auto other = client().post("/v1/auth/login", {{"email", u.email}, {"password", "jack's password"}});
  BOOST_TEST_REQUIRE(other.status == 200);
  BOOST_TEST_REQUIRE(client().get("/v1/me", auth_header(u.access)).status == 200);

  auto r = client().call("POST", "/v1/auth/logout", auth_header(u.access));
  BOOST_TEST(r.status == 204, describe(r));
  BOOST_TEST(r.body.empty());
  auto row = pg::query("SELECT revoked_at IS NOT NULL, revoked_reason FROM sessions WHERE id = $1",
                       {u.sid});
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(row[0][0].value_or("") == "t");
  BOOST_TEST(row[0][1].value_or("") == "logout");

  auto me = client().get("/v1/me", auth_header(u.access));
  BOOST_TEST(is_error(me, 401, "INVALID_TOKEN", msg::invalid_token));
  BOOST_TEST(me.header("WWW-Authenticate").value_or("") == "Bearer");
  BOOST_TEST(is_error(client().post("/v1/auth/refresh", {{"refreshToken", u.refresh}}), 401,
                      "INVALID_REFRESH_TOKEN", msg::invalid_refresh_token));
  // The user's other session is untouched.
  auto still = client().get("/v1/me", auth_header(other.json["accessToken"].get<std::string>()));
  BOOST_TEST(still.status == 200, describe(still));
}

BOOST_AUTO_TEST_CASE(logout_accepts_an_empty_json_body_and_needs_a_token) {
  auto u = register_user("kate@example.com");
  auto none = client().call("POST", "/v1/auth/logout");
  BOOST_TEST(is_error(none, 401, "AUTH_REQUIRED", msg::auth_required));
  auto with_body = client().post("/v1/auth/logout", json::object(), auth_header(u.access));
  BOOST_TEST(with_body.status == 204, describe(with_body));
  BOOST_TEST(pg::count("SELECT count(*) FROM sessions WHERE id = $1 AND revoked_reason = 'logout'",
                       {u.sid}) == 1);
}

BOOST_AUTO_TEST_CASE(me_returns_the_user_and_no_household) {
  auto u = register_user("leo@example.com", "correct horse battery", "Leo");
  auto r = client().get("/v1/me", auth_header(u.access));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json == json({{"user", {{"id", u.id}, {"email", "leo@example.com"}, {"displayName", "Leo"}}},
                             {"householdId", nullptr}}),
             r.body);
  BOOST_TEST(is_error(client().get("/v1/me"), 401, "AUTH_REQUIRED", msg::auth_required));
}

BOOST_AUTO_TEST_CASE(logout_on_one_instance_is_effective_on_another_within_a_second) {
  service_process b;
  auto u = register_user("mia@example.com");
  // B has seen (and may cache) the session before the logout.
  for (int i = 0; i < 3; ++i)
    BOOST_TEST_REQUIRE(b.client().get("/v1/me", auth_header(u.access)).status == 200);

  auto out = client().call("POST", "/v1/auth/logout", auth_header(u.access));
  BOOST_TEST_REQUIRE(out.status == 204, describe(out));
  auto t0 = std::chrono::steady_clock::now();
  http_response last;
  bool revoked = poll_until(
    [&] {
      last = b.client().get("/v1/me", auth_header(u.access));
      return last.status == 401;
    },
    std::chrono::seconds{3}, std::chrono::milliseconds{10});
  auto took = seconds_since(t0);
  BOOST_TEST_MESSAGE("instance B refused the token " << took << " s after the logout");
  BOOST_TEST(revoked, describe(last));
  BOOST_TEST(took < 1.0, "B still accepted the token " << took << " s after the logout");
  BOOST_TEST(is_error(last, 401, "INVALID_TOKEN", msg::invalid_token));
}

// --- forged access tokens (SPEC §4.1 authentication, §9 HS256 only) ---------------------

BOOST_AUTO_TEST_CASE(a_correctly_forged_token_is_accepted) {
  // The control for the attacks below: the forging helper itself produces valid tokens.
  auto u = register_user("nina@example.com");
  auto now = jwt::now_s();
  auto r = client().get("/v1/me", auth_header(forge(jwt::claims(u.id, u.sid, now))));
  BOOST_TEST(r.status == 200, describe(r));
  auto skewed = client().get("/v1/me", auth_header(forge(jwt::claims(u.id, u.sid, now + 30))));
  BOOST_TEST(skewed.status == 200, "iat 30 s ahead is within the 60 s allowance: " << describe(skewed));
}

BOOST_AUTO_TEST_CASE(forged_or_damaged_tokens_are_invalid) {
  auto u = register_user("oscar@example.com");
  auto other = register_user("olga@example.com");
  auto now = jwt::now_s();
  const auto good = jwt::claims(u.id, u.sid, now);
  const std::string payload = good.dump();
  auto without = [&](const char* claim) {
    auto c = good;
    c.erase(claim);
    return forge(c);
  };
  auto with = [&](const char* claim, const json& value) {
    auto c = good;
    c[claim] = value;
    return forge(c);
  };
  auto none = jwt::sign_hs256(R"({"alg":"none","typ":"JWT"})", payload, test_jwt_secret);
  auto hs512_input = jwt::base64url(R"({"alg":"HS512","typ":"JWT"})") + "." + jwt::base64url(payload);
  // A real token whose payload now names another user, signature kept.
  auto real = u.access;
  auto d1 = real.find('.'), d2 = real.rfind('.');
  auto tampered_claims = jwt::payload_of(real);
  tampered_claims["sub"] = other.id;
  auto tampered = real.substr(0, d1) + "." + jwt::base64url(tampered_claims.dump()) + real.substr(d2);

  const std::vector<std::pair<std::string, std::string>> attacks{
    {"alg none, no signature", none.substr(0, none.rfind('.') + 1)},
    {"alg none, HS256 signature", none},
    {"alg HS512", hs512_input + "." + jwt::base64url(jwt::hmac_sha512(test_jwt_secret, hs512_input))},
    {"no alg", jwt::sign_hs256(R"({"typ":"JWT"})", payload, test_jwt_secret)},
    {"wrong key", forge(good, "another-secret-that-is-long-enough-0123456789abc")},
    {"tampered payload", tampered},
    {"signature dropped", real.substr(0, d2 + 1)},
    {"iat 120 s ahead", forge(jwt::claims(u.id, u.sid, now + 120))},
    {"missing sid", without("sid")},
    {"missing sub", without("sub")},
    {"missing exp", without("exp")},
    {"missing iat", without("iat")},
    {"exp as a string", with("exp", std::to_string(now + 900))},
    {"iat as a float", with("iat", static_cast<double>(now) + 0.5)},
    {"sub not a uuid", with("sub", "oscar")},
    {"session of another user", forge(jwt::claims(u.id, other.sid, now))},
    {"unknown session", forge(jwt::claims(u.id, "6f1c2d3e-4b5a-4c6d-8e7f-001122334455", now))},
    {"not a JWT", "not-a-jwt"},
    {"four parts", real + ".x"},
  };
  for (auto& [name, token] : attacks) {
    BOOST_TEST_CONTEXT(name) {
      auto r = client().get("/v1/me", auth_header(token));
      BOOST_TEST(is_error(r, 401, "INVALID_TOKEN", msg::invalid_token));
    }
  }
  // None of this touched the real sessions.
  BOOST_TEST(client().get("/v1/me", auth_header(u.access)).status == 200);
  BOOST_TEST(client().get("/v1/me", auth_header(other.access)).status == 200);
}

BOOST_AUTO_TEST_CASE(expired_tokens_are_token_expired_even_for_revoked_sessions) {
  auto u = register_user("pia@example.com");
  auto now = jwt::now_s();
  auto expired = forge({{"sub", u.id}, {"sid", u.sid}, {"iat", now - 901}, {"exp", now - 1}});
  auto at_now = forge({{"sub", u.id}, {"sid", u.sid}, {"iat", now - 900}, {"exp", now}});
  for (auto& token : {expired, at_now}) {
    auto r = client().get("/v1/me", auth_header(token));
    BOOST_TEST(is_error(r, 401, "TOKEN_EXPIRED", msg::token_expired));
  }
  BOOST_TEST_REQUIRE(client().call("POST", "/v1/auth/logout", auth_header(u.access)).status == 204);
  // Signature and claims, then exp, then the session: expired wins over revoked.
  BOOST_TEST(is_error(client().get("/v1/me", auth_header(expired)), 401, "TOKEN_EXPIRED",
                      msg::token_expired));
}

BOOST_AUTO_TEST_CASE(missing_or_non_bearer_credentials_are_auth_required) {
  auto u = register_user("quinn@example.com");
  for (std::string value : {std::string{"Bearer "}, std::string{"Bearer"}, std::string{"Basic xyz"},
                            std::string{"Basic "} + jwt::base64url("quinn@example.com:pw"),
                            u.access /* no scheme */}) {
    BOOST_TEST_CONTEXT("Authorization: " << value) {
      auto r = client().get("/v1/me", {{"Authorization", value}});
      BOOST_TEST(is_error(r, 401, "AUTH_REQUIRED", msg::auth_required));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
