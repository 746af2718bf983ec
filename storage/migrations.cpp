#include "storage/migrations.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include <pqxx/pqxx>
#include <sodium.h>

namespace petcare::storage {

namespace {

/// Key of the session-level advisory lock that serialises `migrate` across instances.
/// Fixed and arbitrary; it only has to differ from the job locks of SPEC §7.4.
constexpr int64_t migrate_lock_key = 0x686f7573686d6967; // "houshmig"

/// Created by the runner, not by a migration, so it exists before the first one runs.
constexpr const char* create_schema_migrations = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

/// Runs one statement outside any transaction (advisory locks are session-level).
void exec_outside_transaction(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx{conn};
  tx.exec(sql);
}

/// The migrations sorted by version; empty string when the list is usable, else why not.
std::string sorted_checked(std::vector<migration>& all) {
  std::sort(all.begin(), all.end(),
            [](const migration& a, const migration& b) { return a.version < b.version; });
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].version <= 0)
      return "migration " + all[i].name + " has no positive version";
    if (i > 0 && all[i].version == all[i - 1].version)
      return "migration version " + std::to_string(all[i].version) + " appears twice";
  }
  return {};
}

/// version → checksum of every migration recorded in the database.
std::map<int, std::string> recorded_checksums(pqxx::connection& conn) {
  pqxx::work tx{conn};
  tx.exec0(create_schema_migrations);
  std::map<int, std::string> out;
  for (const auto& row : tx.exec("SELECT version, checksum FROM schema_migrations"))
    out.emplace(row[0].as<int>(), row[1].as<std::string>());
  tx.commit();
  return out;
}

/// Refuses a build whose files differ from what was applied: the database would silently
/// diverge from the schema this binary was tested against.
std::string first_checksum_mismatch(const std::vector<migration>& all,
                                    const std::map<int, std::string>& recorded) {
  for (const auto& m : all) {
    auto it = recorded.find(m.version);
    if (it != recorded.end() && it->second != sha256_hex(m.sql))
      return "migration version " + std::to_string(m.version) + " (" + m.name
             + ") was applied with a different checksum; refusing to migrate";
  }
  return {};
}

/// Applies the pending migrations in order, each in its own transaction.
void apply_pending(pqxx::connection& conn, const std::vector<migration>& all,
                   const std::map<int, std::string>& recorded, migrate_result& out) {
  for (const auto& m : all) {
    if (recorded.count(m.version) != 0)
      continue;
    try {
      pqxx::work tx{conn};
      tx.exec(m.sql);
      tx.exec_params0("INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                      m.version, sha256_hex(m.sql));
      tx.commit();
    } catch (const std::exception& e) {
      throw std::runtime_error("migration " + m.name + " failed: " + e.what());
    }
    out.applied.push_back(m.name);
  }
}

/// A membership that still grants access: active, and for temporary members not past its end
/// (SPEC §3.5 treats an unswept expired member as gone), so verify agrees with capacity checks.
constexpr const char* effective_member = R"sql(
  m.status = 'active' AND (NOT m.is_temporary OR m.temporary_expires_at > now()))sql";

struct invariant_query {
  const char* label;
  std::string sql;
};

std::vector<invariant_query> invariant_queries() {
  const std::string active = effective_member;
  return {
    {"I1 active households without exactly one active leader named by leader_id",
     "SELECT count(*) FROM households h WHERE h.status = 'active' AND ("
     " (SELECT count(*) FROM household_members m WHERE m.household_id = h.id"
     "   AND m.role = 'leader' AND " + active + ") <> 1"
     " OR NOT EXISTS (SELECT 1 FROM household_members m WHERE m.household_id = h.id"
     "   AND m.user_id = h.leader_id AND m.role = 'leader' AND " + active + "))"},
    {"I2 households with more than 15 active members",
     "SELECT count(*) FROM (SELECT m.household_id FROM household_members m WHERE " + active
       + " GROUP BY m.household_id HAVING count(*) > 15) x"},
    {"I3 users with more than one active membership",
     "SELECT count(*) FROM (SELECT m.user_id FROM household_members m WHERE " + active
       + " GROUP BY m.user_id HAVING count(*) > 1) x"},
    {"I4 deactivated households with active members, pending requests, pending invites or a code",
     "SELECT count(*) FROM households h WHERE h.status = 'deactivated' AND ("
     " h.invite_code IS NOT NULL"
     " OR EXISTS (SELECT 1 FROM household_members m WHERE m.household_id = h.id AND "
       + active + ")"
     " OR EXISTS (SELECT 1 FROM household_join_requests r WHERE r.household_id = h.id"
     "   AND r.status = 'pending')"
     " OR EXISTS (SELECT 1 FROM email_invites i WHERE i.household_id = h.id"
     "   AND i.status = 'pending'))"},
    // I5 cannot be counted after the fact, so check that the guards refusing DELETE (and
    // UPDATE on audit_log) are present and enabled. tgtype bits: 1 row, 2 before,
    // 8 delete, 16 update; 'O'/'A' = enabled in normal sessions.
    {"I5 protected tables without an enabled delete guard (audit_log: also update)",
     "SELECT count(*) FROM (VALUES ('household_members', 11), ('household_join_requests', 11),"
     " ('email_invites', 11), ('audit_log', 27)) AS need(tbl, bits)"
     " WHERE NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
     "   WHERE t.tgrelid = to_regclass(need.tbl) AND p.proname = 'forbid_row_change'"
     "   AND t.tgenabled IN ('O', 'A') AND (t.tgtype::int & need.bits) = need.bits)"},
  };
}

} // namespace

std::string sha256_hex(const std::string& data) {
  // crypto_hash_sha256 needs no sodium_init, but other users of libsodium in this process
  // do; calling it here is idempotent and thread-safe.
  static const bool sodium_ready = sodium_init() >= 0;
  (void) sodium_ready;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

int build_schema_version() {
  int highest = 0;
  for (const auto& m : embedded_migrations())
    highest = std::max(highest, m.version);
  return highest;
}

migrate_result migrate(const std::string& database_url) {
  return migrate(database_url, embedded_migrations());
}

migrate_result migrate(const std::string& database_url, const std::vector<migration>& migrations) {
  migrate_result out;
  auto all = migrations;
  if (auto problem = sorted_checked(all); !problem.empty()) {
    out.error = problem;
    return out;
  }
  try {
    pqxx::connection conn{database_url};
    // Session-level lock: held across the per-migration transactions and released by
    // unlock or, if this process dies, by the server when the connection drops.
    exec_outside_transaction(conn, "SELECT pg_advisory_lock(" + std::to_string(migrate_lock_key)
                                     + ")");
    auto recorded = recorded_checksums(conn);
    out.error = first_checksum_mismatch(all, recorded);
    if (out.error.empty())
      apply_pending(conn, all, recorded, out);
    exec_outside_transaction(conn, "SELECT pg_advisory_unlock("
                                     + std::to_string(migrate_lock_key) + ")");
    out.ok = out.error.empty();
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  return out;
}

verify_result verify(const std::string& database_url) {
  verify_result out;
  try {
    pqxx::connection conn{database_url};
    // One snapshot for all checks, so a concurrent commit cannot make them disagree.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
    bool clean = true;
    for (const auto& q : invariant_queries()) {
      auto count = tx.exec1(q.sql)[0].as<int64_t>();
      clean = clean && count == 0;
      out.lines.push_back(std::string{q.label} + ": " + std::to_string(count));
    }
    tx.commit();
    out.ok = clean;
  } catch (const std::exception& e) {
    out.ok = false;
    out.error = e.what();
  }
  return out;
}

} // namespace petcare::storage
