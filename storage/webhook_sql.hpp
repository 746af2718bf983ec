#pragma once
/// Private to storage/*.cpp: how an audited household change reaches the
/// webhook deliveries outbox, inside the change's own transaction.

#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include <string>

namespace petcare::storage::detail {

/// Writes one delivery per active webhook of `hid` subscribed to an event the
/// audit row raises (SPEC §4.5), in a single statement; nothing (and no SQL)
/// when the action raises none. Called by `audit()`.
void enqueue_webhooks(pqxx::work& tx, const std::string& hid, const std::string& actor,
                      const std::string& action, const std::string& target,
                      const std::string& subject, const nlohmann::json& metadata);

} // namespace petcare::storage::detail
