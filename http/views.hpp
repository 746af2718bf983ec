#pragma once
/// JSON shapes of SPEC §4.1 built from household rows.

#include <nlohmann/json.hpp>

#include <string>

#include "storage/households.hpp"

namespace petcare::http {

/// Household object; `inviteCode`/`inviteCodeExpiresAt` only for the leader.
nlohmann::json household_json(const storage::household_row& h, const std::string& caller);

/// `{household, members, myRole, showWelcome}` as seen by `caller`.
nlohmann::json household_view_json(const storage::household_row& h, const std::string& caller);

nlohmann::json member_json(const storage::member_row& m);

} // namespace petcare::http
