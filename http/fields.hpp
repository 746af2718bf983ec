#pragma once
/// Field access for request bodies: wrong type or missing ⇒ VALIDATION_ERROR
/// naming the field (SPEC §4.1).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "http/errors.hpp"

namespace petcare::http {

/// A required string field; sets `err` and returns nullopt when missing or not a string.
std::optional<std::string> required_string(const nlohmann::json& body, const std::string& name,
                                           std::optional<problem>& err);

/// An optional string-or-null field: absent ⇒ nullopt, null ⇒ "" with `is_null` set.
struct optional_field {
  bool present = false;
  bool is_null = false;
  std::string value;
};
optional_field optional_string(const nlohmann::json& body, const std::string& name,
                               std::optional<problem>& err);

} // namespace petcare::http
