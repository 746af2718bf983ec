#!/usr/bin/env python3
"""Sequential request latency on one keep-alive connection (python3 stdlib).
Usage: latency.py PORT PATH N [TOKEN]  -> prints "PATH n=N status=S mean=… p50=… p99=… (µs)"."""
import http.client, sys, time

import benchlib as bl

port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = {"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 and sys.argv[4] else {}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
lat, statuses = [], set()
for i in range(n + n // 10):  # the first tenth warms up
    t = time.perf_counter()
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    r.read()
    if i >= n // 10:
        lat.append((time.perf_counter() - t) * 1e6)
        statuses.add(r.status)
print(f"{path:28s} n={n} status={sorted(statuses)} mean={sum(lat) / len(lat):.0f} "
      f"p50={bl.percentile(lat, 50):.0f} p99={bl.percentile(lat, 99):.0f} (µs)")
