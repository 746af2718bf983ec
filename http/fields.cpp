#include "http/fields.hpp"

namespace petcare::http {

std::optional<std::string> required_string(const nlohmann::json& body, const std::string& name,
                                           std::optional<problem>& err) {
  if (err)
    return std::nullopt;
  auto i = body.find(name);
  if (i == body.end() || i->is_null()) {
    err = validation_error(name + " is required.");
    return std::nullopt;
  }
  if (!i->is_string()) {
    err = validation_error(name + " must be a string.");
    return std::nullopt;
  }
  return i->get<std::string>();
}

optional_field optional_string(const nlohmann::json& body, const std::string& name,
                               std::optional<problem>& err) {
  optional_field out;
  if (err)
    return out;
  auto i = body.find(name);
  if (i == body.end())
    return out;
  out.present = true;
  if (i->is_null()) {
    out.is_null = true;
    return out;
  }
  if (!i->is_string()) {
    err = validation_error(name + " must be a string or null.");
    return out;
  }
  out.value = i->get<std::string>();
  return out;
}

} // namespace petcare::http
