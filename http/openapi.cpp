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

json ok_response(const std::string& description, const json& schema, const char* media) {
  if (schema.is_null())
    return {{"description", description}};
  return {{"description", description}, {"content", {{media, {{"schema", schema}}}}}};
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
  bool body_optional = false;             ///< SPEC "body optional": no body, an empty one or {}
  const char* media = "application/json"; ///< of the success body
  bool query_token = false;               ///< the token may also come as ?access_token= (EventSource)
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
  json uuid_or_null{{"type", {"string", "null"}}, {"format", "uuid"}};
  json time_or_null{{"type", {"string", "null"}}, {"format", "date-time"}};
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
    // inviteCode and inviteCodeExpiresAt are present for the leader only (keys absent otherwise).
    {"Household", object_schema({{"id", uuid}, {"name", str}, {"description", {{"type", {"string", "null"}}}},
                                 {"leaderId", uuid}, {"memberCount", {{"type", "integer"}}}, {"createdAt", time},
                                 {"updatedAt", time}, {"inviteCode", str}, {"inviteCodeExpiresAt", time_or_null}},
                                {"id", "name", "description", "leaderId", "memberCount", "createdAt", "updatedAt"})},
    {"Member", object_schema({{"userId", uuid}, {"displayName", str},
                              {"role", {{"type", "string"}, {"enum", {"leader", "member"}}}},
                              {"isTemporary", {{"type", "boolean"}}}, {"temporaryExpiresAt", time_or_null},
                              {"joinedAt", time}, {"invitedBy", uuid_or_null}},
                             {"userId", "displayName", "role", "isTemporary", "temporaryExpiresAt", "joinedAt",
                              "invitedBy"})},
    {"HouseholdView", object_schema({{"household", ref("Household")},
                                     {"members", {{"type", "array"}, {"items", ref("Member")}}},
                                     {"myRole", {{"type", "string"}, {"enum", {"leader", "member"}}}},
                                     {"showWelcome", {{"type", "boolean"}}}},
                                    {"household", "members", "myRole", "showWelcome"})},
    {"JoinRequest",
     object_schema({{"id", uuid}, {"householdId", uuid}, {"userId", uuid},
                    {"status", {{"type", "string"}, {"enum", {"pending", "approved", "rejected", "withdrawn"}}}},
                    {"via", {{"type", "string"}, {"enum", {"invite_code", "email_invite"}}}},
                    {"requestedAt", time}, {"respondedAt", time_or_null}, {"respondedBy", uuid_or_null}},
                   {"id", "householdId", "userId", "status", "via", "requestedAt", "respondedAt", "respondedBy"})},
    {"JoinResult", // join by code and email-invite acceptance
     object_schema({{"joinRequest", object_schema({{"id", uuid}, {"householdId", uuid},
                                                   {"status", {{"type", "string"}, {"enum", {"pending"}}}},
                                                   {"requestedAt", time}},
                                                  {"id", "householdId", "status", "requestedAt"})},
                    {"household", object_schema({{"name", str}, {"description", {{"type", {"string", "null"}}}}},
                                                {"name", "description"})}},
                   {"joinRequest", "household"})},
    {"LeaveResult", object_schema({{"householdDeactivated", {{"type", "boolean"}}}, {"newLeaderId", uuid_or_null}},
                                  {"householdDeactivated", "newLeaderId"})},
    {"LeadershipResult", object_schema({{"previousLeaderId", uuid}, {"newLeaderId", uuid}},
                                       {"previousLeaderId", "newLeaderId"})},
    {"EmailInvite",
     object_schema({{"id", uuid}, {"householdId", uuid}, {"email", str},
                    {"status", {{"type", "string"}, {"enum", {"pending", "accepted", "revoked", "expired"}}}},
                    {"invitedBy", uuid}, {"personalMessage", {{"type", {"string", "null"}}}},
                    {"createdAt", time}, {"expiresAt", time},
                    {"acceptedAt", {{"type", {"string", "null"}}, {"format", "date-time"}}},
                    {"revokedAt", {{"type", {"string", "null"}}, {"format", "date-time"}}},
                    {"delivery", {{"type", "string"}, {"enum", {"queued", "sent", "failed", "cancelled"}}}}},
                   {"id", "householdId", "email", "status", "invitedBy", "personalMessage", "createdAt",
                    "expiresAt", "acceptedAt", "revokedAt", "delivery"})},
    {"Webhook",
     object_schema({{"id", uuid}, {"url", str},
                    {"events", {{"type", "array"}, {"items", ref("WebhookEvent")}}},
                    {"active", {{"type", "boolean"}}}, {"createdAt", time}},
                   {"id", "url", "events", "active", "createdAt"})},
    {"WebhookEvent",
     {{"type", "string"},
      {"enum", {"household.updated", "household.deactivated", "member.added", "member.removed", "member.left",
                "member.expired", "join_request.created", "join_request.approved", "join_request.rejected",
                "invite_code.regenerated", "leadership.transferred"}}}},
    {"WebhookDelivery",
     object_schema({{"id", uuid}, {"event", ref("WebhookEvent")},
                    {"status", {{"type", "string"}, {"enum", {"pending", "sending", "delivered", "failed"}}}},
                    {"attempts", {{"type", "integer"}}},
                    {"lastStatusCode", {{"type", {"integer", "null"}}}},
                    {"lastError", {{"type", {"string", "null"}}}}, {"createdAt", time},
                    {"deliveredAt", {{"type", {"string", "null"}}, {"format", "date-time"}}}},
                   {"id", "event", "status", "attempts", "lastStatusCode", "lastError", "createdAt", "deliveredAt"})},
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
    // Households, membership and join requests (SPEC §3, §4.4).
    {"post", "/v1/households", "Create a household; the caller becomes its leader", true,
     object_schema({{"name", {{"type", "string"}}}, {"description", {{"type", {"string", "null"}}}}}, {"name"}), 201,
     object_schema({{"household", ref("Household")}}, {"household"}), {400, 401, 409, 413, 415, 429}},
    {"get", "/v1/households/me", "The caller's household, its active members, role and welcome flag", true, json(),
     200, ref("HouseholdView"), {401, 404, 429}},
    {"post", "/v1/households/join", "Ask to join a household by invite code: a pending join request", true,
     object_schema({{"inviteCode", {{"type", "string"}}}}, {"inviteCode"}), 201, ref("JoinResult"),
     {400, 401, 404, 409, 410, 413, 415, 429}},
    {"get", "/v1/households/{householdId}", "A household the caller belongs to (member)", true, json(), 200,
     ref("HouseholdView"), {401, 404, 429}},
    {"patch", "/v1/households/{householdId}", "Rename or re-describe the household (leader; at least one field)",
     true,
     [] {
       auto s = object_schema({{"name", {{"type", "string"}}}, {"description", {{"type", {"string", "null"}}}}});
       s["anyOf"] = json::array({{{"required", {"name"}}}, {{"required", {"description"}}}});
       return s;
     }(),
     200, object_schema({{"household", ref("Household")}}, {"household"}), {400, 401, 403, 404, 413, 415, 429}},
    {"post", "/v1/households/{householdId}/invite-code",
     "Regenerate the invite code; the old one is retired at once (leader; body optional)", true,
     object_schema({{"expiresInDays", {{"type", {"integer", "null"}}, {"enum", {7, 30, 90, nullptr}}}}}), 200,
     object_schema({{"inviteCode", {{"type", "string"}}},
                    {"inviteCodeExpiresAt", {{"type", {"string", "null"}}, {"format", "date-time"}}}},
                   {"inviteCode", "inviteCodeExpiresAt"}),
     {400, 401, 403, 404, 413, 415, 429}, true},
    {"post", "/v1/households/{householdId}/welcome-ack", "Clear the welcome flag for good (member; body optional)",
     true, json(), 204, json(), {400, 401, 404, 413, 415, 429}},
    {"delete", "/v1/households/{householdId}/members/{userId}", "Remove a member (leader; never themself)", true,
     json(), 204, json(), {401, 403, 404, 429}},
    {"post", "/v1/households/{householdId}/leave",
     "Leave the household; a leader hands over to successorId or the longest-standing permanent member, the last "
     "member deactivates it (member; body optional)",
     true, object_schema({{"successorId", {{"type", "string"}, {"format", "uuid"}}}}), 200, ref("LeaveResult"),
     {400, 401, 404, 409, 413, 415, 429}, true},
    {"post", "/v1/households/{householdId}/leadership", "Hand leadership to another permanent member (leader)", true,
     object_schema({{"newLeaderId", {{"type", "string"}, {"format", "uuid"}}}}, {"newLeaderId"}), 200,
     ref("LeadershipResult"), {400, 401, 403, 404, 413, 415, 429}},
    {"post", "/v1/households/{householdId}/members/{userId}/extend",
     "Set a new end of temporary access, future and at most 365 days ahead; reactivates an expired one (leader)",
     true, object_schema({{"temporaryExpiresAt", {{"type", "string"}, {"format", "date-time"}}}}, {"temporaryExpiresAt"}),
     200, object_schema({{"member", ref("Member")}}, {"member"}), {400, 401, 403, 404, 409, 413, 415, 429}},
    {"post", "/v1/join-requests/{requestId}/approve",
     "Approve a pending request, optionally as temporary access (leader of its household; body optional)", true,
     object_schema({{"isTemporary", {{"type", "boolean"}}},
                    {"temporaryExpiresAt", {{"type", "string"}, {"format", "date-time"}}}}),
     200, object_schema({{"member", ref("Member")}}, {"member"}), {400, 401, 403, 404, 409, 413, 415, 429}, true},
    {"post", "/v1/join-requests/{requestId}/reject", "Reject a pending request (leader of its household; body optional)",
     true, json(), 200, object_schema({{"joinRequest", ref("JoinRequest")}}, {"joinRequest"}),
     {400, 401, 403, 404, 409, 413, 415, 429}},
    {"post", "/v1/join-requests/{requestId}/withdraw", "Withdraw one's own pending request (requester; body optional)",
     true, json(), 200, object_schema({{"joinRequest", ref("JoinRequest")}}, {"joinRequest"}),
     {400, 401, 404, 409, 413, 415, 429}},
    // Lists, notifications and the audit log (SPEC §4.4); lists take ?limit=1..100 and ?cursor.
    {"get", "/v1/households/{householdId}/members",
     "Members, by joinedAt then userId (member; ?status=active|expired, expired: leader only)", true, json(), 200,
     object_schema({{"members", {{"type", "array"}, {"items", object_schema(
                       {{"userId", {{"type", "string"}, {"format", "uuid"}}}, {"displayName", {{"type", "string"}}},
                        {"role", {{"type", "string"}, {"enum", {"leader", "member"}}}},
                        {"isTemporary", {{"type", "boolean"}}},
                        {"temporaryExpiresAt", {{"type", {"string", "null"}}, {"format", "date-time"}}},
                        {"joinedAt", {{"type", "string"}, {"format", "date-time"}}},
                        {"invitedBy", {{"type", {"string", "null"}}, {"format", "uuid"}}},
                        {"status", {{"type", "string"}, {"enum", {"active", "expired"}}}},
                        {"endedAt", {{"type", {"string", "null"}}, {"format", "date-time"}}}})}}},
                    {"nextCursor", {{"type", {"string", "null"}}}}},
                   {"members", "nextCursor"}),
     {400, 401, 403, 404, 429}},
    {"get", "/v1/me/join-requests",
     "The caller's join requests, newest first (?status=pending|approved|rejected|withdrawn|all, default all)", true,
     json(), 200,
     object_schema({{"joinRequests", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                    {"nextCursor", {{"type", {"string", "null"}}}}},
                   {"joinRequests", "nextCursor"}),
     {400, 401, 429}},
    {"get", "/v1/households/{householdId}/join-requests",
     "Join requests of the household, oldest first (leader; ?status=...|all, default pending)", true, json(), 200,
     object_schema({{"joinRequests", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                    {"nextCursor", {{"type", {"string", "null"}}}}},
                   {"joinRequests", "nextCursor"}),
     {400, 401, 403, 404, 429}},
    {"get", "/v1/notifications", "The caller's notifications, newest first (?unreadOnly=true|false)", true, json(),
     200,
     object_schema({{"notifications", {{"type", "array"}, {"items", object_schema(
                       {{"id", {{"type", "string"}, {"format", "uuid"}}}, {"type", {{"type", "string"}}},
                        {"title", {{"type", "string"}}}, {"body", {{"type", "string"}}},
                        {"data", {{"type", "object"}}}, {"createdAt", {{"type", "string"}, {"format", "date-time"}}},
                        {"readAt", {{"type", {"string", "null"}}, {"format", "date-time"}}}})}}},
                    {"nextCursor", {{"type", {"string", "null"}}}},
                    {"unreadCount", {{"type", "integer"}}}},
                   {"notifications", "nextCursor", "unreadCount"}),
     {400, 401, 429}},
    {"post", "/v1/notifications/{notificationId}/read", "Mark one notification read (idempotent; body optional)",
     true, json(), 200, object_schema({{"notification", {{"type", "object"}}}}, {"notification"}),
     {400, 401, 404, 413, 415, 429}},
    {"post", "/v1/notifications/read-all", "Mark all notifications read (body optional)", true, json(), 200,
     object_schema({{"updated", {{"type", "integer"}}}}, {"updated"}), {400, 401, 413, 415, 429}},
    {"get", "/v1/households/{householdId}/audit-log", "Audit log of the household, newest first (leader)", true,
     json(), 200,
     object_schema({{"entries", {{"type", "array"}, {"items", object_schema(
                       {{"id", {{"type", "string"}, {"format", "uuid"}}}, {"action", {{"type", "string"}}},
                        {"actorUserId", {{"type", {"string", "null"}}, {"format", "uuid"}}},
                        {"targetUserId", {{"type", {"string", "null"}}, {"format", "uuid"}}},
                        {"subjectId", {{"type", {"string", "null"}}, {"format", "uuid"}}},
                        {"metadata", {{"type", "object"}}}, {"requestId", {{"type", "string"}}},
                        {"createdAt", {{"type", "string"}, {"format", "date-time"}}}})}}},
                    {"nextCursor", {{"type", {"string", "null"}}}}},
                   {"entries", "nextCursor"}),
     {400, 401, 403, 404, 429}},
    // QR code and email invites (SPEC §3.8, §4.4).
    {"get", "/v1/households/{householdId}/qr-code",
     "QR code of the join link (leader; ?size=200..1000, ?format=png|data-url)", true, json(), 200,
     object_schema({{"inviteCode", {{"type", "string"}}}, {"inviteCodeExpiresAt", {{"type", {"string", "null"}}}},
                    {"joinUrl", {{"type", "string"}}}, {"caption", {{"type", "string"}}},
                    {"qrCodeDataUrl", {{"type", "string"}}}}),
     {400, 401, 403, 404, 409, 429}},
    {"post", "/v1/households/{householdId}/email-invites", "Invite someone by email (leader)", true,
     object_schema({{"email", {{"type", "string"}}}, {"personalMessage", {{"type", {"string", "null"}}, {"maxLength", 500}}}},
                   {"email"}),
     201, object_schema({{"emailInvite", ref("EmailInvite")}}, {"emailInvite"}), {400, 401, 403, 404, 409, 413, 415, 429}},
    {"get", "/v1/households/{householdId}/email-invites", "Email invites of the household, newest first (leader)",
     true, json(), 200,
     object_schema({{"emailInvites", {{"type", "array"}, {"items", ref("EmailInvite")}}},
                    {"nextCursor", {{"type", {"string", "null"}}}}},
                   {"emailInvites", "nextCursor"}),
     {400, 401, 403, 404, 429}},
    {"delete", "/v1/households/{householdId}/email-invites/{inviteId}", "Revoke a pending email invite (leader)",
     true, json(), 204, json(), {401, 403, 404, 409, 429}},
    {"post", "/v1/email-invites/preview", "What an email invite offers", true,
     object_schema({{"token", {{"type", "string"}}}}, {"token"}), 200,
     object_schema({{"household", object_schema({{"name", {{"type", "string"}}},
                                                 {"description", {{"type", {"string", "null"}}}},
                                                 {"memberCount", {{"type", "integer"}}}})},
                    {"invitedBy", object_schema({{"displayName", {{"type", "string"}}}})},
                    {"expiresAt", {{"type", "string"}, {"format", "date-time"}}}}),
     {400, 401, 404, 410, 413, 415, 429}},
    {"post", "/v1/email-invites/accept", "Accept an email invite: a pending join request", true,
     object_schema({{"token", {{"type", "string"}}}}, {"token"}), 201, ref("JoinResult"),
     {400, 401, 404, 409, 410, 413, 415, 429}},
    // Live events (SPEC §4.5): frames `id: <cursor>`, `event: notification|household`, `data: <one-line JSON>`.
    {"get", "/v1/events",
     "Server-Sent Events of the caller's notifications and household changes (Accept: text/event-stream; "
     "Last-Event-ID replays notifications; the token may come as ?access_token= for EventSource)",
     true, json(), 200,
     {{"type", "string"},
      {"description", "notification: a Notification; household: {householdId, change, version, at}; "
                      "a `: ping` comment every 15 s"}},
     {401, 429}, false, "text/event-stream", true},
    // Webhooks (SPEC §4.5). Each delivery is a POST of {id, event, householdId, occurredAt, data} with
    // X-Household-Event, X-Household-Delivery and X-Household-Signature: t=<unix>,v1=<hex HMAC-SHA-256
    // keyed with the secret string over "<t>.<body>">.
    {"post", "/v1/households/{householdId}/webhooks",
     "Register a webhook (leader; at most 5 active; the signing secret is shown only here)", true,
     object_schema({{"url", {{"type", "string"}, {"format", "uri"}, {"maxLength", 2048}}},
                    {"events", {{"type", "array"}, {"minItems", 1}, {"uniqueItems", true}, {"items", ref("WebhookEvent")}}}},
                   {"url", "events"}),
     201, object_schema({{"webhook", ref("Webhook")}, {"secret", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]{43}$"}}}},
                        {"webhook", "secret"}),
     {400, 401, 403, 404, 409, 413, 415, 429}},
    {"get", "/v1/households/{householdId}/webhooks", "Active webhooks of the household (leader)", true, json(), 200,
     object_schema({{"webhooks", {{"type", "array"}, {"items", ref("Webhook")}}}}, {"webhooks"}),
     {401, 403, 404, 429}},
    {"delete", "/v1/households/{householdId}/webhooks/{webhookId}",
     "Delete a webhook: nothing more is delivered to it (leader)", true, json(), 204, json(), {401, 403, 404, 429}},
    {"get", "/v1/households/{householdId}/webhooks/{webhookId}/deliveries",
     "Deliveries of a webhook, newest first (leader; ?limit, ?cursor)", true, json(), 200,
     object_schema({{"deliveries", {{"type", "array"}, {"items", ref("WebhookDelivery")}}},
                    {"nextCursor", {{"type", {"string", "null"}}}}},
                   {"deliveries", "nextCursor"}),
     {400, 401, 403, 404, 429}},
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
    if (op.query_token)
      o["security"].push_back({{"accessTokenQuery", json::array()}});
    if (!op.body.is_null())
      o["requestBody"] = {{"required", !op.body_optional},
                          {"content", {{"application/json", {{"schema", op.body}}}}}};
    o["responses"][std::to_string(op.status)] = ok_response("Success", op.result, op.media);
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
    // SPEC §4.5: every POST and PATCH under /v1 (but the event stream) takes an Idempotency-Key.
    std::string method = op.method;
    if (method == "post" || method == "patch") {
      params.push_back({{"name", "Idempotency-Key"},
                        {"in", "header"},
                        {"required", false},
                        {"description", "1-255 visible ASCII characters; the first answer is replayed for 24 h"},
                        {"schema", {{"type", "string"}, {"pattern", "^[!-~]{1,255}$"}}}});
      o["responses"]["409"] = error_response(o["responses"].contains("409")
                                               ? std::string{describe(409)} + "; or the Idempotency-Key is in use"
                                               : "The Idempotency-Key is in use (Retry-After: 1)");
      o["responses"]["422"] = error_response("The Idempotency-Key was used for a different request");
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
             {"securitySchemes",
              {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}},
               {"accessTokenQuery", {{"type", "apiKey"}, {"in", "query"}, {"name", "access_token"}}}}}}}};
  return doc.dump();
}

} // namespace petcare::http
