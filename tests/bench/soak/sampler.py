#!/usr/bin/env python3
"""Samples a service process every INTERVAL seconds until DURATION passed:
RSS and threads from /proc/PID/status, and from /metrics the mailbox depths
(actor_mailbox_depth{subsystem}), household_actors_active,
http_requests_in_flight and db pool gauges. CSV on stdout.

  sampler.py PID BASE_URL INTERVAL DURATION > samples.csv"""
import http.client, sys, time, urllib.parse

pid, base, interval, duration = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
u = urllib.parse.urlsplit(base)

def status():
    d = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        d[k] = v.strip()
    return int(d["VmRSS"].split()[0]) // 1024, int(d["Threads"])

def metrics():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out, depth = {}, {}
    for line in text.split("\n"):
        if line.startswith("actor_mailbox_depth{"):
            sub = line.split('subsystem="', 1)[1].split('"', 1)[0]
            depth[sub] = float(line.rsplit(" ", 1)[1])
        for name in ("household_actors_active", "http_requests_in_flight", "db_pool_acquire_timeouts_total"):
            if line.startswith(name + " "):
                out[name] = float(line.rsplit(" ", 1)[1])
        if line.startswith('db_pool_connections{state="in_use"}'):
            out["db_in_use"] = float(line.rsplit(" ", 1)[1])
    return out, depth

start = time.time()
print("t_s,rss_mib,threads,household_actors,in_flight,db_in_use,db_acquire_timeouts,"
      "mailbox_max,mailbox_total,mailbox_by_subsystem", flush=True)
while time.time() - start < duration:
    t = time.time() - start
    try:
        rss, threads = status()
        m, depth = metrics()
        print(f"{t:.1f},{rss},{threads},{m.get('household_actors_active', 0):.0f},"
              f"{m.get('http_requests_in_flight', 0):.0f},{m.get('db_in_use', 0):.0f},"
              f"{m.get('db_pool_acquire_timeouts_total', 0):.0f},{max(depth.values(), default=0):.0f},"
              f"{sum(depth.values()):.0f},{' '.join(f'{k}={v:.0f}' for k, v in sorted(depth.items()))}",
              flush=True)
    except (OSError, ValueError, KeyError) as e:
        print(f"{t:.1f},,,,,,,,,error {type(e).__name__}", flush=True)
    time.sleep(max(0.0, interval - (time.time() - start - t)))
