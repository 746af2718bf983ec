// Households (SPEC §3.1 name and description, §3.2 invite codes, §3.3 joining, §3.7 welcome
// flag, §3.9 limits, §3.10 notifications, §4.4 endpoints and side effects) against the real
// binary: status, exact error code and message, response bodies and the rows left behind.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/api_fixture.hpp"
#include "fixtures/households.hpp"

namespace {

using namespace fixtures;
using namespace fixtures::hh;
using nlohmann::json;
namespace hmsg = fixtures::hh::text;

const std::regex lower_uuid{"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"};
const std::regex out_time{R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)"};
constexpr int64_t day_ms = 86400000;

std::string keys_of(const json& o) {
  std::string out;
  if (!o.is_object())
    return "<not an object: " + o.dump() + ">";
  std::set<std::string> ks;
  for (auto it = o.begin(); it != o.end(); ++it)
    ks.insert(it.key());
  for (auto& k : ks)
    out += (out.empty() ? "" : ",") + k;
  return out;
}

const std::string leader_household_keys =
  "createdAt,description,id,inviteCode,inviteCodeExpiresAt,leaderId,memberCount,name,updatedAt";
const std::string member_household_keys = "createdAt,description,id,leaderId,memberCount,name,updatedAt";
const std::string member_keys = "displayName,invitedBy,isTemporary,joinedAt,role,temporaryExpiresAt,userId";

int64_t households() { return pg::count("SELECT count(*) FROM households"); }

json create_body(const std::string& name) { return {{"name", name}}; }

/// `ms` is within `tolerance_ms` of `expected_ms`.
bool near(const std::optional<int64_t>& ms, int64_t expected_ms, int64_t tolerance_ms = 60000) {
  return ms && std::llabs(*ms - expected_ms) <= tolerance_ms;
}

/// Code variants a user might type for `code` (SPEC §3.2 normalising).
std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(households_tests, api_fixture)

// --- create: names, descriptions, the leader view and its rows ---------------------------

BOOST_AUTO_TEST_CASE(create_returns_the_leader_view_and_writes_the_rows) {
  auto u = make_user("ada@example.com", "Ada");
  auto t0 = now_ms();
  auto r = client().post("/v1/households",
                         {{"name", "  The\t Zeder   House "}, {"description", "  Two cats\n\tand   a dog  "}},
                         u.auth());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  BOOST_TEST(r.header("Content-Type").value_or("") == "application/json; charset=utf-8");
  BOOST_TEST(keys_of(r.json) == "household");
  const auto& h = r.json["household"];
  BOOST_TEST(keys_of(h) == leader_household_keys);
  auto hid = h.value("id", "");
  BOOST_TEST(std::regex_match(hid, lower_uuid), hid);
  BOOST_TEST(h["name"] == "The Zeder House");
  BOOST_TEST(h["description"] == "Two cats and a dog");
  BOOST_TEST(h["leaderId"] == u.id);
  BOOST_TEST(h["memberCount"] == 1);
  auto code = h.value("inviteCode", "");
  BOOST_TEST(is_code_with_prefix(code, "ZEDER"), code);
  auto expires = parse_iso_ms(h.value("inviteCodeExpiresAt", ""));
  BOOST_TEST(near(expires, t0 + 30 * day_ms), h.dump());
  BOOST_TEST(std::regex_match(h.value("createdAt", ""), out_time), h.dump());
  BOOST_TEST(std::regex_match(h.value("updatedAt", ""), out_time), h.dump());

  auto row = pg::query(
    "SELECT name, description, status, invite_code, leader_id::text, created_by::text,"
    " extract(epoch from invite_code_expires_at - invite_code_created_at)::bigint, deactivated_at"
    " FROM households WHERE id = $1",
    {hid});
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(*row[0][0] == "The Zeder House");
  BOOST_TEST(*row[0][1] == "Two cats and a dog");
  BOOST_TEST(*row[0][2] == "active");
  BOOST_TEST(*row[0][3] == code);
  BOOST_TEST(*row[0][4] == u.id);
  BOOST_TEST(*row[0][5] == u.id);
  BOOST_TEST(*row[0][6] == "2592000", "the code is valid exactly 30 days");
  BOOST_TEST(!row[0][7].has_value());

  auto m = pg::query("SELECT role, status, is_temporary, invited_by, welcome_pending, ended_at"
                     " FROM household_members WHERE household_id = $1",
                     {hid});
  BOOST_TEST_REQUIRE(m.size() == 1u);
  BOOST_TEST(*m[0][0] == "leader");
  BOOST_TEST(*m[0][1] == "active");
  BOOST_TEST(*m[0][2] == "f");
  BOOST_TEST(!m[0][3].has_value(), "invited_by is null for the creator");
  BOOST_TEST(*m[0][4] == "f", "the creator gets no welcome");
  BOOST_TEST(!m[0][5].has_value());

  auto audit = audit_of(hid);
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].action == "household.created");
  BOOST_TEST(audit[0].actor.value_or("") == u.id);
  BOOST_TEST(!audit[0].target.has_value());
  BOOST_TEST(!audit[0].subject.has_value());
  BOOST_TEST(audit[0].metadata.dump().find(code) == std::string::npos, "no code in audit metadata");
  BOOST_TEST(audit[0].request_id == r.header("X-Request-Id").value_or("?"));
}

BOOST_AUTO_TEST_CASE(invite_code_prefix_follows_the_name) {
  const std::vector<std::pair<std::string, std::string>> cases{
    {"The Zeder House", "ZEDER"}, {"Smith Family", "SMITH"}, {"Al Bundy Home", "ALBUND"},
    {"Pawsome Pets", "PAWSOM"},   {"XY", "HOUSE"},           {"2024", "HOUSE"},
    {"Ab 12", "HOUSE"},           {"A Team", "TEAM"},        {"The", "THE"},
    {"an Ox Farm", "OXFARM"}};
  int i = 0;
  for (auto& [name, prefix] : cases) {
    BOOST_TEST_CONTEXT("name '" << name << "'") {
      auto u = make_user("prefix" + std::to_string(i++) + "@example.com");
      auto h = create_household(client(), u, name);
      BOOST_TEST(is_code_with_prefix(h.code, prefix), h.code);
    }
  }
}

BOOST_AUTO_TEST_CASE(names_outside_the_charset_are_invalid_household_name) {
  auto u = make_user("charset@example.com");
  const std::vector<std::string> names{
    "Cat \xf0\x9f\x90\xb1 House",     // emoji
    "Caf\xc3\xa9 Home",               // accent
    "Cat\xc2\xa0House",               // U+00A0 no-break space
    "Smith's Home", "Smith-Family", "Home!", "Smith_Family", "Smith.Home",
    "Smith\nFamily",                  // a control character other than space/tab
    "\xc3\xa9",                       // one accented letter: charset is checked before length
    std::string(50, 'a') + "!"};     // too long and a bad character: charset first
  for (auto& name : names) {
    BOOST_TEST_CONTEXT("name '" << name << "'") {
      auto r = client().post("/v1/households", create_body(name), u.auth());
      BOOST_TEST(is_error(r, 400, "INVALID_HOUSEHOLD_NAME", hmsg::name_charset));
    }
  }
  BOOST_TEST(households() == 0);
}

BOOST_AUTO_TEST_CASE(names_outside_two_to_fifty_characters_are_invalid_household_name) {
  auto u = make_user("length@example.com");
  for (std::string name : {std::string{"A"}, std::string(51, 'a'), std::string{"   A \t "},
                           std::string{""}, std::string{"  \t "}, std::string(26, 'a') + " " + std::string(24, 'b')}) {
    BOOST_TEST_CONTEXT("name '" << name << "'") {
      auto r = client().post("/v1/households", create_body(name), u.auth());
      BOOST_TEST(is_error(r, 400, "INVALID_HOUSEHOLD_NAME", hmsg::name_length));
    }
  }
  // Not strings at all: a plain field error.
  for (json body : {json{{"description", "x"}}, json{{"name", 42}}, json{{"name", nullptr}},
                    json{{"name", json::array({"Home"})}}}) {
    BOOST_TEST_CONTEXT("body " << body.dump()) {
      auto r = client().post("/v1/households", body, u.auth());
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", ""));
    }
  }
  BOOST_TEST(households() == 0);

  // The bounds themselves are fine; collapsing happens before the length check.
  const std::vector<std::pair<std::string, std::string>> ok{
    {"Ab", "Ab"},
    {std::string(50, 'z'), std::string(50, 'z')},
    {std::string(24, 'a') + "  \t  " + std::string(25, 'b'), std::string(24, 'a') + " " + std::string(25, 'b')}};
  int i = 0;
  for (auto& [name, stored] : ok) {
    BOOST_TEST_CONTEXT("name '" << name << "'") {
      auto v = make_user("len-ok" + std::to_string(i++) + "@example.com");
      auto h = create_household(client(), v, name);
      BOOST_TEST(h.name == stored);
      BOOST_TEST(pg::scalar("SELECT name FROM households WHERE id = $1", {h.id}) == stored);
    }
  }
}

BOOST_AUTO_TEST_CASE(descriptions_are_normalised_cleared_or_refused) {
  const std::string accented200 = [] {
    std::string s;
    for (int i = 0; i < 200; ++i)
      s += "\xc3\xa9";
    return s;
  }();
  struct ok_case {
    json description;
    json stored; // null = SQL NULL
  };
  const std::vector<ok_case> oks{
    {"  \t\n  ", nullptr},
    {"", nullptr},
    {nullptr, nullptr},
    {std::string(200, 'd'), std::string(200, 'd')},
    {std::string(150, 'a') + " \n\t  " + std::string(49, 'b'), std::string(150, 'a') + " " + std::string(49, 'b')},
    {accented200, accented200},
    {"<b>Tom & Jerry</b>", "<b>Tom & Jerry</b>"},
    {"line one\r\nline two", "line one line two"}};
  int i = 0;
  for (auto& c : oks) {
    BOOST_TEST_CONTEXT("description " << c.description.dump()) {
      auto u = make_user("desc" + std::to_string(i++) + "@example.com");
      auto r = client().post("/v1/households", {{"name", "Desc Home"}, {"description", c.description}},
                             u.auth());
      BOOST_TEST_REQUIRE(r.status == 201, describe(r));
      BOOST_TEST(r.json["household"]["description"] == c.stored, r.body);
      auto stored = pg::query("SELECT description FROM households WHERE id = $1",
                              {r.json["household"].value("id", "")});
      BOOST_TEST_REQUIRE(stored.size() == 1u);
      if (c.stored.is_null())
        BOOST_TEST(!stored[0][0].has_value(), "stored: " << stored[0][0].value_or(""));
      else
        BOOST_TEST(stored[0][0].value_or("<null>") == c.stored.get<std::string>());
    }
  }
  auto before = households();
  auto u = make_user("desc-bad@example.com");
  for (json d : {json(std::string(201, 'd')), json(std::string(100, 'a') + "   " + std::string(100, 'b')),
                 json(accented200 + "x")}) {
    BOOST_TEST_CONTEXT("description of " << d.get<std::string>().size() << " bytes") {
      auto r = client().post("/v1/households", {{"name", "Desc Home"}, {"description", d}}, u.auth());
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", "description must be 200 characters or less."));
    }
  }
  for (json d : {json("bell\x07"), json(std::string("nul\0x", 5)), json(5), json(json::object())}) {
    BOOST_TEST_CONTEXT("description " << d.dump()) {
      auto r = client().post("/v1/households", {{"name", "Desc Home"}, {"description", d}}, u.auth());
      BOOST_TEST(is_error(r, 400, "VALIDATION_ERROR", ""));
      BOOST_TEST(r.error_message().find("description") != std::string::npos, r.body);
    }
  }
  BOOST_TEST(households() == before);
}

BOOST_AUTO_TEST_CASE(a_member_cannot_create_a_second_household) {
  auto u = make_user("twice@example.com");
  auto h = create_household(client(), u, "First Home");
  auto r = client().post("/v1/households", create_body("Second Home"), u.auth());
  BOOST_TEST(is_error(r, 409, "ALREADY_IN_HOUSEHOLD", hmsg::already_in_household));
  BOOST_TEST(households() == 1);
  // Also a plain member of someone else's household.
  auto m = make_user("member-creates@example.com");
  add_member(client(), u, h, m);
  auto r2 = client().post("/v1/households", create_body("Own Home"), m.auth());
  BOOST_TEST(is_error(r2, 409, "ALREADY_IN_HOUSEHOLD", hmsg::already_in_household));
  BOOST_TEST(households() == 1);
  BOOST_TEST(is_error(client().post("/v1/households", create_body("Anon Home")), 401, "AUTH_REQUIRED",
                      msg::auth_required));
}

// --- reading: /households/me and /households/{id} -----------------------------------------

BOOST_AUTO_TEST_CASE(my_household_is_404_without_one) {
  auto u = make_user("nobody@example.com");
  BOOST_TEST(is_error(client().get("/v1/households/me", u.auth()), 404, "NOT_IN_HOUSEHOLD",
                      hmsg::not_in_household));
  BOOST_TEST(is_error(client().get("/v1/households/me"), 401, "AUTH_REQUIRED", msg::auth_required));
}

BOOST_AUTO_TEST_CASE(leader_and_member_views_differ_only_where_the_spec_says) {
  auto l = make_user("leader-view@example.com", "Lea");
  auto m = make_user("member-view@example.com", "Max");
  auto h = create_household(client(), l, "View Home", std::string{"Cats"});
  add_member(client(), l, h, m);

  auto lv = client().get("/v1/households/me", l.auth());
  BOOST_TEST_REQUIRE(lv.status == 200, describe(lv));
  BOOST_TEST(keys_of(lv.json) == "household,members,myRole,showWelcome");
  BOOST_TEST(keys_of(lv.json["household"]) == leader_household_keys);
  BOOST_TEST(lv.json["household"]["inviteCode"] == h.code);
  BOOST_TEST(lv.json["household"]["memberCount"] == 2);
  BOOST_TEST(lv.json["household"]["description"] == "Cats");
  BOOST_TEST(lv.json["myRole"] == "leader");
  BOOST_TEST(lv.json["showWelcome"] == false);
  BOOST_TEST_REQUIRE(lv.json["members"].is_array());
  BOOST_TEST_REQUIRE(lv.json["members"].size() == 2u, lv.body);
  const auto& first = lv.json["members"][0];
  const auto& second = lv.json["members"][1];
  BOOST_TEST(keys_of(first) == member_keys);
  BOOST_TEST(first["userId"] == l.id);
  BOOST_TEST(first["displayName"] == "Lea");
  BOOST_TEST(first["role"] == "leader");
  BOOST_TEST(first["isTemporary"] == false);
  BOOST_TEST(first["temporaryExpiresAt"].is_null());
  BOOST_TEST(first["invitedBy"].is_null());
  BOOST_TEST(std::regex_match(first.value("joinedAt", ""), out_time));
  BOOST_TEST(second["userId"] == m.id);
  BOOST_TEST(second["role"] == "member");
  BOOST_TEST(second["invitedBy"] == l.id);

  auto mv = client().get("/v1/households/me", m.auth());
  BOOST_TEST_REQUIRE(mv.status == 200, describe(mv));
  BOOST_TEST(keys_of(mv.json["household"]) == member_household_keys, "a member never sees code keys");
  BOOST_TEST(mv.body.find(h.code) == std::string::npos);
  BOOST_TEST(mv.json["myRole"] == "member");
  BOOST_TEST(mv.json["members"] == lv.json["members"]);

  // /households/{id} answers as /me for both.
  for (auto* who : {&l, &m}) {
    auto byid = client().get("/v1/households/" + h.id, who->auth());
    auto me = client().get("/v1/households/me", who->auth());
    BOOST_TEST_REQUIRE(byid.status == 200, describe(byid));
    BOOST_TEST(byid.json == me.json, byid.body << " vs " << me.body);
  }
  // An upper-case UUID in the path is the same household.
  std::string upper = h.id;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto up = client().get("/v1/households/" + upper, m.auth());
  BOOST_TEST(up.status == 200, describe(up));
}

BOOST_AUTO_TEST_CASE(a_household_is_invisible_to_everyone_but_its_members) {
  auto l = make_user("vis-leader@example.com");
  auto h = create_household(client(), l, "Hidden Home");
  auto outsider = make_user("vis-outsider@example.com");
  auto other_leader = make_user("vis-other@example.com");
  create_household(client(), other_leader, "Other Home");
  auto pending = make_user("vis-pending@example.com");
  request_join(client(), pending, h.code);

  for (auto* who : {&outsider, &other_leader, &pending}) {
    BOOST_TEST_CONTEXT("caller " << who->email) {
      auto r = client().get("/v1/households/" + h.id, who->auth());
      BOOST_TEST(is_error(r, 404, "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
    }
  }
  for (std::string path : {std::string{"not-a-uuid"}, std::string{"12345"},
                           std::string{"00000000-0000-4000-8000-000000000000"},
                           std::string{"6f1c2b8e-4a57-4c1e-9d2a-3b7e5f0a1c9d"}}) {
    BOOST_TEST_CONTEXT("id " << path) {
      auto r = client().get("/v1/households/" + path, l.auth());
      BOOST_TEST(is_error(r, 404, "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
    }
  }
}

// --- PATCH ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(patch_renames_keeps_the_code_and_audits) {
  auto l = make_user("patch-leader@example.com");
  auto h = create_household(client(), l, "Old Name", std::string{"Old description"});
  auto r = client().send_json("PATCH", "/v1/households/" + h.id, {{"name", "  New \t  Name  "}}, l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(keys_of(r.json) == "household");
  BOOST_TEST(keys_of(r.json["household"]) == leader_household_keys);
  BOOST_TEST(r.json["household"]["name"] == "New Name");
  BOOST_TEST(r.json["household"]["description"] == "Old description");
  BOOST_TEST(r.json["household"]["inviteCode"] == h.code, "renaming keeps the invite code");
  BOOST_TEST(pg::scalar("SELECT name FROM households WHERE id = $1", {h.id}) == "New Name");
  BOOST_TEST(current_code(h.id) == h.code);
  BOOST_TEST(pg::count("SELECT count(*) FROM retired_invite_codes") == 0);
  auto audit = audit_of(h.id, "household.updated");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == l.id);
  BOOST_TEST(!audit[0].target.has_value());
  BOOST_TEST(!audit[0].subject.has_value());
  BOOST_TEST(audit[0].metadata.dump().find("\"name\"") != std::string::npos, audit[0].metadata.dump());
  BOOST_TEST(audit[0].metadata.dump().find("\"description\"") == std::string::npos,
             "only changed fields: " << audit[0].metadata.dump());

  // Description: whitespace-only clears it.
  auto d = client().send_json("PATCH", "/v1/households/" + h.id, {{"description", " \t "}}, l.auth());
  BOOST_TEST_REQUIRE(d.status == 200, describe(d));
  BOOST_TEST(d.json["household"]["description"].is_null());
  BOOST_TEST(!pg::query("SELECT description FROM households WHERE id = $1", {h.id})[0][0].has_value());

  // A code regenerated after the rename uses the new name's prefix (SPEC §3.2).
  auto regen = client().post("/v1/households/" + h.id + "/invite-code", json::object(), l.auth());
  BOOST_TEST_REQUIRE(regen.status == 200, describe(regen));
  BOOST_TEST(is_code_with_prefix(regen.json.value("inviteCode", ""), "NEW"), regen.body);
}

BOOST_AUTO_TEST_CASE(patch_refuses_bad_bodies_and_non_leaders) {
  auto l = make_user("patch2-leader@example.com");
  auto m = make_user("patch2-member@example.com");
  auto o = make_user("patch2-outsider@example.com");
  auto h = create_household(client(), l, "Patch Home");
  add_member(client(), l, h, m);
  const std::string path = "/v1/households/" + h.id;

  BOOST_TEST(is_error(client().send_json("PATCH", path, {{"name", nullptr}}, l.auth()), 400,
                      "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(client().send_json("PATCH", path, json::object(), l.auth()), 400,
                      "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(client().send_json("PATCH", path, {{"unknown", 1}}, l.auth()), 400,
                      "VALIDATION_ERROR", ""));
  BOOST_TEST(is_error(client().send_json("PATCH", path, {{"name", "Bad-Name"}}, l.auth()), 400,
                      "INVALID_HOUSEHOLD_NAME", hmsg::name_charset));
  BOOST_TEST(is_error(client().send_json("PATCH", path, {{"name", "B"}}, l.auth()), 400,
                      "INVALID_HOUSEHOLD_NAME", hmsg::name_length));
  BOOST_TEST(is_error(client().send_json("PATCH", path, {{"description", std::string(201, 'x')}}, l.auth()),
                      400, "VALIDATION_ERROR", ""));

  // A member: 403 (before field validation), audited as authorization.denied.
  auto denied = client().send_json("PATCH", path, {{"name", "Member Name"}}, m.auth());
  BOOST_TEST(is_error(denied, 403, "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
  auto denied_bad = client().send_json("PATCH", path, json::object(), m.auth());
  BOOST_TEST(is_error(denied_bad, 403, "NOT_HOUSEHOLD_LEADER", hmsg::not_leader));
  auto audit = audit_of(h.id, "authorization.denied");
  BOOST_TEST_REQUIRE(audit.size() == 2u);
  for (auto& a : audit) {
    BOOST_TEST(a.actor.value_or("") == m.id);
    BOOST_TEST(!a.target.has_value());
    BOOST_TEST(!a.subject.has_value());
    BOOST_TEST(a.metadata.value("code", "") == "NOT_HOUSEHOLD_LEADER", a.metadata.dump());
    BOOST_TEST(a.metadata.value("route", "") == "/v1/households/{householdId}", a.metadata.dump());
  }
  BOOST_TEST(audit[0].request_id == denied.header("X-Request-Id").value_or("?"));

  // An outsider: the visibility 404, nothing audited.
  BOOST_TEST(is_error(client().send_json("PATCH", path, {{"name", "Outsider Name"}}, o.auth()), 404,
                      "HOUSEHOLD_NOT_FOUND", hmsg::household_not_found));
  BOOST_TEST(audit_of(h.id, "authorization.denied").size() == 2u);
  BOOST_TEST(pg::scalar("SELECT name FROM households WHERE id = $1", {h.id}) == "Patch Home");
  BOOST_TEST(audit_of(h.id, "household.updated").empty());
}

// --- invite-code regeneration ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(regeneration_retires_the_old_code) {
  auto l = make_user("regen-leader@example.com");
  auto h = create_household(client(), l, "Smith Family");
  auto early = make_user("regen-early@example.com");
  auto early_rid = request_join(client(), early, h.code);
  auto t0 = now_ms();
  auto r = client().call("POST", "/v1/households/" + h.id + "/invite-code", l.auth());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(keys_of(r.json) == "inviteCode,inviteCodeExpiresAt");
  auto fresh = r.json.value("inviteCode", "");
  BOOST_TEST(fresh != h.code);
  BOOST_TEST(is_code_with_prefix(fresh, "SMITH"), fresh);
  BOOST_TEST(near(parse_iso_ms(r.json.value("inviteCodeExpiresAt", "")), t0 + 30 * day_ms), r.body);
  BOOST_TEST(current_code(h.id) == fresh);

  auto retired = pg::query("SELECT household_id::text, reason FROM retired_invite_codes WHERE code = $1",
                           {h.code});
  BOOST_TEST_REQUIRE(retired.size() == 1u);
  BOOST_TEST(*retired[0][0] == h.id);
  BOOST_TEST(*retired[0][1] == "regenerated");

  auto audit = audit_of(h.id, "invite_code.regenerated");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == l.id);
  BOOST_TEST(!audit[0].target.has_value());
  BOOST_TEST(!audit[0].subject.has_value());
  BOOST_TEST(audit[0].metadata == json({{"expiresInDays", 30}}), audit[0].metadata.dump());

  auto a = make_user("regen-a@example.com");
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, a.auth()), 410,
                      "INVITE_CODE_REGENERATED", hmsg::code_regenerated));
  BOOST_TEST(client().post("/v1/households/join", {{"inviteCode", fresh}}, a.auth()).status == 201);

  // A request made with the old code stays pending and can still be approved (SPEC §3.2).
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {early_rid}) == "pending");
  approve(client(), l, early_rid);

  // The leader view shows the new code.
  auto view = client().get("/v1/households/me", l.auth());
  BOOST_TEST(view.json["household"]["inviteCode"] == fresh, view.body);
}

BOOST_AUTO_TEST_CASE(regeneration_expiry_choices) {
  auto l = make_user("expiry-leader@example.com");
  auto h = create_household(client(), l, "Expiry Home");
  const std::string path = "/v1/households/" + h.id + "/invite-code";
  for (json days : {json(7), json(30), json(90)}) {
    BOOST_TEST_CONTEXT("expiresInDays " << days.dump()) {
      auto t0 = now_ms();
      auto r = client().post(path, {{"expiresInDays", days}}, l.auth());
      BOOST_TEST_REQUIRE(r.status == 200, describe(r));
      BOOST_TEST(near(parse_iso_ms(r.json.value("inviteCodeExpiresAt", "")), t0 + days.get<int64_t>() * day_ms),
                 r.body);
      BOOST_TEST(pg::scalar("SELECT extract(epoch from invite_code_expires_at - invite_code_created_at)::bigint"
                            " FROM households WHERE id = $1",
                            {h.id})
                   == std::to_string(days.get<int64_t>() * 86400));
      BOOST_TEST(audit_of(h.id, "invite_code.regenerated").back().metadata == json({{"expiresInDays", days}}));
    }
  }
  auto never = client().post(path, {{"expiresInDays", nullptr}}, l.auth());
  BOOST_TEST_REQUIRE(never.status == 200, describe(never));
  BOOST_TEST(never.json["inviteCodeExpiresAt"].is_null(), never.body);
  BOOST_TEST(!pg::query("SELECT invite_code_expires_at FROM households WHERE id = $1", {h.id})[0][0].has_value());
  BOOST_TEST(audit_of(h.id, "invite_code.regenerated").back().metadata == json({{"expiresInDays", nullptr}}));
  auto leader_view = client().get("/v1/households/me", l.auth());
  BOOST_TEST(leader_view.json["household"]["inviteCodeExpiresAt"].is_null(), leader_view.body);

  auto code_before = current_code(h.id);
  for (json bad : {json(14), json(0), json(-7), json("30"), json(7.5), json(true), json(365)}) {
    BOOST_TEST_CONTEXT("expiresInDays " << bad.dump()) {
      BOOST_TEST(is_error(client().post(path, {{"expiresInDays", bad}}, l.auth()), 400, "VALIDATION_ERROR", ""));
    }
  }
  BOOST_TEST(current_code(h.id) == code_before);
  BOOST_TEST(audit_of(h.id, "invite_code.regenerated").size() == 4u);
}

BOOST_AUTO_TEST_CASE(eleventh_regeneration_in_a_day_is_rate_limited) {
  auto l = make_user("limit-leader@example.com");
  auto h = create_household(client(), l, "Limit Home");
  const std::string path = "/v1/households/" + h.id + "/invite-code";
  for (int i = 0; i < 10; ++i) {
    auto r = client().call("POST", path, l.auth());
    BOOST_TEST_REQUIRE(r.status == 200, "regeneration " << i + 1 << ": " << describe(r));
  }
  auto live = current_code(h.id);
  auto r = client().call("POST", path, l.auth());
  BOOST_TEST(is_error(r, 429, "RATE_LIMIT_EXCEEDED", hmsg::regenerate_limit));
  BOOST_TEST(current_code(h.id) == live);
  BOOST_TEST(pg::count("SELECT count(*) FROM retired_invite_codes WHERE household_id = $1", {h.id}) == 10);
  BOOST_TEST(audit_of(h.id, "invite_code.regenerated").size() == 10u);
}

// --- joining ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(join_creates_a_request_notifies_the_leader_and_audits) {
  auto l = make_user("join-leader@example.com", "Lena");
  auto h = create_household(client(), l, "Join Home", std::string{"We have a parrot"});
  auto u = make_user("join-user@example.com", "Jo Doe");
  auto r = client().post("/v1/households/join", {{"inviteCode", h.code}}, u.auth());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  BOOST_TEST(keys_of(r.json) == "household,joinRequest");
  BOOST_TEST(keys_of(r.json["joinRequest"]) == "householdId,id,requestedAt,status");
  auto rid = r.json["joinRequest"].value("id", "");
  BOOST_TEST(std::regex_match(rid, lower_uuid));
  BOOST_TEST(r.json["joinRequest"]["householdId"] == h.id);
  BOOST_TEST(r.json["joinRequest"]["status"] == "pending");
  BOOST_TEST(std::regex_match(r.json["joinRequest"].value("requestedAt", ""), out_time));
  BOOST_TEST(r.json["household"] == json({{"name", "Join Home"}, {"description", "We have a parrot"}}));
  BOOST_TEST(r.body.find(h.code) == std::string::npos);

  auto row = pg::query("SELECT household_id::text, user_id::text, via, invite_code, status, close_reason,"
                       " responded_at, responded_by FROM household_join_requests WHERE id = $1",
                       {rid});
  BOOST_TEST_REQUIRE(row.size() == 1u);
  BOOST_TEST(*row[0][0] == h.id);
  BOOST_TEST(*row[0][1] == u.id);
  BOOST_TEST(*row[0][2] == "invite_code");
  BOOST_TEST(*row[0][3] == h.code);
  BOOST_TEST(*row[0][4] == "pending");
  BOOST_TEST(!row[0][5].has_value());
  BOOST_TEST(!row[0][6].has_value());
  BOOST_TEST(!row[0][7].has_value());

  auto notes = notifications_of(l.id);
  BOOST_TEST_REQUIRE(notes.size() == 1u);
  BOOST_TEST(notes[0].type == "join_request_received");
  BOOST_TEST(notes[0].title == "New join request");
  BOOST_TEST(notes[0].body == "Jo Doe (join-user@example.com) wants to join Join Home");
  BOOST_TEST(notes[0].data == json({{"householdId", h.id}, {"joinRequestId", rid}, {"requesterId", u.id}}),
             notes[0].data.dump());
  BOOST_TEST(notifications_of(u.id).empty());

  auto audit = audit_of(h.id, "join_request.created");
  BOOST_TEST_REQUIRE(audit.size() == 1u);
  BOOST_TEST(audit[0].actor.value_or("") == u.id);
  BOOST_TEST(audit[0].target.value_or("") == u.id);
  BOOST_TEST(audit[0].subject.value_or("") == rid);
  BOOST_TEST(audit[0].metadata.dump().find(h.code) == std::string::npos, "no code in audit metadata");
}

BOOST_AUTO_TEST_CASE(join_accepts_the_normalised_input_forms) {
  auto l = make_user("forms-leader@example.com");
  auto h = create_household(client(), l, "Forms Home");
  const std::string& code = h.code; // FORMS-WORD-WORD
  const std::vector<std::string> forms{
    lower(code),
    "  " + replace_all(lower(code), "-", "  ") + "\t",
    replace_all(code, "-", ""),
    lower(replace_all(code, "-", "")),
    replace_all(code, "-", " - "),
    replace_all(code, "-", "--")};
  int i = 0;
  for (auto& form : forms) {
    BOOST_TEST_CONTEXT("input '" << form << "'") {
      auto u = make_user("form" + std::to_string(i++) + "@example.com");
      auto r = client().post("/v1/households/join", {{"inviteCode", form}}, u.auth());
      BOOST_TEST_REQUIRE(r.status == 201, describe(r));
      auto stored = pg::scalar("SELECT invite_code FROM household_join_requests WHERE user_id = $1", {u.id});
      BOOST_TEST(stored == code, "stored normalised");
    }
  }
}

BOOST_AUTO_TEST_CASE(join_refuses_malformed_empty_and_unknown_codes) {
  auto l = make_user("bad-leader@example.com");
  auto h = create_household(client(), l, "Bad Home");
  auto u = make_user("bad-joiner@example.com");
  for (std::string code : {std::string{"SMITH"}, std::string{"SM-ALPHA-BRAVO"},
                           std::string{"SMITH-ALPHA-BRAVO-CHARLIE"}, std::string{"SMITH1-ALPHA-BRAVO"},
                           std::string{"SMITHFAMILY-ALPHA-BRAVO"}, std::string{"SMITH-ABC-BRAVO"},
                           std::string{"\xc5\xa0MITH-ALPHA-BRAVO"}, std::string{"SMITH_ALPHA_BRAVO"},
                           std::string(50, ' ') + "SMITH-ALPHA-BRAVO", // > 64 raw characters
                           std::string{"SMITHQQQQQBRAVO"}}) {
    BOOST_TEST_CONTEXT("code '" << code << "'") {
      BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", code}}, u.auth()), 400,
                          "INVALID_INVITE_CODE", hmsg::code_format));
    }
  }
  for (json body : {json{{"inviteCode", ""}}, json{{"inviteCode", "   "}}, json::object(),
                    json{{"inviteCode", 12}}, json{{"inviteCode", nullptr}}}) {
    BOOST_TEST_CONTEXT("body " << body.dump()) {
      BOOST_TEST(is_error(client().post("/v1/households/join", body, u.auth()), 400, "VALIDATION_ERROR", ""));
    }
  }
  // Well-formed but never issued.
  std::string unknown = h.code.substr(0, h.code.find('-')) == "ZZZZ" ? "ZZZY-ALPHA-BRAVO" : "ZZZZ-ALPHA-BRAVO";
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", unknown}}, u.auth()), 404,
                      "INVALID_INVITE_CODE", hmsg::code_unknown));
  BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests") == 0);
  BOOST_TEST(notifications_of(l.id).empty());
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}), 401, "AUTH_REQUIRED",
                      msg::auth_required));
}

BOOST_AUTO_TEST_CASE(join_with_an_expired_code_is_410) {
  auto l = make_user("exp-leader@example.com");
  auto h = create_household(client(), l, "Expired Home");
  pg::query("UPDATE households SET invite_code_expires_at = now() - interval '1 second' WHERE id = $1", {h.id});
  auto u = make_user("exp-joiner@example.com");
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, u.auth()), 410,
                      "EXPIRED_INVITE_CODE", hmsg::code_expired));
  BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests") == 0);
  // Expired at exactly expiresAt ("at and after").
  pg::query("UPDATE households SET invite_code_expires_at = now() WHERE id = $1", {h.id});
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, u.auth()), 410,
                      "EXPIRED_INVITE_CODE", hmsg::code_expired));
}

BOOST_AUTO_TEST_CASE(join_state_conflicts) {
  auto l = make_user("state-leader@example.com");
  auto h = create_household(client(), l, "State Home");
  auto u = make_user("state-joiner@example.com");
  request_join(client(), u, h.code);
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", lower(h.code)}}, u.auth()), 409,
                      "DUPLICATE_REQUEST", hmsg::duplicate_request));
  BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests WHERE user_id = $1", {u.id}) == 1);
  BOOST_TEST(notifications_of(l.id, "join_request_received").size() == 1u);

  // A member of another household.
  auto l2 = make_user("state-leader2@example.com");
  auto h2 = create_household(client(), l2, "Other State Home");
  auto m2 = make_user("state-member2@example.com");
  add_member(client(), l2, h2, m2);
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, m2.auth()), 409,
                      "ALREADY_IN_HOUSEHOLD", hmsg::already_in_household));
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, l2.auth()), 409,
                      "ALREADY_IN_HOUSEHOLD", hmsg::already_in_household));
  // The leader of the household itself.
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, l.auth()), 409,
                      "ALREADY_IN_HOUSEHOLD", hmsg::already_in_household));
}

BOOST_AUTO_TEST_CASE(a_full_household_refuses_join_requests) {
  auto l = make_user("full-leader@example.com");
  auto h = create_household(client(), l, "Full Home");
  auto early = make_user("full-early@example.com");
  request_join(client(), early, h.code); // pending while there is room
  add_members(client(), l, h, 14, "full-m");
  BOOST_TEST(pg::count("SELECT count(*) FROM household_members WHERE household_id = $1 AND status = 'active'",
                       {h.id})
             == 15);
  auto late = make_user("full-late@example.com");
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, late.auth()), 409,
                      "HOUSEHOLD_AT_CAPACITY", hmsg::at_capacity));
  // DUPLICATE_REQUEST comes before HOUSEHOLD_AT_CAPACITY.
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", h.code}}, early.auth()), 409,
                      "DUPLICATE_REQUEST", hmsg::duplicate_request));
  BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests WHERE user_id = $1", {late.id}) == 0);
  // Approval is refused too and the request stays pending.
  auto rid = pg::scalar("SELECT id::text FROM household_join_requests WHERE user_id = $1", {early.id});
  BOOST_TEST(is_error(client().call("POST", "/v1/join-requests/" + rid + "/approve", l.auth()), 409,
                      "HOUSEHOLD_AT_CAPACITY", hmsg::at_capacity));
  BOOST_TEST(pg::scalar("SELECT status FROM household_join_requests WHERE id = $1", {rid}) == "pending");
  auto view = client().get("/v1/households/me", l.auth());
  BOOST_TEST(view.json["household"]["memberCount"] == 15, view.body);
}

BOOST_AUTO_TEST_CASE(sixth_join_request_in_an_hour_is_rate_limited) {
  auto u = make_user("busy-joiner@example.com");
  std::vector<household> hs;
  for (int i = 0; i < 7; ++i) {
    auto l = make_user("busy-leader" + std::to_string(i) + "@example.com");
    hs.push_back(create_household(client(), l, "Busy Home " + std::to_string(i)));
  }
  for (int i = 0; i < 4; ++i)
    request_join(client(), u, hs[static_cast<size_t>(i)].code);
  // A refused join does not use up the allowance.
  BOOST_TEST(is_error(client().post("/v1/households/join", {{"inviteCode", hs[0].code}}, u.auth()), 409,
                      "DUPLICATE_REQUEST", hmsg::duplicate_request));
  request_join(client(), u, hs[4].code); // the 5th success
  auto r = client().post("/v1/households/join", {{"inviteCode", hs[5].code}}, u.auth());
  BOOST_TEST(is_error(r, 429, "RATE_LIMIT_EXCEEDED", hmsg::join_limit));
  // The operation limit comes before the lookup: an unknown code is also 429 now.
  auto unknown = client().post("/v1/households/join", {{"inviteCode", "ZZZZ-ALPHA-BRAVO"}}, u.auth());
  BOOST_TEST(is_error(unknown, 429, "RATE_LIMIT_EXCEEDED", hmsg::join_limit));
  BOOST_TEST(pg::count("SELECT count(*) FROM household_join_requests WHERE user_id = $1", {u.id}) == 5);
  // Another user is not affected.
  auto v = make_user("calm-joiner@example.com");
  request_join(client(), v, hs[6].code);
}

// --- one instant, one string ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(household_created_entry_has_the_household_s_created_at) {
  for (int i = 0; i < 8; ++i) {
    BOOST_TEST_CONTEXT("household " << i) {
      auto l = make_user("created-entry" + std::to_string(i) + "@example.com");
      auto h = create_household(client(), l, "Entry Home " + std::string(1, static_cast<char>('A' + i)));
      auto created = h.body.value("createdAt", "");
      auto log = client().get("/v1/households/" + h.id + "/audit-log", l.auth());
      BOOST_TEST_REQUIRE(log.status == 200, describe(log));
      BOOST_TEST_REQUIRE(log.json["entries"].size() == 1u, log.body);
      BOOST_TEST(log.json["entries"][0]["action"] == "household.created");
      BOOST_TEST(log.json["entries"][0]["createdAt"] == created,
                 "household.created at " << log.json["entries"][0]["createdAt"] << ", household " << created);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_instant_prints_the_same_in_every_answer) {
  // Milliseconds are truncated everywhere (rounding in one place and truncating in
  // another differed for about half of all instants): check many instants.
  auto iso_in_db = [](const std::string& sql, const std::vector<std::string>& params) {
    return pg::scalar("SELECT to_char((" + sql + ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                      params);
  };

  // Households: createdAt of the 201, of the view and of PostgreSQL.
  for (int i = 0; i < 8; ++i) {
    BOOST_TEST_CONTEXT("household " << i) {
      auto l = make_user("instant-leader" + std::to_string(i) + "@example.com");
      auto h = create_household(client(), l, "Instant Home " + std::string(1, static_cast<char>('A' + i)));
      auto created = h.body.value("createdAt", "");
      BOOST_TEST(std::regex_match(created, out_time), created);
      BOOST_TEST(created == iso_in_db("SELECT created_at FROM households WHERE id = $1", {h.id}));
      auto view = client().get("/v1/households/" + h.id, l.auth());
      BOOST_TEST_REQUIRE(view.status == 200, describe(view));
      BOOST_TEST(view.json["household"]["createdAt"] == created);
      BOOST_TEST(view.json["household"]["updatedAt"] == h.body["updatedAt"]);
      BOOST_TEST(view.json["members"][0]["joinedAt"]
                 == iso_in_db("SELECT joined_at FROM household_members WHERE user_id = $1", {l.id}));
    }
  }

  // Members: joinedAt of the approval, of the household view and of the member list.
  auto l = make_user("instant-joins@example.com");
  auto h = create_household(client(), l, "Instant Joins");
  std::map<std::string, std::string> joined; // user id -> joinedAt of the approval
  for (int i = 0; i < 8; ++i) {
    auto u = make_user("instant-member" + std::to_string(i) + "@example.com");
    auto m = add_member(client(), l, h, u);
    joined[u.id] = m.value("joinedAt", "");
    BOOST_TEST(std::regex_match(joined[u.id], out_time), joined[u.id]);
    BOOST_TEST(joined[u.id] == iso_in_db("SELECT joined_at FROM household_members WHERE user_id = $1", {u.id}));
  }
  auto view = client().get("/v1/households/" + h.id, l.auth());
  auto list = client().get("/v1/households/" + h.id + "/members", l.auth());
  auto mine = client().get("/v1/households/me", l.auth());
  BOOST_TEST_REQUIRE(view.status == 200, describe(view));
  BOOST_TEST_REQUIRE(list.status == 200, describe(list));
  BOOST_TEST_REQUIRE(view.json["members"].size() == 9u, view.body);
  BOOST_TEST_REQUIRE(list.json["members"].size() == 9u, list.body);
  BOOST_TEST(mine.json["members"] == view.json["members"]);
  for (size_t i = 0; i < 9; ++i) {
    const auto& v = view.json["members"][i];
    const auto& e = list.json["members"][i];
    auto uid = v.value("userId", "");
    BOOST_TEST_CONTEXT("member " << uid) {
      BOOST_TEST(e.value("userId", "") == uid, "the same order in both");
      BOOST_TEST(v.value("joinedAt", "") == e.value("joinedAt", ""));
      if (uid == l.id) {
        BOOST_TEST(v.value("joinedAt", "") == h.body.value("createdAt", ""), "the creator joins as it is created");
      } else {
        BOOST_TEST(v.value("joinedAt", "") == joined[uid]);
      }
    }
  }
}

// --- welcome flag -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(welcome_flag_shows_until_acknowledged) {
  auto l = make_user("welcome-leader@example.com");
  auto h = create_household(client(), l, "Welcome Home");
  auto m = make_user("welcome-member@example.com");
  add_member(client(), l, h, m);

  BOOST_TEST(client().get("/v1/households/me", l.auth()).json["showWelcome"] == false);
  for (int i = 0; i < 2; ++i) { // reading does not clear it
    auto me = client().get("/v1/households/me", m.auth());
    BOOST_TEST(me.json["showWelcome"] == true, me.body);
    auto byid = client().get("/v1/households/" + h.id, m.auth());
    BOOST_TEST(byid.json["showWelcome"] == true, byid.body);
  }
  BOOST_TEST(pg::scalar("SELECT welcome_pending::text FROM household_members WHERE user_id = $1", {m.id})
             == "true");

  const std::string path = "/v1/households/" + h.id + "/welcome-ack";
  auto ack = client().call("POST", path, m.auth());
  BOOST_TEST_REQUIRE(ack.status == 204, describe(ack));
  BOOST_TEST(ack.body.empty());
  auto at = pg::scalar("SELECT welcome_acknowledged_at::text FROM household_members WHERE user_id = $1", {m.id});
  BOOST_TEST(!at.empty());
  BOOST_TEST(client().get("/v1/households/me", m.auth()).json["showWelcome"] == false);

  auto again = client().post(path, json::object(), m.auth());
  BOOST_TEST(again.status == 204, describe(again));
  BOOST_TEST(pg::scalar("SELECT welcome_acknowledged_at::text FROM household_members WHERE user_id = $1", {m.id})
             == at, "idempotent: the first acknowledgement time stays");
  BOOST_TEST(pg::scalar("SELECT welcome_pending::text FROM household_members WHERE user_id = $1", {m.id})
             == "false");

  // The creator never had one; acknowledging is harmless.
  auto lack = client().call("POST", path, l.auth());
  BOOST_TEST(lack.status == 204, describe(lack));
  BOOST_TEST(client().get("/v1/households/me", l.auth()).json["showWelcome"] == false);
  // An outsider gets the visibility 404.
  auto o = make_user("welcome-outsider@example.com");
  BOOST_TEST(is_error(client().call("POST", path, o.auth()), 404, "HOUSEHOLD_NOT_FOUND",
                      hmsg::household_not_found));
}

// --- analytics: id-only events as log lines (SPEC §6 ENABLE_ANALYTICS) -------------------

BOOST_AUTO_TEST_CASE(analytics_events_are_id_only_log_lines_and_can_be_turned_off) {
  auto analytics_lines = [](const std::string& log) {
    std::vector<json> out;
    std::istringstream in{log};
    for (std::string line; std::getline(in, line);)
      if (line.find("\"analytics.event\"") != std::string::npos)
        out.push_back(json::parse(line));
    return out;
  };
  auto u = make_user("analytics-on@example.com", "Analytic Person");
  std::string hid;
  {
    service_process on; // ENABLE_ANALYTICS defaults to true
    hid = create_household(on.client(), u, "Analytics Home").id;
    on.stop(SIGTERM);
    BOOST_TEST_REQUIRE(on.wait_exit(std::chrono::seconds{15}).value_or(-1) == 0);
    auto lines = analytics_lines(on.stdout_text());
    BOOST_TEST_REQUIRE(lines.size() == 1u, on.stdout_text());
    const auto& e = lines.front();
    BOOST_TEST(e.value("level", "") == "info");
    BOOST_TEST(e.value("action", "") == "household.created");
    BOOST_TEST(e.value("householdId", "") == hid);
    BOOST_TEST(e.value("actorUserId", "") == u.id);
    // Ids only: no name, email or display name anywhere in the line.
    auto text = e.dump();
    for (const char* secret : {"Analytics Home", "analytics-on@example.com", "Analytic Person"})
      BOOST_TEST(text.find(secret) == std::string::npos, secret);
  }
  service_process off{env_overrides{{"ENABLE_ANALYTICS", "false"}}};
  auto v = make_user("analytics-off@example.com");
  create_household(off.client(), v, "Quiet Home");
  off.stop(SIGTERM);
  BOOST_TEST_REQUIRE(off.wait_exit(std::chrono::seconds{15}).value_or(-1) == 0);
  BOOST_TEST(analytics_lines(off.stdout_text()).empty(), off.stdout_text());
}

BOOST_AUTO_TEST_SUITE_END()
