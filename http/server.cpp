#include "http/server.hpp"

#include <restinio/all.hpp>

#include <future>
#include <thread>

#include "http/pipeline.hpp"
#include "http/routes.hpp"

namespace petcare::http {

namespace {

using traits = restinio::traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t>;
using http_server = restinio::http_server_t<traits>;

} // namespace

struct server::impl {
  actors::runtime_ptr rt;
  router routes;
  std::unique_ptr<http_server> srv;
  std::unique_ptr<restinio::on_pool_runner_t<http_server>> runner;
};

server::server(actors::runtime_ptr rt) : impl_(std::make_unique<impl>()) {
  impl_->rt = std::move(rt);
  add_operational_routes(impl_->routes);
  add_account_routes(impl_->routes);
  add_household_routes(impl_->routes);
  add_event_routes(impl_->routes);
  add_list_routes(impl_->routes);
  add_invite_routes(impl_->routes);
  add_webhook_routes(impl_->routes);
}

server::~server() {
  stop();
}

void server::start() {
  auto& cfg = impl_->rt->cfg;
  auto* self = impl_.get();
  // The parser's own limits close the connection without an answer, so they sit
  // far above the contract's (413 over HTTP_BODY_LIMIT_BYTES, 431 over 16 KiB of
  // headers, answered by the pipeline): only absurd requests are cut off.
  auto limits = restinio::incoming_http_msg_limits_t{}
                  .max_url_size(1 << 20)
                  .max_field_name_size(1 << 20)
                  .max_field_value_size(1 << 20)
                  .max_field_count(10000)
                  .max_body_size(std::max<uint64_t>(16 << 20, 16 * static_cast<uint64_t>(cfg.http_body_limit_bytes)));
  impl_->srv = std::make_unique<http_server>(
    restinio::own_io_context(), [&](auto& settings) {
      settings.port(static_cast<std::uint16_t>(cfg.port))
        .address(cfg.host)
        .incoming_http_msg_limits(limits)
        .max_pipelined_requests(16)
        .read_next_http_message_timelimit(std::chrono::seconds{60})
        .write_http_response_timelimit(std::chrono::seconds{30})
        .handle_request_timeout(std::chrono::milliseconds{cfg.request_timeout_ms + 5000})
        .request_handler([self](restinio::request_handle_t req) {
          return handle_request(self->rt, self->routes, std::move(req));
        });
    });
  auto threads = std::max(2u, std::thread::hardware_concurrency());
  impl_->runner = std::make_unique<restinio::on_pool_runner_t<http_server>>(threads, *impl_->srv);
  std::promise<void> opened;
  impl_->runner->start([&opened]() noexcept { opened.set_value(); },
                       [&opened](std::exception_ptr e) noexcept { opened.set_exception(e); });
  try {
    opened.get_future().get();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string{"cannot listen: "} + e.what());
  }
}

void server::close_listener() {
  if (!impl_->srv)
    return;
  std::promise<void> closed;
  impl_->srv->close_async([&closed] { closed.set_value(); },
                          [&closed](std::exception_ptr) { closed.set_value(); });
  closed.get_future().wait_for(std::chrono::seconds{5});
}

void server::stop() {
  if (impl_->runner && impl_->runner->started()) {
    impl_->runner->stop();
    impl_->runner->wait();
  }
  impl_->runner.reset();
}

} // namespace petcare::http
