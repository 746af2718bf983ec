#include "actors/metrics.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <sstream>

namespace petcare::actors {

namespace {

constexpr std::array<double, 11> buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string render_labels(const label_set& labels) {
  if (labels.empty())
    return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0)
      out += ',';
    out += labels[i].first + "=\"" + escape(labels[i].second) + '"';
  }
  return out + '}';
}

/// The shortest text that reads back as `v` (so bucket bounds print as 0.005).
std::string number(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v && std::string_view{buf}.find('e') == std::string_view::npos)
      break;
  }
  return buf;
}

/// `{a="b"}` + `le="0.5"` → `{a="b",le="0.5"}`.
std::string with_le(const std::string& labels, const std::string& le) {
  auto extra = "le=\"" + le + '"';
  if (labels.empty())
    return '{' + extra + '}';
  return labels.substr(0, labels.size() - 1) + ',' + extra + '}';
}

} // namespace

metrics& metrics::instance() {
  static metrics m;
  return m;
}

metrics::family& metrics::family_of(const std::string& name, kind type) {
  auto& f = families_[name];
  f.type = type;
  return f;
}

void metrics::inc(const std::string& name, const label_set& labels, double by) {
  std::lock_guard<std::mutex> guard{mtx_};
  family_of(name, kind::counter).values[render_labels(labels)] += by;
}

void metrics::set(const std::string& name, const label_set& labels, double value) {
  std::lock_guard<std::mutex> guard{mtx_};
  family_of(name, kind::gauge).values[render_labels(labels)] = value;
}

void metrics::observe(const std::string& name, const label_set& labels, double seconds) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& h = family_of(name, kind::histogram).histograms[render_labels(labels)];
  if (h.buckets.empty())
    h.buckets.resize(buckets.size(), 0);
  for (size_t i = 0; i < buckets.size(); ++i)
    if (seconds <= buckets[i])
      ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

double metrics::value(const std::string& name, const label_set& labels) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto f = families_.find(name);
  if (f == families_.end())
    return 0;
  auto v = f->second.values.find(render_labels(labels));
  return v == f->second.values.end() ? 0 : v->second;
}

std::string metrics::render() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == kind::counter ? "counter"
                       : f.type == kind::gauge ? "gauge"
                                               : "histogram";
    out << "# TYPE " << name << ' ' << type << '\n';
    for (const auto& [labels, v] : f.values)
      out << name << labels << ' ' << number(v) << '\n';
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < buckets.size(); ++i)
        out << name << "_bucket" << with_le(labels, number(buckets[i])) << ' ' << h.buckets[i]
            << '\n';
      out << name << "_bucket" << with_le(labels, "+Inf") << ' ' << h.count << '\n';
      out << name << "_sum" << labels << ' ' << number(h.sum) << '\n';
      out << name << "_count" << labels << ' ' << h.count << '\n';
    }
  }
  return out.str();
}

} // namespace petcare::actors
