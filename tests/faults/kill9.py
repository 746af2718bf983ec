#!/usr/bin/env python3
"""kill -9 of the service in the middle of a write burst, N cycles (issue #6).

Each cycle starts `household-service serve`, runs W concurrent clients that
each repeat a write story (register leader -> create household -> register
member -> join with the invite code -> approve -> PATCH the description),
sends SIGKILL to the service at a random moment of the burst, and records
every write that got a 2xx together with what identifies it. After each cycle
every recorded 2xx is looked up in PostgreSQL, together with the side effects
that SPEC §4.4 puts in the same transaction (leader row, audit rows,
notification), and `household-service verify` (invariants I1-I5) must pass.

Standard library only; psql must be on PATH. Loopback only; bounded in time
(--max-seconds); only the processes it started are signalled (by pid).

  tests/faults/kill9.py                       # 100 cycles, own throwaway stores
  tests/faults/kill9.py --cycles 10           # the CI-sized run
  DATABASE_URL=... REDIS_URL=... tests/faults/kill9.py --use-env-stores

Exit 0 only if every cycle ran, no 2xx write is missing and verify was clean.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = os.path.join(ROOT, "deploy", "local", "services.sh")

JWT_SECRET = "kill9-jwt-secret-0123456789-abcdefghijklmnopqrstuvwx"
ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def log(*a):
    print(*a, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def psql(url, sql):
    out = subprocess.run(["psql", url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True, timeout=60)
    return [line for line in out.stdout.split("\n") if line]


class Client:
    """One keep-alive HTTP/1.1 connection per worker."""

    def __init__(self, port, timeout):
        self.port, self.timeout, self.conn = port, timeout, None

    def call(self, method, path, body=None, token=None):
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            raw = r.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return r.status, parsed


class Cycle:
    def __init__(self, n, args, port, db_url, redis_url):
        self.n, self.args, self.port = n, args, port
        self.db_url, self.redis_url = db_url, redis_url
        self.lock = threading.Lock()
        self.acked = []          # (kind, data) for every 2xx write
        self.statuses = {}       # (kind, status) -> count, incl. transport errors
        self.stop = threading.Event()
        self.proc = None

    def record(self, kind, status, data=None):
        with self.lock:
            self.statuses[(kind, status)] = self.statuses.get((kind, status), 0) + 1
            if data is not None and 200 <= status < 300:
                self.acked.append((kind, data))

    def start_service(self, logf):
        env = {k: os.environ[k] for k in ("PATH", "HOME", "TMPDIR") if k in os.environ}
        env.update({
            "APP_ENV": "test", "DATABASE_URL": self.db_url, "REDIS_URL": self.redis_url,
            "HOST": "127.0.0.1", "PORT": str(self.port), "LOG_LEVEL": "warn",
            "PASSWORD_HASH_OPSLIMIT": "1", "PASSWORD_HASH_MEMLIMIT_KIB": "8192",
            "RATE_LIMIT_MAX_REQUESTS": "1000000000", "AUTH_RATE_LIMIT_MAX_REQUESTS": "1000000000",
            "CODE_LOOKUP_RATE_LIMIT_MAX": "1000000000", "JWT_SECRET": JWT_SECRET,
            "ENCRYPTION_KEY": ENCRYPTION_KEY, "EMAIL_TRANSPORT": "log",
        })
        self.proc = subprocess.Popen([self.args.bin, "serve"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode} before ready")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health/ready")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("service not ready within 30 s")

    def story(self, w, client):
        """One leader, one member: every write in order, each 2xx recorded."""
        tag = f"c{self.n}w{w}-{uuid.uuid4().hex[:10]}"
        pw = "correct horse battery"

        def register(who):
            email = f"{who}-{tag}@kill9.invalid"
            s, b = client.call("POST", "/v1/auth/register",
                               {"email": email, "password": pw, "displayName": who})
            ok = s == 201
            self.record("register", s, {"id": b["user"]["id"], "email": email} if ok else None)
            return (b["user"]["id"], b["accessToken"]) if ok else (None, None)

        leader, ltok = register("leader")
        if not leader or self.stop.is_set():
            return
        name = "Kill Nine " + "".join(random.choice("ABCDEFGHJK") for _ in range(8))
        s, b = client.call("POST", "/v1/households", {"name": name}, ltok)
        hid = b["household"]["id"] if s == 201 else None
        self.record("create", s, {"household": hid, "leader": leader} if hid else None)
        if not hid or self.stop.is_set():
            return
        code = b["household"]["inviteCode"]
        member, mtok = register("member")
        if not member or self.stop.is_set():
            return
        s, b = client.call("POST", "/v1/households/join", {"inviteCode": code}, mtok)
        rid = b["joinRequest"]["id"] if s == 201 else None
        self.record("join", s, {"request": rid, "household": hid, "user": member} if rid else None)
        if not rid or self.stop.is_set():
            return
        s, b = client.call("POST", f"/v1/join-requests/{rid}/approve", {}, ltok)
        self.record("approve", s,
                    {"request": rid, "household": hid, "user": member} if s == 200 else None)
        if s != 200 or self.stop.is_set():
            return
        for i in range(2):
            desc = f"patched {tag} {i}"
            s, b = client.call("PATCH", f"/v1/households/{hid}", {"description": desc}, ltok)
            self.record("patch", s, {"household": hid, "description": desc} if s == 200 else None)
            if s != 200 or self.stop.is_set():
                return

    def worker(self, w):
        client = Client(self.port, self.args.request_timeout)
        while not self.stop.is_set():
            try:
                self.story(w, client)
            except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as e:
                self.record("transport", type(e).__name__)
                if self.proc.poll() is not None or self.stop.is_set():
                    return
                time.sleep(0.01)

    def run(self, logf):
        self.start_service(logf)
        threads = [threading.Thread(target=self.worker, args=(w,), daemon=True)
                   for w in range(self.args.workers)]
        for t in threads:
            t.start()
        delay = random.uniform(self.args.min_kill, self.args.max_kill)
        time.sleep(delay)
        with self.lock:
            acked_at_kill = len(self.acked)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.stop.set()
        for t in threads:
            t.join(timeout=self.args.request_timeout + 5)
        return delay, acked_at_kill


def missing_writes(db_url, acked):
    """Every acknowledged write, with its same-transaction side effects, that is not in PostgreSQL."""
    def values(rows):
        return ",".join("(" + ",".join("'" + str(v).replace("'", "''") + "'" for v in r) + ")"
                        for r in rows)

    checks = {
        "register": ("id, email",
                     "SELECT v.id FROM (VALUES {}) v(id, email) WHERE NOT EXISTS "
                     "(SELECT 1 FROM users u WHERE u.id = v.id::uuid AND u.email = v.email)"),
        "create": ("household, leader",
                   "SELECT v.h FROM (VALUES {}) v(h, l) WHERE NOT EXISTS "
                   "(SELECT 1 FROM households x WHERE x.id = v.h::uuid AND x.created_by = v.l::uuid)"
                   " OR NOT EXISTS (SELECT 1 FROM household_members m WHERE m.household_id = v.h::uuid"
                   "   AND m.user_id = v.l::uuid AND m.role = 'leader')"
                   " OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.household_id = v.h::uuid"
                   "   AND a.action = 'household.created')"),
        "join": ("request, household, user",
                 "SELECT v.r FROM (VALUES {}) v(r, h, u) WHERE NOT EXISTS "
                 "(SELECT 1 FROM household_join_requests j WHERE j.id = v.r::uuid"
                 "   AND j.household_id = v.h::uuid AND j.user_id = v.u::uuid)"
                 " OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.subject_id = v.r::uuid"
                 "   AND a.action = 'join_request.created')"),
        "approve": ("request, household, user",
                    "SELECT v.r FROM (VALUES {}) v(r, h, u) WHERE NOT EXISTS "
                    "(SELECT 1 FROM household_join_requests j WHERE j.id = v.r::uuid"
                    "   AND j.status = 'approved')"
                    " OR NOT EXISTS (SELECT 1 FROM household_members m WHERE m.household_id = v.h::uuid"
                    "   AND m.user_id = v.u::uuid AND m.status = 'active')"
                    " OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.subject_id = v.r::uuid"
                    "   AND a.action = 'join_request.approved')"
                    " OR NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = v.u::uuid"
                    "   AND n.type = 'join_request_approved')"),
    }
    missing = {}
    for kind, (_, sql) in checks.items():
        rows = [tuple(d.values()) for k, d in acked if k == kind]
        missing[kind] = psql(db_url, sql.format(values(rows))) if rows else []
    # PATCH: each 2xx description must have been stored; later PATCHes overwrite it, so
    # count the household.updated audit rows (same transaction) instead.
    per_household = {}
    for k, d in acked:
        if k == "patch":
            per_household[d["household"]] = per_household.get(d["household"], 0) + 1
    if per_household:
        rows = [(h, n) for h, n in per_household.items()]
        missing["patch"] = psql(db_url,
            "SELECT v.h FROM (VALUES {}) v(h, n) WHERE (SELECT count(*) FROM audit_log a"
            " WHERE a.household_id = v.h::uuid AND a.action = 'household.updated') < v.n::int"
            .format(values(rows)))
    else:
        missing["patch"] = []
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--min-kill", type=float, default=0.3, help="earliest kill, s after the burst starts")
    ap.add_argument("--max-kill", type=float, default=2.0, help="latest kill, s after the burst starts")
    ap.add_argument("--request-timeout", type=float, default=10.0)
    ap.add_argument("--max-seconds", type=float, default=1500, help="stop starting cycles after this")
    ap.add_argument("--bin", default=os.environ.get("HOUSEHOLD_SERVICE_BIN",
                                                    os.path.join(ROOT, "build", "household-service")))
    ap.add_argument("--use-env-stores", action="store_true",
                    help="use DATABASE_URL and REDIS_URL instead of starting throwaway stores")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default=None, help="write the 2xx records and the summary here (JSON)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)

    stores_dir = None
    if args.use_env_stores:
        db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    else:
        stores_dir = tempfile.mkdtemp(prefix="kill9-stores.")
        def services_port():
            return subprocess.run([SERVICES, "free-port"], check=True, capture_output=True,
                                  text=True).stdout.strip()
        pg_port = redis_port = services_port()
        while redis_port == pg_port:
            redis_port = services_port()
        subprocess.run([SERVICES, "start", "--throwaway", stores_dir, pg_port, redis_port], check=True)
        subprocess.run([SERVICES, "createdb", stores_dir, "household_kill9"], check=True)
        db_url = f"postgresql://postgres@127.0.0.1:{pg_port}/household_kill9"
        redis_url = f"redis://127.0.0.1:{redis_port}"

    try:
        subprocess.run([args.bin, "migrate"], env={**os.environ, "DATABASE_URL": db_url}, check=True,
                       capture_output=True, timeout=120)
        # The checker must not be vacuous: writes that never happened are reported missing.
        fake = lambda: str(uuid.uuid4())
        probe = [("register", {"id": fake(), "email": "nobody@kill9.invalid"}),
                 ("create", {"household": fake(), "leader": fake()}),
                 ("join", {"request": fake(), "household": fake(), "user": fake()}),
                 ("approve", {"request": fake(), "household": fake(), "user": fake()}),
                 ("patch", {"household": fake(), "description": "never"})]
        detected = missing_writes(db_url, probe)
        assert all(len(detected[k]) == 1 for k, _ in probe), f"checker self-test failed: {detected}"

        log_path = os.path.join(tempfile.gettempdir(), f"kill9-service-{os.getpid()}.log")
        summary = {"seed": seed, "cycles": 0, "acked": 0, "missing": 0, "verify_failures": 0,
                   "by_kind": {}, "statuses": {}, "kill_delays": [], "acked_at_kill": []}
        all_acked = []
        started = time.monotonic()
        failed_cycles = []
        with open(log_path, "ab") as logf:
            for n in range(1, args.cycles + 1):
                if time.monotonic() - started > args.max_seconds:
                    log(f"time budget of {args.max_seconds} s spent after {n - 1} cycles")
                    break
                cyc = Cycle(n, args, free_port(), db_url, redis_url)
                try:
                    delay, acked_at_kill = cyc.run(logf)
                finally:
                    if cyc.proc and cyc.proc.poll() is None:
                        os.kill(cyc.proc.pid, signal.SIGKILL)
                        cyc.proc.wait(timeout=10)
                missing = missing_writes(db_url, cyc.acked)
                n_missing = sum(len(v) for v in missing.values())
                ver = subprocess.run([args.bin, "verify"], env={**os.environ, "DATABASE_URL": db_url},
                                     capture_output=True, text=True, timeout=120)
                summary["cycles"] = n
                summary["acked"] += len(cyc.acked)
                summary["missing"] += n_missing
                summary["kill_delays"].append(round(delay, 3))
                summary["acked_at_kill"].append(acked_at_kill)
                for kind, _ in cyc.acked:
                    summary["by_kind"][kind] = summary["by_kind"].get(kind, 0) + 1
                for (kind, status), count in cyc.statuses.items():
                    key = f"{kind} {status}"
                    summary["statuses"][key] = summary["statuses"].get(key, 0) + count
                if ver.returncode != 0:
                    summary["verify_failures"] += 1
                all_acked.extend(cyc.acked)
                log(f"cycle {n:3d}: killed after {delay:.2f} s, {len(cyc.acked)} writes acknowledged, "
                    f"{n_missing} missing, verify exit {ver.returncode}")
                if n_missing or ver.returncode != 0:
                    failed_cycles.append(n)
                    log(f"  missing: {json.dumps({k: v for k, v in missing.items() if v})}")
                    log("  verify: " + (ver.stdout + ver.stderr).strip().replace("\n", " | "))
        final = subprocess.run([args.bin, "verify"], env={**os.environ, "DATABASE_URL": db_url},
                               capture_output=True, text=True, timeout=120)
        summary["final_verify_exit"] = final.returncode
        summary["final_verify_output"] = (final.stdout + final.stderr).strip()
        summary["seconds"] = round(time.monotonic() - started, 1)
        summary["failed_cycles"] = failed_cycles
        log("final verify (exit %d): %s" % (final.returncode, summary["final_verify_output"].replace("\n", " | ")))
        log(f"seed {seed}: {summary['cycles']} cycles in {summary['seconds']} s, "
            f"{summary['acked']} writes acknowledged with 2xx {summary['by_kind']}, "
            f"{summary['missing']} missing, {summary['verify_failures']} cycles with verify failing")
        log("statuses seen (incl. after the kill): " + json.dumps(dict(sorted(summary["statuses"].items()))))
        if args.out:
            with open(args.out, "w") as f:
                json.dump({"summary": summary, "acked": all_acked}, f)
        ok = (summary["cycles"] == args.cycles and summary["missing"] == 0
              and summary["verify_failures"] == 0 and final.returncode == 0)
        log("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        if stores_dir:
            subprocess.run([SERVICES, "stop", stores_dir], check=False)
            shutil.rmtree(stores_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
