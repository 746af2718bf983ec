#include "actors/household_tx.hpp"

namespace petcare::actors::tx {

namespace hh = storage::households;

tx_fn update(const actor_ctx& who, const std::string& hid, hh::patch_fields p) {
  return [=](storage::database& db) { return hh::update(db, who, hid, p); };
}

tx_fn regenerate_code(const actor_ctx& who, const std::string& hid, int days) {
  auto gen = invite_code_generator();
  return [=](storage::database& db) { return hh::regenerate_code(db, who, hid, days, gen); };
}

tx_fn acknowledge_welcome(const actor_ctx& who, const std::string& hid) {
  return [=](storage::database& db) { return hh::acknowledge_welcome(db, who, hid); };
}

tx_fn remove_member(const actor_ctx& who, const std::string& hid, const std::string& user) {
  return [=](storage::database& db) { return hh::remove_member(db, who, hid, user); };
}

tx_fn leave(const actor_ctx& who, const std::string& hid, const std::string& successor, bool given) {
  return [=](storage::database& db) { return hh::leave(db, who, hid, successor, given); };
}

tx_fn transfer(const actor_ctx& who, const std::string& hid, const std::string& next) {
  return [=](storage::database& db) { return hh::transfer(db, who, hid, next); };
}

tx_fn extend(const actor_ctx& who, const std::string& hid, const std::string& user, int64_t until_ms,
             const std::string& validation_error) {
  return [=](storage::database& db) { return hh::extend(db, who, hid, user, until_ms, validation_error); };
}

request_tx approve(const actor_ctx& who, const std::string& rid, hh::approval a) {
  return [=](const std::string& hid) -> tx_fn {
    return [=](storage::database& db) { return hh::approve(db, who, hid, rid, a); };
  };
}

request_tx reject(const actor_ctx& who, const std::string& rid) {
  return [=](const std::string& hid) -> tx_fn {
    return [=](storage::database& db) { return hh::reject(db, who, hid, rid); };
  };
}

request_tx withdraw(const actor_ctx& who, const std::string& rid) {
  return [=](const std::string& hid) -> tx_fn {
    return [=](storage::database& db) { return hh::withdraw(db, who, hid, rid); };
  };
}

} // namespace petcare::actors::tx
