#include <nlohmann/json.hpp>

#include "http/routes.hpp"

namespace petcare::http {

namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

json error_response(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
}

json ok_response(const std::string& description, const json& schema) {
  if (schema.is_null())
    return {{"description", description}};
  return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

/// One operation of the contract: method, path, summary, auth, body schema,
/// success status and schema, and the error statuses it may answer.
struct operation {
  const char* method;
  const char* path;
  const char* summary;
  bool auth;
  json body;
  int status;
  json result;
  std::vector<int> errors;
};

json object_schema(std::initializer_list<std::pair<const char*, json>> props,
                   std::vector<std::string> required = {}) {
  json p = json::object();
  for (auto& [k, v] : props)
    p[k] = v;
  json s{{"type", "object"}, {"properties", p}};
  if (!required.empty())
    s["required"] = required;
  return s;
}

json schemas() {
  json str{{"type", "string"}};
  json uuid{{"type", "string"}, {"format", "uuid"}};
  json time{{"type", "string"}, {"format", "date-time"}};
  return {
    {"Error", object_schema({{"error", object_schema({{"code", str}, {"message", str}, {"requestId", str}},
                                                     {"code", "message", "requestId"})}},
                            {"error"})},
    {"User", object_schema({{"id", uuid}, {"email", str}, {"displayName", str}},
                           {"id", "email", "displayName"})},
    {"AuthResult", object_schema({{"user", ref("User")},
                                  {"accessToken", str},
                                  {"refreshToken", str},
                                  {"expiresIn", {{"type", "integer"}}}},
                                 {"user", "accessToken", "refreshToken", "expiresIn"})},
    {"Me", object_schema({{"user", ref("User")}, {"householdId", {{"type", {"string", "null"}}, {"format", "uuid"}}}},
                         {"user", "householdId"})},
    {"Timestamp", time},
  };
}

const std::vector<operation>& operations() {
  static const std::vector<operation> ops{
    {"post", "/v1/auth/register", "Create an account and a session", false,
     object_schema({{"email", {{"type", "string"}}}, {"password", {{"type", "string"}}}, {"displayName", {{"type", "string"}}}},
                   {"email", "password", "displayName"}),
     201, ref("AuthResult"), {400, 409, 413, 415, 429}},
    {"post", "/v1/auth/login", "Sign in", false,
     object_schema({{"email", {{"type", "string"}}}, {"password", {{"type", "string"}}}}, {"email", "password"}),
     200, ref("AuthResult"), {400, 401, 413, 415, 429}},
    {"post", "/v1/auth/refresh", "Rotate the refresh token", false,
     object_schema({{"refreshToken", {{"type", "string"}}}}, {"refreshToken"}), 200, ref("AuthResult"),
     {400, 401, 413, 415, 429}},
    {"post", "/v1/auth/logout", "Revoke the current session", true, json(), 204, json(),
     {400, 401, 415, 429}},
    {"get", "/v1/me", "The signed-in user and their household id", true, json(), 200, ref("Me"),
     {401, 429}},
  };
  return ops;
}

const char* describe(int status) {
  switch (status) {
    case 400: return "Malformed or invalid request";
    case 401: return "Authentication failed";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 409: return "Conflict with the current state";
    case 410: return "Gone";
    case 413: return "Body too large";
    case 415: return "Body is not application/json";
    case 429: return "Rate limited";
    default: return "Error";
  }
}

} // namespace

std::string openapi_document(const std::string& version) {
  json paths = json::object();
  for (auto& op : operations()) {
    json o{{"summary", op.summary}, {"responses", json::object()}};
    if (op.auth)
      o["security"] = json::array({{{"bearer", json::array()}}});
    else
      o["security"] = json::array();
    if (!op.body.is_null())
      o["requestBody"] = {{"required", true},
                          {"content", {{"application/json", {{"schema", op.body}}}}}};
    o["responses"][std::to_string(op.status)] = ok_response("Success", op.result);
    for (int e : op.errors)
      o["responses"][std::to_string(e)] = error_response(describe(e));
    o["responses"]["500"] = error_response("Unexpected error");
    o["responses"]["503"] = error_response("Dependency unavailable or request timed out");
    // {param} segments become path parameters.
    std::string path = op.path;
    json params = json::array();
    for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
      auto j = path.find('}', i);
      params.push_back({{"name", path.substr(i + 1, j - i - 1)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty())
      o["parameters"] = params;
    paths[path][op.method] = o;
  }
  json doc{{"openapi", "3.1.0"},
           {"info", {{"title", "Household service"}, {"version", version}}},
           {"servers", json::array({{{"url", "/"}}})},
           {"paths", paths},
           {"components",
            {{"schemas", schemas()},
             {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}}};
  return doc.dump();
}

} // namespace petcare::http
