#!/usr/bin/env python3
"""Summarises segments.csv and samples.csv of a soak run (tests/bench/soak)."""
import csv, sys
d = sys.argv[1]
seg = list(csv.DictReader(open(f"{d}/segments.csv")))
smp = [r for r in csv.DictReader(open(f"{d}/samples.csv")) if r["rss_mib"]]
req = sum(int(r["requests"]) for r in seg)
errs = sum(int(r[k]) for r in seg for k in ("err_connect", "err_read", "err_write", "err_timeout"))
non2xx = sum(int(r["non2xx"]) for r in seg)
s5xx = sum(int(r["s5xx"]) for r in seg)
p99 = [float(r["p99_ms"]) for r in seg]
rss = [int(r["rss_mib"]) for r in smp]
thr = [int(r["threads"]) for r in smp]
mb = [int(float(r["mailbox_max"])) for r in smp]
dur = float(seg[-1]["t_end_s"]) if seg else 0
print(f"segments: {len(seg)} over {dur:.0f} s; requests {req:,} ({req / max(dur, 1):.0f} req/s)")
print(f"errors: socket {errs:,}, non-2xx {non2xx:,} ({100.0 * (non2xx + errs) / max(req, 1):.3f} % incl. socket), "
      f"5xx {s5xx:,} ({100.0 * s5xx / max(req, 1):.3f} %)")
print(f"p99 per segment (ms): first {p99[0]:.1f}, last {p99[-1]:.1f}, min {min(p99):.1f}, "
      f"median {sorted(p99)[len(p99) // 2]:.1f}, max {max(p99):.1f}")
print(f"p50 per segment (ms): " + " ".join(r["p50_ms"] for r in seg))
print(f"RSS (MiB): first {rss[0]}, after 60 s {rss[min(12, len(rss) - 1)]}, last {rss[-1]}, max {max(rss)}; "
      f"threads min {min(thr)} max {max(thr)}; max mailbox depth {max(mb)} "
      f"(samples every 5 s: {len(smp)})")
third = len(rss) // 3
if third:
    a, b = sum(rss[third:2 * third]) / third, sum(rss[2 * third:]) / len(rss[2 * third:])
    print(f"RSS mean of middle third {a:.0f} MiB, last third {b:.0f} MiB (drift {b - a:+.0f} MiB)")
