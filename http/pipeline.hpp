#pragma once
/// The request pipeline: size limits, routing, rate limits, authentication and
/// body parsing in the order of SPEC §4.1, then the route's handler on a
/// short-lived actor. Never blocks the I/O thread and never throws.

#include <restinio/all.hpp>

#include "actors/runtime.hpp"
#include "http/router.hpp"

namespace petcare::http {

restinio::request_handling_status_t handle_request(const actors::runtime_ptr& rt,
                                                   const router& routes,
                                                   restinio::request_handle_t req);

} // namespace petcare::http
