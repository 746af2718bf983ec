#pragma once
/// The RESTinio front end: listens, routes every request through the pipeline
/// on a small I/O thread pool, and closes in the order of SPEC §8.4.

#include <memory>

#include "actors/runtime.hpp"

namespace petcare::http {

class server {
public:
  explicit server(actors::runtime_ptr rt);
  ~server();

  /// Binds and starts serving; throws std::runtime_error when the port cannot be bound.
  void start();
  /// Stops accepting new connections; open ones finish their current response.
  void close_listener();
  /// Stops the I/O threads (drops whatever is still open).
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace petcare::http
