// Migration runner, schema guards and the invariant checker (SPEC §2, §8.3) against a real
// PostgreSQL. Each test creates its own database from TEST_DATABASE_URL (a superuser URL) so
// it may drop indexes or disable triggers without disturbing other suites.

#include "storage/migrations.hpp"

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using petcare::storage::migration;
namespace storage = petcare::storage;

std::string admin_url() {
  const char* url = std::getenv("TEST_DATABASE_URL");
  return url ? url : "";
}

boost::test_tools::assertion_result have_database(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result res{!admin_url().empty()};
  res.message() << "TEST_DATABASE_URL is not set";
  return res;
}

/// `url` pointing at database `db` instead (URI form, or key=value form as a fallback).
std::string with_database(const std::string& url, const std::string& db) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return url + " dbname=" + db; // libpq: the last duplicate keyword wins
  auto query = url.find('?', scheme + 3);
  auto path = std::min(url.find('/', scheme + 3), query);
  return url.substr(0, path) + "/" + db + (query == std::string::npos ? "" : url.substr(query));
}

/// A freshly created, empty database, dropped again at the end of the test.
struct fresh_database {
  std::string name;
  std::string url;
  int next_code = 0;

  fresh_database() {
    std::random_device rd;
    std::ostringstream os;
    os << "mig_" << std::hex << rd() << rd();
    name = os.str();
    pqxx::connection admin{admin_url()};
    pqxx::nontransaction tx{admin};
    tx.exec0("CREATE DATABASE " + tx.quote_name(name));
    url = with_database(admin_url(), name);
  }

  ~fresh_database() {
    try {
      pqxx::connection admin{admin_url()};
      pqxx::nontransaction tx{admin};
      tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    } catch (...) { // a leftover test database must not turn into a crash
    }
  }

  void migrated() { BOOST_TEST_REQUIRE(storage::migrate(url).ok); }

  pqxx::result sql(const std::string& statement) {
    pqxx::connection conn{url};
    pqxx::work tx{conn};
    auto r = tx.exec(statement);
    tx.commit();
    return r;
  }

  int64_t count(const std::string& query) { return sql(query)[0][0].as<int64_t>(); }

  /// The SQLSTATE that refused `statement`, or "" if it succeeded.
  std::string refusal(const std::string& statement) {
    try {
      sql(statement);
      return "";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  }

  std::string add_user() {
    static int n = 0;
    auto i = std::to_string(++n);
    return sql("INSERT INTO users (email, password_hash, display_name) VALUES ('u" + i
               + "@example.test', '$argon2id$test', 'User " + i + "') RETURNING id")[0][0]
      .c_str();
  }

  /// An invite code unique within this database: TEST-ALPHA-AAAA, TEST-ALPHA-AAAB, ...
  std::string code() {
    std::string word = "AAAA";
    for (int i = 3, n = next_code++; i >= 0; --i, n /= 26)
      word[i] = static_cast<char>('A' + n % 26);
    return "TEST-ALPHA-" + word;
  }

  std::string add_household(const std::string& leader, bool active = true) {
    auto code_sql = active ? "'" + code() + "'" : std::string{"NULL"};
    std::string status = active ? "active" : "deactivated";
    return sql("INSERT INTO households (name, status, invite_code, leader_id, created_by,"
               " deactivated_at) VALUES ('Test Home', '" + status + "', " + code_sql + ", '"
               + leader + "', '" + leader + "', " + (active ? "NULL" : "now()")
               + ") RETURNING id")[0][0]
      .c_str();
  }

  void add_member(const std::string& household, const std::string& user,
                  const std::string& role = "member", const std::string& temporary_end = "NULL") {
    sql("INSERT INTO household_members (household_id, user_id, role, is_temporary,"
        " temporary_expires_at) VALUES ('" + household + "', '" + user + "', '" + role + "', "
        + (temporary_end == "NULL" ? "false" : "true") + ", " + temporary_end + ")");
  }
};

/// The count printed on verify's line for invariant `id` ("I2"), or -1 if there is none.
int64_t line_count(const storage::verify_result& r, const std::string& id) {
  for (const auto& line : r.lines)
    if (line.rfind(id + " ", 0) == 0)
      return std::stoll(line.substr(line.rfind(": ") + 2));
  return -1;
}

std::vector<std::string> embedded_names() {
  std::vector<std::string> names;
  for (const auto& m : storage::embedded_migrations())
    names.push_back(m.name);
  return names;
}

} // namespace

BOOST_AUTO_TEST_SUITE(migrations_tests)

BOOST_AUTO_TEST_CASE(sha256_and_embedded_files) {
  BOOST_TEST(storage::sha256_hex("abc")
             == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto& all = storage::embedded_migrations();
  BOOST_TEST_REQUIRE(!all.empty());
  BOOST_TEST(all.front().version == 1);
  BOOST_TEST(all.front().name == "0001_initial.sql");
  BOOST_TEST(all.front().sql.find("CREATE TABLE audit_log") != std::string::npos);
  BOOST_TEST(storage::build_schema_version() == all.back().version);
}

BOOST_FIXTURE_TEST_CASE(migrate_applies_all_and_records_checksums, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  auto r = storage::migrate(url);
  BOOST_TEST_REQUIRE(r.ok, r.error);
  BOOST_TEST(r.applied == embedded_names(), boost::test_tools::per_element());
  for (const auto& m : storage::embedded_migrations())
    BOOST_TEST(count("SELECT count(*) FROM schema_migrations WHERE version = "
                     + std::to_string(m.version) + " AND checksum = '" + storage::sha256_hex(m.sql)
                     + "' AND applied_at <= now()") == 1);
  for (auto table : {"users", "sessions", "households", "retired_invite_codes", "household_members",
                     "household_join_requests", "email_invites", "email_outbox", "notifications",
                     "audit_log", "webhooks", "webhook_deliveries", "idempotency_keys"})
    BOOST_TEST(count(std::string{"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                                 " AND tablename = '"} + table + "'") == 1, table);
}

BOOST_FIXTURE_TEST_CASE(second_migrate_applies_nothing, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  auto before = count("SELECT count(*) FROM schema_migrations");
  auto again = storage::migrate(url);
  BOOST_TEST(again.ok, again.error);
  BOOST_TEST(again.applied.empty());
  BOOST_TEST(count("SELECT count(*) FROM schema_migrations") == before);
}

BOOST_FIXTURE_TEST_CASE(concurrent_migrations_apply_each_file_once, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  storage::migrate_result a, b;
  std::thread ta{[&] { a = storage::migrate(url); }};
  std::thread tb{[&] { b = storage::migrate(url); }};
  ta.join();
  tb.join();
  BOOST_TEST(a.ok, a.error);
  BOOST_TEST(b.ok, b.error);
  BOOST_TEST(a.applied.size() + b.applied.size() == storage::embedded_migrations().size());
}

BOOST_FIXTURE_TEST_CASE(tampered_checksum_refuses_and_applies_nothing, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  sql("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1");
  // A later pending version proves that nothing at all is applied once a mismatch is found.
  auto with_later = storage::embedded_migrations();
  with_later.push_back({9000, "9000_extra.sql", "CREATE TABLE mig_extra (x integer);"});
  auto r = storage::migrate(url, with_later);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("version 1 ") != std::string::npos, r.error);
  BOOST_TEST(r.applied.empty());
  BOOST_TEST(count("SELECT count(*) FROM pg_tables WHERE tablename = 'mig_extra'") == 0);
  BOOST_TEST(count("SELECT count(*) FROM schema_migrations WHERE version = 9000") == 0);
  BOOST_TEST(!storage::migrate(url).ok);
}

BOOST_FIXTURE_TEST_CASE(failing_migration_rolls_back_and_is_not_recorded, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  auto with_bad = storage::embedded_migrations();
  with_bad.push_back({9001, "9001_bad.sql", "CREATE TABLE mig_partial (x integer);\n"
                                            "SELECT no_such_function();"});
  auto r = storage::migrate(url, with_bad);
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("9001_bad.sql") != std::string::npos, r.error);
  BOOST_TEST(r.applied == embedded_names(), boost::test_tools::per_element()); // earlier ones stay
  BOOST_TEST(count("SELECT count(*) FROM pg_tables WHERE tablename = 'mig_partial'") == 0);
  BOOST_TEST(count("SELECT count(*) FROM schema_migrations WHERE version = 9001") == 0);
}

BOOST_FIXTURE_TEST_CASE(verify_is_clean_on_migrated_databases, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  BOOST_TEST(!storage::verify(url).ok); // not migrated: an error, never a pass
  migrated();
  auto empty = storage::verify(url);
  BOOST_TEST(empty.ok, empty.error);
  BOOST_TEST(empty.lines.size() == 5u);
  for (auto id : {"I1", "I2", "I3", "I4", "I5"})
    BOOST_TEST(line_count(empty, id) == 0, id);

  auto leader = add_user();
  auto hh = add_household(leader);
  add_member(hh, leader, "leader");
  add_member(hh, add_user());
  add_member(hh, add_user(), "member", "now() + interval '3 days'");
  BOOST_TEST(storage::verify(url).ok);
}

BOOST_FIXTURE_TEST_CASE(verify_detects_i1_leaderless_or_misnamed_leader, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  add_household(add_user()); // active, but no leader row at all
  auto named = add_user();
  auto actual = add_user();
  auto hh = add_household(named); // leader_id names someone who is not the leader row
  add_member(hh, actual, "leader");
  add_member(hh, named);
  auto r = storage::verify(url);
  BOOST_TEST(!r.ok);
  BOOST_TEST(line_count(r, "I1") == 2);
  // Two active leaders cannot be stored: the partial unique index refuses the second.
  BOOST_TEST(refusal("UPDATE household_members SET role = 'leader' WHERE household_id = '" + hh
                     + "' AND user_id = '" + named + "'") == "23505");
}

BOOST_FIXTURE_TEST_CASE(verify_detects_i2_sixteen_active_members, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  auto leader = add_user();
  auto hh = add_household(leader);
  add_member(hh, leader, "leader");
  for (int i = 0; i < 14; ++i)
    add_member(hh, add_user());
  // A temporary member past their end no longer counts, even before the sweep (§3.5).
  add_member(hh, add_user(), "member", "now() - interval '1 minute'");
  BOOST_TEST(storage::verify(url).ok);

  add_member(hh, add_user()); // the 16th
  auto r = storage::verify(url);
  BOOST_TEST(!r.ok);
  BOOST_TEST(line_count(r, "I2") == 1);
  BOOST_TEST(line_count(r, "I1") == 0);
}

BOOST_FIXTURE_TEST_CASE(verify_detects_i3_two_active_memberships, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  auto a = add_user();
  auto b = add_user();
  auto ha = add_household(a);
  auto hb = add_household(b);
  add_member(ha, a, "leader");
  add_member(hb, b, "leader");
  auto joiner = add_user();
  add_member(ha, joiner);
  // The partial unique index makes I3 impossible to violate while it exists...
  BOOST_TEST(refusal("INSERT INTO household_members (household_id, user_id, role) VALUES ('" + hb
                     + "', '" + joiner + "', 'member')") == "23505");
  // ...so drop it (this database only) to show verify still catches the violation.
  sql("DROP INDEX members_one_active_per_user");
  add_member(hb, joiner);
  auto r = storage::verify(url);
  BOOST_TEST(!r.ok);
  BOOST_TEST(line_count(r, "I3") == 1);
}

BOOST_FIXTURE_TEST_CASE(verify_detects_i4_leftovers_of_deactivated_households, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  auto owner = add_user();
  auto with_member = add_household(owner, false);
  add_member(with_member, add_user());
  auto with_request = add_household(owner, false);
  sql("INSERT INTO household_join_requests (household_id, user_id, via, invite_code) VALUES ('"
      + with_request + "', '" + add_user() + "', 'invite_code', 'TEST-ALPHA-BRAVO')");
  auto with_invite = add_household(owner, false);
  sql("INSERT INTO email_invites (household_id, sender_user_id, email, token_hash, expires_at)"
      " VALUES ('" + with_invite + "', '" + owner + "', 'guest@example.test', repeat('a', 64),"
      " now() + interval '14 days')");
  auto r = storage::verify(url);
  BOOST_TEST(!r.ok);
  BOOST_TEST(line_count(r, "I4") == 3);
  // A deactivated household keeping a code is refused by households_code_iff_active.
  BOOST_TEST(refusal("UPDATE households SET invite_code = 'TEST-ALPHA-ZZZZ' WHERE id = '"
                     + with_member + "'") == "23514");
}

BOOST_FIXTURE_TEST_CASE(verify_detects_disabled_delete_guard_i5, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  sql("ALTER TABLE household_members DISABLE TRIGGER members_no_delete");
  auto r = storage::verify(url);
  BOOST_TEST(!r.ok);
  BOOST_TEST(line_count(r, "I5") == 1);
}

BOOST_FIXTURE_TEST_CASE(protected_rows_refuse_update_and_delete, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  auto leader = add_user();
  auto hh = add_household(leader);
  add_member(hh, leader, "leader");
  sql("INSERT INTO audit_log (household_id, actor_user_id, action, request_id) VALUES ('" + hh
      + "', '" + leader + "', 'household.created', 'req-1')");
  sql("INSERT INTO household_join_requests (household_id, user_id, via, invite_code) VALUES ('"
      + hh + "', '" + add_user() + "', 'invite_code', 'TEST-ALPHA-BRAVO')");
  sql("INSERT INTO email_invites (household_id, sender_user_id, email, token_hash, expires_at)"
      " VALUES ('" + hh + "', '" + leader + "', 'guest@example.test', repeat('b', 64),"
      " now() + interval '14 days')");

  BOOST_TEST(refusal("UPDATE audit_log SET action = 'household.updated'") == "23001");
  BOOST_TEST(refusal("DELETE FROM audit_log") == "23001");
  BOOST_TEST(count("SELECT count(*) FROM audit_log WHERE action = 'household.created'") == 1);
  for (auto table : {"household_members", "household_join_requests", "email_invites"})
    BOOST_TEST(refusal(std::string{"DELETE FROM "} + table) == "23001", table);
}

BOOST_FIXTURE_TEST_CASE(retired_codes_and_terminal_statuses_are_final, fresh_database,
                        *boost::unit_test::precondition(have_database)) {
  migrated();
  auto leader = add_user();
  auto hh = add_household(leader);
  sql("INSERT INTO retired_invite_codes (code, household_id, reason) VALUES ('OLD-ALPHA-ALPHA', '"
      + hh + "', 'regenerated')");
  // Raised as a unique violation so the code generator simply redraws.
  BOOST_TEST(refusal("UPDATE households SET invite_code = 'OLD-ALPHA-ALPHA'") == "23505");
  sql("INSERT INTO household_join_requests (household_id, user_id, via, invite_code, status,"
      " responded_at) VALUES ('" + hh + "', '" + add_user() + "', 'invite_code',"
      " 'TEST-ALPHA-BRAVO', 'withdrawn', now())");
  BOOST_TEST(refusal("UPDATE household_join_requests SET status = 'pending', responded_at = NULL")
             == "23514");
}

BOOST_AUTO_TEST_SUITE_END()
