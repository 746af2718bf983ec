#!/usr/bin/env python3
"""Steady mixed load at a fixed rate against the household service (stdlib only).

    deploy/local/loadgen.py --url http://127.0.0.1:PORT --rate 200 --duration 60

Setup (through the same URL): registers --leaders users who each create a
household and enough joiner users for the run's join requests (5 per user per
hour, SPEC §3.9). Then an open-loop scheduler issues --rate requests per second,
evenly spaced, to a pool of worker threads:

    GET  /v1/households/me          leader              200   (40 %)
    GET  /v1/me                     any user            200   (15 %)
    GET  /v1/notifications?limit=5  any user            200   (10 %)
    PATCH /v1/households/{hid}      leader              200   (12 %)
    POST /v1/notifications/read-all any user            200   ( 5 %)
    POST /v1/households/join        joiner, leader code 201   ( 8 %)
    POST /v1/join-requests/{r}/reject  leader of r      200   ( 8 %, else a read)
    POST /v1/auth/login             any user            200   ( 2 %)

Every response whose status differs from the expected one, and every
connection error or timeout, is a failure: each is printed (time, operation,
status, error code, X-Request-Id) and the exit status is 1 if there was any.
A progress line is printed every --report seconds. The service must run with
raised rate limits (RATE_LIMIT_MAX_REQUESTS, AUTH_RATE_LIMIT_MAX_REQUESTS,
CODE_LOOKUP_RATE_LIMIT_MAX) and, to keep register/login cheap,
PASSWORD_HASH_OPSLIMIT=1 PASSWORD_HASH_MEMLIMIT_KIB=8192.
"""
import argparse
import collections
import http.client
import json
import os
import queue
import random
import sys
import threading
import time
import urllib.parse

PASSWORD = "load-test-password-1"


class Client:
    """One connection per request (independent clients), or with keepalive
    one reused connection per worker thread."""

    def __init__(self, host, port, timeout, keepalive=False):
        self.host, self.port, self.timeout, self.keepalive = host, port, timeout, keepalive
        self.conn = None

    def request(self, method, path, body=None, token=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            if resp.will_close or not self.keepalive:
                self.conn.close()
                self.conn = None
        except Exception:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        return resp.status, payload, resp.getheader("X-Request-Id", "-")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.window = []
        self.by_op = collections.defaultdict(collections.Counter)
        self.sent = 0
        self.failed = 0
        self.late = 0
        self.failures = []

    def record(self, op, status, ok, latency):
        with self.lock:
            self.sent += 1
            self.latencies.append(latency)
            self.window.append(latency)
            self.by_op[op][status] += 1
            if not ok:
                self.failed += 1


def pct(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--leaders", type=int, default=40)
    ap.add_argument("--joiners", type=int, default=0,
                    help="joiner users (default: enough for --duration; joins turn into reads when used up)")
    ap.add_argument("--threads", type=int, default=48)
    ap.add_argument("--timeout", type=float, default=15.0, help="per request, seconds")
    ap.add_argument("--report", type=float, default=5.0, help="progress line every N seconds")
    ap.add_argument("--stop-file", help="end the run early once this file exists")
    ap.add_argument("--keepalive", action="store_true",
                    help="reuse one connection per worker (an nginx reload then closes idle ones, "
                         "which this client does not retry)")
    args = ap.parse_args()

    u = urllib.parse.urlparse(args.url)
    host, port = u.hostname, u.port or 80
    run = "%x" % random.getrandbits(40)
    weights = [("household_me", 40), ("me", 15), ("notifications", 10), ("patch_household", 12),
               ("read_all", 5), ("join", 8), ("reject", 8), ("login", 2)]
    join_share = 8 / sum(w for _, w in weights)
    joins_needed = int(args.rate * args.duration * join_share * 1.2) + 10
    n_joiners = args.joiners or joins_needed // 4 + 10

    # ---------------------------------------------------------------- setup
    setup_client = Client(host, port, args.timeout)
    t_setup = time.monotonic()

    def register(kind, i):
        email = "%s-%s-%d@load.invalid" % (kind, run, i)
        st, body, rid = setup_client.request("POST", "/v1/auth/register",
                                             {"email": email, "password": PASSWORD,
                                              "displayName": "%s %d" % (kind, i)})
        if st != 201:
            sys.exit("setup: register %s -> %s %s (request %s)" % (email, st, body, rid))
        return {"email": email, "token": body["accessToken"], "id": body["user"]["id"]}

    leaders = []
    for i in range(args.leaders):
        user = register("leader", i)
        st, body, rid = setup_client.request("POST", "/v1/households", {"name": "Load %s %d" % (run, i)},
                                             user["token"])
        if st != 201:
            sys.exit("setup: create household -> %s %s (request %s)" % (st, body, rid))
        h = body["household"]
        user.update(hid=h["id"], code=h["inviteCode"], lock=threading.Lock())
        leaders.append(user)
    joiners = [register("joiner", i) for i in range(n_joiners)]
    for j in joiners:
        j["joins"] = 0
    print("setup: %d leaders with households, %d joiners in %.1f s (run %s)"
          % (len(leaders), len(joiners), time.monotonic() - t_setup, run), flush=True)

    everyone = leaders + joiners
    state_lock = threading.Lock()
    free_joiners = collections.deque(joiners)   # not holding a pending request
    pending = collections.deque()               # (leader, request id, joiner)

    stats = Stats()
    ticks = queue.Queue()
    start = time.monotonic()

    def fail(op, status, body, rid, note=""):
        code = ""
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code", "")
        line = "FAIL t=%.3fs op=%s status=%s code=%s request=%s %s" % (
            time.monotonic() - start, op, status, code, rid, note)
        with stats.lock:
            stats.failures.append(line)
        print(line, flush=True)

    def pick_op():
        r = random.uniform(0, sum(w for _, w in weights))
        for name, w in weights:
            r -= w
            if r <= 0:
                return name
        return weights[0][0]

    def do_one(client, op):
        leader = random.choice(leaders)
        user = random.choice(everyone)
        expected = 200
        if op == "household_me":
            call = ("GET", "/v1/households/me", None, leader["token"])
        elif op == "me":
            call = ("GET", "/v1/me", None, user["token"])
        elif op == "notifications":
            call = ("GET", "/v1/notifications?limit=5", None, user["token"])
        elif op == "patch_household":
            call = ("PATCH", "/v1/households/" + leader["hid"],
                    {"description": "load %s %d" % (run, random.getrandbits(30))}, leader["token"])
        elif op == "read_all":
            call = ("POST", "/v1/notifications/read-all", None, user["token"])
        elif op == "login":
            call = ("POST", "/v1/auth/login", {"email": user["email"], "password": PASSWORD}, None)
        elif op == "join":
            with state_lock:
                joiner = None
                for _ in range(len(free_joiners)):
                    cand = free_joiners.popleft()
                    if cand["joins"] < 5:
                        joiner = cand
                        break
            if joiner is None:
                op, call = "household_me", ("GET", "/v1/households/me", None, leader["token"])
            else:
                joiner["joins"] += 1
                expected = 201
                call = ("POST", "/v1/households/join", {"inviteCode": leader["code"]}, joiner["token"])
        elif op == "reject":
            with state_lock:
                item = pending.popleft() if pending else None
            if item is None:
                op, call = "household_me", ("GET", "/v1/households/me", None, leader["token"])
            else:
                leader, req_id, joiner = item
                call = ("POST", "/v1/join-requests/%s/reject" % req_id, None, leader["token"])
        t0 = time.monotonic()
        try:
            status, body, rid = client.request(*call)
        except Exception as e:  # connection refused/reset, timeout: a failure too
            stats.record(op, "error", False, time.monotonic() - t0)
            fail(op, "error", None, "-", "%s %s: %r" % (call[0], call[1], e))
            return
        ok = status == expected
        stats.record(op, status, ok, time.monotonic() - t0)
        if not ok:
            fail(op, status, body, rid, "%s %s" % (call[0], call[1]))
        if op == "join":
            with state_lock:
                if ok:
                    pending.append((leader, body["joinRequest"]["id"], joiner))
                else:
                    free_joiners.append(joiner)
        elif op == "reject":
            with state_lock:
                if ok:
                    free_joiners.append(joiner)
                else:
                    pending.append((leader, req_id, joiner))

    def worker():
        client = Client(host, port, args.timeout, args.keepalive)
        while True:
            t = ticks.get()
            if t is None:
                return
            if time.monotonic() - t > 1.0:
                with stats.lock:
                    stats.late += 1
            do_one(client, pick_op())

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()

    # ------------------------------------------------------------ schedule
    interval = 1.0 / args.rate
    n = 0
    next_report = start + args.report
    last_sent = 0
    while True:
        now = time.monotonic()
        if now - start >= args.duration or (args.stop_file and os.path.exists(args.stop_file)):
            break
        due = start + n * interval
        if due > now:
            time.sleep(min(due - now, 0.05))
            continue
        ticks.put(due)
        n += 1
        if now >= next_report:
            with stats.lock:
                w, stats.window = stats.window, []
                sent, failed, late = stats.sent, stats.failed, stats.late
            print("t=%5.1fs sent=%d (%.0f/s) failed=%d late=%d p50=%.1fms p99=%.1fms queue=%d"
                  % (now - start, sent, (sent - last_sent) / args.report, failed, late,
                     pct(w, 50) * 1000, pct(w, 99) * 1000, ticks.qsize()), flush=True)
            last_sent = sent
            next_report += args.report
    scheduled = n
    for _ in threads:
        ticks.put(None)
    for t in threads:
        t.join(args.timeout + 5)
    wall = time.monotonic() - start

    # --------------------------------------------------------------- report
    lat = stats.latencies
    print("summary: scheduled=%d completed=%d failed=%d late(>1s queued)=%d wall=%.1fs "
          "achieved=%.1f req/s p50=%.1fms p95=%.1fms p99=%.1fms max=%.1fms"
          % (scheduled, stats.sent, stats.failed, stats.late, wall, stats.sent / wall,
             pct(lat, 50) * 1000, pct(lat, 95) * 1000, pct(lat, 99) * 1000, (max(lat) if lat else 0) * 1000))
    for op in sorted(stats.by_op):
        print("  %-16s %s" % (op, dict(sorted(stats.by_op[op].items(), key=lambda kv: str(kv[0])))))
    if stats.sent < scheduled:
        print("incomplete: %d scheduled requests did not finish" % (scheduled - stats.sent))
    return 1 if stats.failed or stats.sent < scheduled else 0


if __name__ == "__main__":
    sys.exit(main())
