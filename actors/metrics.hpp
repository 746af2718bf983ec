#pragma once
/// Process-wide Prometheus registry: counters, gauges and histograms with labels.
/// Thread-safe; updates take one short lock.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace petcare::actors {

using label_set = std::vector<std::pair<std::string, std::string>>;

class metrics {
public:
  /// The one registry of this process.
  static metrics& instance();

  void inc(const std::string& family, const label_set& labels = {}, double by = 1);
  void set(const std::string& family, const label_set& labels, double value);
  /// Records `seconds` into the SPEC §5 latency buckets.
  void observe(const std::string& family, const label_set& labels, double seconds);
  /// Current value of a counter or gauge (0 when never touched); for tests and health.
  double value(const std::string& family, const label_set& labels = {}) const;

  /// The text exposition format, families sorted by name.
  std::string render() const;

private:
  enum class kind { counter, gauge, histogram };
  struct histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  struct family {
    kind type = kind::counter;
    std::map<std::string, double> values;        ///< rendered labels → value
    std::map<std::string, histogram> histograms; ///< rendered labels → histogram
  };
  family& family_of(const std::string& name, kind type);

  mutable std::mutex mtx_;
  std::map<std::string, family> families_;
};

} // namespace petcare::actors
