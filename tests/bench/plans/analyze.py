#!/usr/bin/env python3
"""Reads an auto_explain PostgreSQL log excerpt and writes
  plans.txt   - one EXPLAIN (ANALYZE, BUFFERS) plan per distinct statement
  summary.md  - statements, and every Seq Scan with its table's row count

  analyze.py LOG OUT_DIR DATABASE_URL   (psql on PATH, for the row counts)
"""
import collections
import re
import subprocess
import sys

log_path, out_dir, db_url = sys.argv[1:4]
start = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \S+ \[\d+\] ")
entries, cur = [], None
for line in open(log_path, errors="replace"):
    if start.match(line):
        if cur:
            entries.append(cur)
        cur = [line] if "plan:" in line and "duration:" in line else None
    elif cur is not None:
        cur.append(line)
if cur:
    entries.append(cur)

plans = collections.OrderedDict()   # normalised query text -> (count, plan text)
for e in entries:
    body = "".join(e[1:])
    m = re.search(r"Query Text: (.*?)\n(?=\s*(\w[\w ]*?(Scan|Join|Loop|Result|Aggregate|Limit|Sort|Insert|"
                  r"Update|Delete|LockRows|Append|Unique|Hash|Gather|Materialize|Memoize|ProjectSet|"
                  r"Subquery|CTE|Function|Values|WindowAgg|Group|SetOp|Merge|Bitmap|ModifyTable|Custom)"
                  r"|\S+\s+\(cost))", body, re.S)
    text = (m.group(1) if m else body.split("\n", 1)[0]).strip()
    key = re.sub(r"\s+", " ", text)
    count, plan = plans.get(key, (0, body))
    plans[key] = (count + 1, plan)

def rows(table):
    out = subprocess.run(["psql", db_url, "-X", "-At", "-c",
                          f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}' AND relkind = 'r'"],
                         capture_output=True, text=True).stdout.strip()
    return int(out) if out.lstrip("-").isdigit() else -1

seq = []
for key, (count, plan) in plans.items():
    for t in re.findall(r"Seq Scan on (\w+)", plan):
        seq.append((t, key, count))
sizes = {t: rows(t) for t in {t for t, _, _ in seq}}

with open(f"{out_dir}/plans.txt", "w") as f:
    for key, (count, plan) in plans.items():
        f.write(f"=== executed {count}x\n{plan}\n")

big = [(t, k, c) for t, k, c in seq if sizes.get(t, 0) >= 10000]
with open(f"{out_dir}/summary.md", "w") as f:
    f.write(f"# Query plans at scale\n\n{len(entries)} statements logged by auto_explain, "
            f"{len(plans)} distinct statement texts (plans in plans.txt).\n\n")
    f.write(f"## Seq Scans on tables with >= 10,000 rows: {len(big)}\n\n")
    for t, k, c in big:
        f.write(f"- `{t}` ({sizes[t]:,} rows), executed {c}x: `{k[:300]}`\n")
    small = [(t, k, c) for t, k, c in seq if sizes.get(t, 0) < 10000]
    f.write(f"\n## Seq Scans on small tables (planner's choice on < 10,000 rows): {len(small)}\n\n")
    for t, k, c in small:
        f.write(f"- `{t}` ({sizes.get(t, -1):,} rows), executed {c}x: `{k[:200]}`\n")
tables = subprocess.run(["psql", db_url, "-X", "-At", "-F", "|", "-c",
                         "SELECT relname, reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                         " WHERE n.nspname = 'public' AND relkind = 'r' ORDER BY reltuples DESC, relname"],
                        capture_output=True, text=True).stdout.split()
with open(f"{out_dir}/summary.md", "a") as f:
    f.write("\n## Table sizes during the capture (pg_class.reltuples)\n\n| table | rows |\n|---|---|\n")
    for t in tables:
        name, n = t.split("|")
        f.write(f"| {name} | {int(n):,} |\n")
print(f"{len(entries)} plans, {len(plans)} distinct statements, {len(big)} seq scans on big tables, "
      f"{len(seq) - len(big)} on small ones")
