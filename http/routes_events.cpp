#include <mutex>

#include "actors/accounts.hpp"
#include "actors/events.hpp"
#include "actors/messages.hpp"
#include "actors/tokens.hpp"
#include "http/route_helpers.hpp"
#include "http/routes.hpp"

namespace petcare::http {

namespace {

using chunked = restinio::response_builder_t<restinio::chunked_output_t>;

/// A stream's frames written as chunks of one response; safe from any thread.
class chunked_sink final : public actors::event_sink {
public:
  explicit chunked_sink(chunked r) : resp_(std::move(r)) {}
  ~chunked_sink() override { close(); }

  bool send(const std::string& frame) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_ || dead_->load())
      return false;
    resp_.append_chunk(frame);
    resp_.flush([dead = dead_](const asio::error_code& ec) {
      if (ec)
        dead->store(true);
    });
    return true;
  }

  void close() override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return;
    closed_ = true;
    try {
      resp_.done();
    } catch (const std::exception&) {
      // the connection is already gone
    }
  }

private:
  std::mutex mtx_;
  chunked resp_;
  bool closed_ = false;
  std::shared_ptr<std::atomic<bool>> dead_ = std::make_shared<std::atomic<bool>>(false);
};

/// The bearer token, or for browsers' EventSource the `access_token` query parameter.
std::string token_of(const call& c) {
  auto h = c.req->header().opt_value_of(restinio::http_field::authorization);
  if (h) {
    std::string v{*h};
    if (v.size() > 7 && (v.rfind("Bearer ", 0) == 0 || v.rfind("bearer ", 0) == 0))
      return v.substr(7);
    return {};
  }
  try {
    auto q = restinio::parse_query(c.req->header().query());
    if (q.has("access_token"))
      return std::string{q["access_token"]};
  } catch (const std::exception&) {
  }
  return {};
}

void events(const call_ptr& c, caf::event_based_actor* self) {
  auto token = token_of(*c);
  if (token.empty())
    return reject_auth(c, actors::make_error(actors::errc::auth_required));
  actors::authenticate(self, c->rt, token, [c, token](caf::expected<actors::caller> who) {
    if (!who) {
      if (who.error().category() == actors::errc_category)
        return reject_auth(c, who.error());
      return c->fail(who.error());
    }
    c->user_id = who->user_id;
    auto hub = c->rt->lookup(actors::names::events);
    if (!hub)
      return c->fail(problem_for("SERVICE_UNAVAILABLE"));
    auto claims = actors::verify_access_token(c->rt->cfg.jwt_secret, token, actors::now_ms() / 1000);
    std::string last_id;
    if (auto h = c->req->header().opt_value_of("Last-Event-ID"))
      last_id = std::string{*h};
    if (!c->take_over())
      return;
    auto resp = c->req->create_response<restinio::chunked_output_t>();
    for (auto& [k, v] : common_headers(*c))
      resp.append_header(k, v);
    for (auto& [k, v] : c->headers)
      resp.append_header(k, v);
    resp.append_header(restinio::http_field::content_type, "text/event-stream");
    resp.append_header("X-Accel-Buffering", "no");
    resp.flush();
    auto sink = std::make_shared<chunked_sink>(std::move(resp));
    sink->send(": connected\n\n");
    caf::anon_send(hub, atom::open_v,
                   actors::stream_request{who->user_id, who->sid, claims.claims.exp, last_id, sink});
  });
}

} // namespace

void add_event_routes(router& r) {
  // Authentication is done by the handler: the token may come in the query string.
  r.add({"GET", "/v1/events", events, false, body_rule::none});
}

} // namespace petcare::http
