#pragma once
/// Schema migrations (SPEC §8.3 `migrate`) and the invariant checker (`verify`, I1–I5 of §2).
/// The SQL files of storage/migrations/ are compiled into the binary by
/// storage/embed_migrations.cmake, so both commands work from any directory.

#include <string>
#include <vector>

namespace petcare::storage {

/// One forward-only migration: `version` is the file name's leading number.
struct migration {
  int version = 0;
  std::string name; ///< file name, e.g. "0001_initial.sql"
  std::string sql;  ///< the file's exact bytes
};

/// Every migration compiled into this build, ordered by version (defined in generated code).
const std::vector<migration>& embedded_migrations();

/// Lowercase hex SHA-256 of `data` (libsodium); the checksum recorded per migration.
std::string sha256_hex(const std::string& data);

/// The highest embedded version: the schema version this build expects (readiness compares it).
int build_schema_version();

/// Outcome of `migrate`; `applied` lists the file names applied by this call, in order.
struct migrate_result {
  bool ok = false;
  std::vector<std::string> applied;
  std::string error;
};

/// Applies pending embedded migrations in version order, each in its own transaction, and
/// records (version, checksum, applied_at) in schema_migrations (created if missing).
/// Serialised across concurrent instances with pg_advisory_lock. If an already-applied
/// migration's recorded checksum differs from the embedded file, nothing is applied and
/// `error` names the version. Versions recorded in the database but unknown to this build
/// are accepted (an older binary during a blue-green deploy). Idempotent; never throws.
migrate_result migrate(const std::string& database_url);

/// As above with an explicit migration list (tests use it to add a later version).
migrate_result migrate(const std::string& database_url, const std::vector<migration>& migrations);

/// Outcome of `verify`: one line per invariant, counts only (never ids or personal data).
struct verify_result {
  bool ok = false;
  std::vector<std::string> lines;
  std::string error;
};

/// Checks invariants I1–I5 of SPEC §2 with read-only SQL. I1–I4 are counted; I5 (rows are
/// never deleted) cannot be counted, so the protective triggers must exist and be enabled.
/// A temporary membership whose end has passed counts as ended even before the sweep
/// (SPEC §3.5). `ok` is false on any violation or error; never throws.
verify_result verify(const std::string& database_url);

} // namespace petcare::storage
