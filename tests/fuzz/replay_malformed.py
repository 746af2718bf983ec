#!/usr/bin/env python3
"""Replays the malformed-request corpus of gen_malformed.py against a running
household service, raw over TCP (one connection per request), and checks:
  * no 5xx answer, ever;
  * every 4xx body is exactly {"error":{"code","message","requestId"}} (JSON);
  * the service is alive at the end: GET /health answers 200 (and, with
    --spawn, the process has not exited).
Python 3 standard library only. Exit status 0 = all good.

usage:
  replay_malformed.py --port 3000 [--host 127.0.0.1]          # a running service
  replay_malformed.py --spawn build/household-service          # starts one (needs
        TEST_DATABASE_URL and TEST_REDIS_URL, like the integration tests)
options: --count N --seed S --workers W --timeout SECONDS --log FILE
The service should run with high rate limits (RATE_LIMIT_MAX_REQUESTS etc.),
or 429s replace the answers under test (they are still checked as 4xx)."""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_malformed  # noqa: E402

TEST_JWT_SECRET = "test-jwt-secret-0123456789-abcdefghijklmnopqrstu"
TEST_ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CODE_RE = re.compile(r"^[A-Z][A-Z_]*$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def read_response(sock, deadline):
    """One HTTP/1.1 response: (status, headers dict, body) or None if the
    connection closed (or timed out) before a complete response."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = recv(sock, deadline)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ")[1])
    except (IndexError, ValueError):
        return ("unparsable", {}, buf)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = recv(sock, deadline)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def recv(sock, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        return b""
    sock.settimeout(left)
    try:
        return sock.recv(65536)
    except (socket.timeout, ConnectionResetError, OSError):
        return b""


def send_one(host, port, raw, timeout):
    """Sends raw bytes; returns (outcome, status, headers, body)."""
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError as e:
        return ("connect_failed", None, {}, str(e).encode())
    try:
        try:
            sock.sendall(raw)
        except OSError:
            pass  # the server may close early (oversize): still read what it sent
        deadline = time.monotonic() + timeout
        resp = read_response(sock, deadline)
        if resp is None:
            # Maybe the server waits for more (Content-Length larger than the body):
            # half-close and give it a moment to answer or close.
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            resp = read_response(sock, time.monotonic() + 2)
            if resp is None:
                return ("closed", None, {}, b"")
        status, headers, body = resp
        return ("answered", status, headers, body)
    finally:
        sock.close()


def check_problem(status, headers, body):
    """Problems with a 4xx answer, [] when it follows the contract."""
    errs = []
    ctype = headers.get("content-type", "")
    if not ctype.lower().startswith("application/json"):
        errs.append(f"content-type {ctype!r}")
    try:
        doc = json.loads(body)
    except ValueError:
        return errs + [f"body not JSON: {body[:120]!r}"]
    if not (isinstance(doc, dict) and list(doc) == ["error"] and isinstance(doc["error"], dict)):
        return errs + [f"not an error envelope: {body[:200]!r}"]
    e = doc["error"]
    if sorted(e) != ["code", "message", "requestId"] or not all(isinstance(v, str) for v in e.values()):
        errs.append(f"error keys {sorted(e)}")
    elif not CODE_RE.match(e["code"]) or not e["message"]:
        errs.append(f"code/message {e['code']!r}")
    elif (headers.get("x-request-id") and headers["x-request-id"] != e["requestId"]
          and headers.get("idempotent-replayed") != "true"):
        # A replayed idempotent answer is the stored first one, with its requestId.
        errs.append("requestId differs from X-Request-Id")
    return errs


def setup_caller(base):
    """A registered user with a household: token, user id, household id."""
    email = f"replay-{os.getpid()}-{int(time.time())}@example.com"
    st, auth = api(base, "POST", "/v1/auth/register",
                   {"email": email, "password": "correct horse battery", "displayName": "Replay"})
    if st != 201:
        raise SystemExit(f"register failed: {st} {auth}")
    token, uid = auth["accessToken"], auth["user"]["id"]
    st, hh = api(base, "POST", "/v1/households", {"name": "Replay House"}, token)
    if st != 201:
        raise SystemExit(f"create household failed: {st} {hh}")
    return token, uid, hh["household"]["id"]


def spawn(binary, port, log_dir):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "ASAN_OPTIONS",
                                                        "UBSAN_OPTIONS", "LSAN_OPTIONS")}
    env.update({
        "APP_ENV": "test", "DATABASE_URL": os.environ["TEST_DATABASE_URL"],
        "REDIS_URL": os.environ["TEST_REDIS_URL"], "HOST": "127.0.0.1", "PORT": str(port),
        "PASSWORD_HASH_OPSLIMIT": "1", "PASSWORD_HASH_MEMLIMIT_KIB": "8192",
        "RATE_LIMIT_MAX_REQUESTS": "1000000", "AUTH_RATE_LIMIT_MAX_REQUESTS": "1000000",
        "CODE_LOOKUP_RATE_LIMIT_MAX": "1000000", "JWT_SECRET": TEST_JWT_SECRET,
        "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, "LOG_LEVEL": "warn", "EMAIL_TRANSPORT": "log",
        "SHUTDOWN_DRAIN_DELAY_MS": "100",
    })
    out = open(os.path.join(log_dir, "service.stdout.log"), "wb")
    err = open(os.path.join(log_dir, "service.stderr.log"), "wb")
    proc = subprocess.Popen([binary, "migrate"], env=env, stdout=out, stderr=err)
    proc.wait(60)
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=out, stderr=err)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"service exited with {proc.returncode}; logs in {log_dir}")
        try:
            with urllib.request.urlopen(base + "/health/ready", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("service did not become ready")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int)
    ap.add_argument("--spawn", metavar="BIN")
    ap.add_argument("--count", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--log", help="write every failing exchange here")
    a = ap.parse_args()

    proc = None
    log_dir = tempfile.mkdtemp(prefix="replay-malformed-")
    if a.spawn:
        a.port = free_port()
        proc = spawn(a.spawn, a.port, log_dir)
    elif not a.port:
        ap.error("--port or --spawn")
    base = f"http://{a.host}:{a.port}"
    started = time.monotonic()
    token, uid, hid = setup_caller(base)
    corpus = gen_malformed.generate(a.count, a.seed)
    # Requests that end the caller's session or membership go last, so the
    # others are judged with a valid token and household (stable order otherwise).
    def destructive(item):
        return any(m in item[1] for m in (b"/auth/logout", b"/leave ", b"/leadership "))
    corpus = sorted(corpus, key=destructive)

    def fill(raw):
        return raw.replace(b"{{TOKEN}}", token.encode()).replace(b"{{HID}}", hid.encode()) \
                  .replace(b"{{UID}}", uid.encode())

    statuses = collections.Counter()
    per_cat = collections.defaultdict(collections.Counter)
    failures = []
    lock = threading.Lock()

    def run(item):
        i, (cat, raw) = item
        outcome, status, headers, body = send_one(a.host, a.port, fill(raw), a.timeout)
        key = str(status) if outcome == "answered" else outcome
        errs = []
        if outcome == "answered":
            if status == "unparsable":
                errs.append("unparsable status line")
            elif status >= 500:
                errs.append(f"{status} answer: {body[:300]!r}")
            elif 400 <= status < 500:
                errs += check_problem(status, headers, body)
        elif outcome == "connect_failed":
            errs.append("cannot connect: " + body.decode(errors="replace"))
        with lock:
            statuses[key] += 1
            per_cat[cat][key] += 1
            if errs:
                failures.append((i, cat, key, errs, raw[:300]))

    with concurrent.futures.ThreadPoolExecutor(a.workers) as ex:
        list(ex.map(run, enumerate(corpus)))

    alive = True
    try:
        with urllib.request.urlopen(base + "/health", timeout=10) as r:
            health = r.status
    except urllib.error.HTTPError as e:
        health = e.code
    except OSError as e:
        health, alive = f"unreachable ({e})", False
    if proc is not None and proc.poll() is not None:
        alive = False
    # Every exchange ended: nothing may stay "in flight" (it would hold up shutdown).
    in_flight = None
    for _ in range(50):
        try:
            with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
                m = re.search(rb"^http_requests_in_flight (\S+)", r.read(), re.M)
                in_flight = int(float(m.group(1))) - 1 if m else None  # minus this request
        except OSError:
            break
        if not in_flight:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started

    print(f"replayed {len(corpus)} malformed requests in {elapsed:.1f} s ({a.workers} workers)")
    print("answers by status (closed = connection closed without an answer, as RESTinio does for"
          " unparsable HTTP):")
    for k, n in sorted(statuses.items()):
        print(f"  {k:10} {n}")
    print("by category:")
    for cat in sorted(per_cat):
        print(f"  {cat:18} " + ", ".join(f"{k}:{n}" for k, n in sorted(per_cat[cat].items())))
    print(f"GET /health at the end: {health}; process alive: {alive}; requests still in flight: {in_flight}")
    if a.log and failures:
        with open(a.log, "w") as f:
            for i, cat, key, errs, raw in failures:
                f.write(json.dumps({"index": i, "category": cat, "status": key, "errors": errs,
                                    "request": raw.decode("latin-1")}) + "\n")
    for i, cat, key, errs, raw in failures[:20]:
        print(f"FAIL #{i} [{cat}] {key}: {'; '.join(errs)}\n    {raw[:160]!r}")
    fivexx = sum(n for k, n in statuses.items() if k.isdigit() and int(k) >= 500)
    print(f"5xx: {fivexx}; contract failures: {len(failures)}")
    if proc is not None:
        t0 = time.monotonic()
        proc.terminate()
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        print(f"service exit status after SIGTERM: {code} in {time.monotonic() - t0:.1f} s (logs: {log_dir})")
        if code != 0:
            alive = False
    ok = not failures and health == 200 and alive and not in_flight
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
