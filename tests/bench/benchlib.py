"""Shared helpers of the tests/bench/*.py measurements (python3 stdlib only).

Starts household-service on a free loopback port, signs access tokens offline
(sessions seeded with id = user id, as tests/bench/seed.sql does), runs SQL
through psql and reads a process's RSS. Everything stays on 127.0.0.1."""
import base64, hashlib, hmac, json, os, socket, subprocess, sys, time, urllib.request

SECRET = "bench-jwt-secret-0123456789-abcdefghijklmnopqrstuv"
ENCRYPTION_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(user_id: str, ttl: int = 7200) -> str:
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64(json.dumps({"sub": user_id, "sid": user_id, "iat": now, "exp": now + ttl},
                             separators=(",", ":")).encode())
    sig = b64(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def psql(url: str, sql: str, *vars_) -> str:
    args = ["psql", url, "-v", "ON_ERROR_STOP=1", "-At", "-F", " ", "-q"]
    for v in vars_:
        args += ["-v", v]
    return subprocess.run(args, input=sql, check=True, capture_output=True, text=True).stdout


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Service:
    """household-service serve as a child process; stdout/stderr go to log files."""

    def __init__(self, binary, db_url, redis_url, env=None, log_dir="/tmp/household-bench-logs"):
        os.makedirs(log_dir, exist_ok=True)
        self.port = free_port()
        e = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "APP_ENV": "test", "HOST": "127.0.0.1", "PORT": str(self.port),
            "DATABASE_URL": db_url, "REDIS_URL": redis_url,
            "JWT_SECRET": SECRET, "ENCRYPTION_KEY": ENCRYPTION_KEY,
            "PASSWORD_HASH_OPSLIMIT": "1", "PASSWORD_HASH_MEMLIMIT_KIB": "8192",
            "RATE_LIMIT_MAX_REQUESTS": "100000000", "AUTH_RATE_LIMIT_MAX_REQUESTS": "100000000",
            "CODE_LOOKUP_RATE_LIMIT_MAX": "100000000", "LOG_LEVEL": "warn",
            "EMAIL_TRANSPORT": "log", "SHUTDOWN_DRAIN_DELAY_MS": "0",
        }
        e.update(env or {})
        stem = f"{log_dir}/{self.port}"
        self.out = open(stem + ".stdout.log", "wb")
        self.err = open(stem + ".stderr.log", "wb")
        self.proc = subprocess.Popen([binary, "serve"], env=e, stdout=self.out, stderr=self.err)
        self.pid = self.proc.pid
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited {self.proc.returncode}; see {stem}.*.log")
            try:
                with urllib.request.urlopen(self.base + "/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("service not ready within 30 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_tag() -> str:
    """5 upper-case letters, unique enough per run (emails and invite-code words)."""
    import random
    return "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(5))


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def need(argv, usage):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(usage, file=sys.stderr)
        sys.exit(2)
