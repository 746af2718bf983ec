#include "http/router.hpp"

#include <algorithm>

namespace petcare::http {

namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos)
      j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_param(const std::string& s) {
  return s.size() > 2 && s.front() == '{' && s.back() == '}';
}

/// Literal-before-parameter ordering of two matching templates.
bool more_specific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bool pa = is_param(a[i]), pb = is_param(b[i]);
    if (pa != pb)
      return !pa;
  }
  return false;
}

} // namespace

void router::add(route r) {
  auto segs = split(r.path);
  routes_.push_back({std::move(segs), std::move(r)});
}

std::vector<const route*> router::routes() const {
  std::vector<const route*> out;
  for (auto& e : routes_)
    out.push_back(&e.r);
  return out;
}

match router::find(std::string_view method, std::string_view raw_path) const {
  match out;
  // Trailing slashes and empty segments are not part of the contract's paths.
  if (raw_path.empty() || (raw_path.back() == '/' && raw_path.size() > 1)
      || raw_path.find("//") != std::string_view::npos)
    return out;
  auto segs = split(raw_path);
  const entry* best = nullptr;
  for (auto& e : routes_) {
    if (e.segments.size() != segs.size())
      continue;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i)
      ok = is_param(e.segments[i]) || e.segments[i] == segs[i];
    if (ok && (best == nullptr || more_specific(e.segments, best->segments)))
      best = &e;
  }
  if (best == nullptr)
    return out;
  out.path = best->r.path;
  std::vector<std::string> methods;
  for (auto& e : routes_) {
    if (e.r.path != best->r.path)
      continue;
    methods.push_back(e.r.method);
    if (e.r.method == method) {
      out.found = &e.r;
      for (size_t i = 0; i < segs.size(); ++i)
        if (is_param(e.segments[i]))
          out.params[e.segments[i].substr(1, e.segments[i].size() - 2)] = segs[i];
    }
  }
  if (out.found == nullptr) {
    std::sort(methods.begin(), methods.end());
    for (auto& m : methods)
      out.allow += (out.allow.empty() ? "" : ", ") + m;
  }
  return out;
}

} // namespace petcare::http
