#include "http/json_body.hpp"

#include "actors/validation.hpp"

#include <set>
#include <string>
#include <vector>

namespace petcare::http {

namespace {

using json = nlohmann::json;

/// Builds the document like nlohmann's own DOM parser but refuses a key that
/// is repeated within one object, at any depth. Returning false stops sax_parse.
class strict_builder final : public nlohmann::json_sax<json> {
public:
  json root;

  bool null() override { return add(json(nullptr)); }
  bool boolean(bool v) override { return add(json(v)); }
  bool number_integer(number_integer_t v) override { return add(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return add(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return add(json(v)); }
  bool string(string_t& v) override { return add(json(std::move(v))); }
  bool binary(binary_t&) override { return false; } // JSON text never yields binary

  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    frame& top = stack_.back();
    if (!top.keys.insert(k).second)
      return false; // duplicated key
    top.pending_key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

private:
  struct frame {
    json* container;
    std::set<std::string> keys; // only used for objects
    std::string pending_key;
  };
  std::vector<frame> stack_;

  /// Stores `v` where the parser currently is and returns its address.
  json* place(json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    frame& top = stack_.back();
    if (top.container->is_array()) {
      top.container->push_back(std::move(v));
      return &top.container->back();
    }
    json& slot = (*top.container)[top.pending_key];
    slot = std::move(v);
    return &slot;
  }

  bool add(json&& v) {
    place(std::move(v));
    return true;
  }

  // Containers on the stack stay put: only the innermost one ever grows.
  bool open(json&& empty) {
    stack_.push_back(frame{place(std::move(empty)), {}, {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// One `name=value` parameter; true only for charset=utf-8 (quoted or not).
bool is_utf8_charset_param(std::string_view param) {
  const size_t eq = param.find('=');
  if (eq == std::string_view::npos)
    return false;
  std::string_view value = trim_ows(param.substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  return iequals(trim_ows(param.substr(0, eq)), "charset") && iequals(value, "utf-8");
}

} // namespace

bool is_json_media_type(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (!iequals(trim_ows(content_type.substr(0, semi)), "application/json"))
    return false;
  bool seen_charset = false;
  while (semi != std::string_view::npos) {
    const std::string_view rest = content_type.substr(semi + 1);
    const size_t next = rest.find(';');
    const std::string_view param = trim_ows(rest.substr(0, next));
    semi = next == std::string_view::npos ? next : semi + 1 + next;
    if (param.empty())
      continue; // "application/json;" or ";;"
    if (seen_charset || !is_utf8_charset_param(param))
      return false;
    seen_charset = true;
  }
  return true;
}

parsed_body parse_body(const std::optional<std::string_view>& content_type, std::string_view body) {
  try {
    if (body.empty()) {
      if (!content_type || is_json_media_type(*content_type))
        return {body_status::absent, json::object()};
      return {body_status::unsupported_media_type, json::object()};
    }
    if (!content_type || !is_json_media_type(*content_type))
      return {body_status::unsupported_media_type, json::object()};
    // nlohmann checks UTF-8 inside strings only; check the whole body first.
    if (!actors::valid_utf8(body))
      return {body_status::malformed, json::object()};
    strict_builder builder;
    // Lone escaped surrogates are parse errors in nlohmann's lexer.
    if (!json::sax_parse(body.begin(), body.end(), &builder) || !builder.root.is_object())
      return {body_status::malformed, json::object()};
    return {body_status::ok, std::move(builder.root)};
  } catch (...) { // bad_alloc or an unexpected library exception: never escape a handler
    return {body_status::malformed, json::object()};
  }
}

} // namespace petcare::http
