#include "actors/telemetry.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"

namespace petcare::actors {

namespace {

std::atomic<int> cpu_pct{0};
std::atomic<int> mem_pct{0};
std::atomic<int64_t> rss{0};
std::atomic<double> cpu_total{0};

const int64_t started_at = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();

double read_cpu_seconds() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) { // fields 14 and 15 are utime, stime
    if (i == 14)
      utime = std::stod(f);
    if (i == 15)
      stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t read_rss() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t memory_limit() {
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(path);
    std::string v;
    if (in >> v && v != "max") {
      try {
        auto n = std::stoll(v);
        if (n > 0 && n < (int64_t{1} << 60))
          return n;
      } catch (...) {
      }
    }
  }
  return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

void sample(std::deque<double>& window) {
  auto cpu = read_cpu_seconds();
  window.push_back(cpu);
  while (window.size() > 11)
    window.pop_front();
  auto cpus = std::max(1u, std::thread::hardware_concurrency());
  if (window.size() > 1) {
    double used = window.back() - window.front();
    double span = static_cast<double>(window.size() - 1);
    cpu_pct = std::min(100, static_cast<int>(used / (span * cpus) * 100.0 + 0.5));
  }
  rss = read_rss();
  cpu_total = cpu;
  mem_pct = std::min<int>(100, static_cast<int>(rss.load() * 100 / std::max<int64_t>(1, memory_limit())));
  auto& m = metrics::instance();
  m.set("process_resident_memory_bytes", {}, static_cast<double>(rss.load()));
  m.set("process_cpu_seconds_total", {}, cpu);
  m.set("process_start_time_seconds", {}, static_cast<double>(started_at));
}

} // namespace

caf::behavior telemetry(caf::stateful_actor<telemetry_state>* self) {
  auto window = std::make_shared<std::deque<double>>();
  sample(*window);
  self->delayed_send(self, std::chrono::seconds{1}, atom::tick_v);
  return {
    [=](atom::tick) {
      sample(*window);
      self->delayed_send(self, std::chrono::seconds{1}, atom::tick_v);
    },
    [](atom::heartbeat) { return true; },
  };
}

int cpu_percent() { return cpu_pct.load(); }
int memory_percent() { return mem_pct.load(); }
int64_t resident_bytes() { return rss.load(); }
double cpu_seconds() { return cpu_total.load(); }
int64_t process_start_unix() { return started_at; }

} // namespace petcare::actors
