"""Comm-IT's speed and memory benchmark: `python -m bench` (from the project root).

Proves the targets in bench/README.md, prints a table, writes bench/results/latest.json and
exits 1 if a target is missed (2 if the benchmark itself could not run). Bounded in time
(a deadline on every child and on the whole run) and talks to 127.0.0.1 only: the local AWS is
moto on 127.0.0.1, boto3 reaches it through AWS_ENDPOINT_URL, and every process refuses any
other connection or name lookup.

Process layout. This process hosts moto (local.aws.LocalAWS) and registers a user. Everything
measured runs in fresh interpreters (bench/child.py), each a stand-in for one Lambda container:
moto imports boto3, jinja2 and cryptography, so measuring in this process would hide exactly the
cold-start costs the app has to keep small.

Options: --quick (fewer repetitions, for a smoke run), --out PATH (results file),
--no-write (print only).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
HEAVY = ("boto3", "botocore", "jinja2", "jwt", "cryptography")
PASSWORD = "Corr3ct-horse-bench"
TOTAL_BUDGET_S = 170.0  # the whole run; the brief is < 3 minutes
CHILD_TIMEOUT_S = 90.0

# name -> (what, unit, limit, why) ; every limit is an upper bound.
TARGETS: dict[str, tuple[str, str, float]] = {
    "cold.import_ms.median": ("import app, median", "ms", 150.0),
    "cold.peak_rss_mb.median": ("import app, peak RSS, median", "MB", 40.0),
    "cold.heavy_imported": ("heavy libs after import app", "count", 0),
    "first.page.total_ms.median": ("fresh: import + first GET /, median", "ms", 200.0),
    "first.verify.total_ms.median": ("fresh: import + first token check, median", "ms", 250.0),
    "first.guarded.total_ms.median": ("fresh: import + first greeting, median", "ms", 600.0),
    "first.login.total_ms.median": ("fresh: import + first login, median", "ms", 700.0),
    "first.peak_rss_mb.max": ("fresh: peak RSS, worst path", "MB", 100.0),
    "warm.page.p95_ms": ("warm GET / p95", "ms", 5.0),
    "warm.greeting.p95_ms": ("warm GET /api/greeting p95", "ms", 10.0),
    "warm.card.p95_ms": ("warm GET /api/greeting/card p95", "ms", 10.0),
    "warm.login.p50_ms": ("warm POST /api/auth/login p50", "ms", 50.0),
    "warm.login.p95_ms": ("warm POST /api/auth/login p95", "ms", 150.0),
    "warm.verify.p95_ms": ("warm verify_id_token p95", "ms", 2.0),
    "memory.rss_growth_mb": ("RSS growth over the leak run", "MB", 2.0),
    "memory.traced_growth_kb": ("traced heap growth over the leak run", "KB", 256.0),
}


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the benchmark ran out of its time budget")
        return left


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BENCH_")) and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy")}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "AWS_EC2_METADATA_DISABLED": "true", "PYTHONHASHSEED": "0"})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def run_child(deadline: Deadline, env: dict[str, str], *args: str,
              python_flags: tuple[str, ...] = ()) -> tuple[dict[str, Any], float, str]:
    """Run bench/child.py in a fresh interpreter: (its JSON result, wall seconds, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *python_flags, "-m", "bench.child", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=min(CHILD_TIMEOUT_S, deadline.left()))
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]), wall, proc.stderr


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- machine --------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    from importlib import metadata

    def cpu_model() -> str:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return platform.processor()

    def mem_total_mb() -> float:
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024)
        except OSError:
            pass
        return 0

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    versions = {}
    for dist in ("chalice", "Jinja2", "PyJWT", "cryptography", "boto3", "botocore", "moto"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "mem_total_mb": mem_total_mb(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": len([l for l in git("status", "--porcelain").splitlines() if l]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# --- 1. cold start --------------------------------------------------------------------------

def cold_start(deadline: Deadline, reps: int) -> dict[str, Any]:
    env = child_env()
    run_child(deadline, env, "cold")  # bytecode cache written once, as in a built package
    base, cold, walls = [], [], []
    for _ in range(reps):  # interleaved, so drift on the machine hits both alike
        base.append(run_child(deadline, env, "baseline")[0])
        result, wall, _ = run_child(deadline, env, "cold")
        cold.append(result)
        walls.append(wall)
    heavy = sorted({name for r in cold for name in r["heavy"]})
    imports = [r["import_s"] * 1000 for r in cold]
    cpu = [r["import_cpu_s"] * 1000 for r in cold]
    return {
        "reps": reps,
        "import_ms": {"median": median(imports), "min": min(imports), "max": max(imports),
                      "p90": pct(imports, 0.9)},
        "import_cpu_ms": {"median": median(cpu), "min": min(cpu)},
        "process_wall_ms": {"median": median(walls) * 1000},
        "peak_rss_mb": {"median": median([r["peak_rss_mb"] for r in cold]),
                        "max": max(r["peak_rss_mb"] for r in cold)},
        "interpreter_peak_rss_mb": {"median": median([r["peak_rss_mb"] for r in base])},
        "new_modules": cold[0]["new_modules"],
        "heavy_imported": heavy,
        "urllib_request_imported": any(r["urllib_request"] for r in cold),
    }


def import_attribution(deadline: Deadline, reps: int) -> list[dict[str, Any]]:
    """Which module of app.py/chalicelib imports what at import time, and what it costs.

    `-X importtime` finds every module that app.py or a chalicelib module is the first to import
    (so chalice's own imports are not blamed on the app); then a child imports chalice and those
    modules one after the other, which gives each one's wall-clock cost (importtime inflates).
    """
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT,
                          env=child_env(), capture_output=True, text=True,
                          timeout=min(CHILD_TIMEOUT_S, deadline.left()))
    pending: dict[int, list[tuple[str, int]]] = defaultdict(list)
    imported_by: list[tuple[str, str, int]] = []  # (importer, module, cumulative us)
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if not m:
            continue
        cumulative, depth, name = int(m.group(2)), (len(m.group(3)) - 1) // 2, m.group(4)
        for child, child_cum in pending.pop(depth + 1, []):
            if _is_app_module(name) and not _is_app_module(child):
                imported_by.append((name, child, child_cum))
        pending[depth].append((name, cumulative))
    imported_by = [row for row in imported_by if row[2] >= 500]  # >= 0.5 ms
    steps = [module for _, module, _ in imported_by]
    if "chalice" in steps:  # the framework first: it is paid whatever the app does
        steps.remove("chalice")
    steps.insert(0, "chalice")
    runs = [run_child(deadline, child_env(), "attrib", *steps)[0]["steps"] for _ in range(reps)]
    rows = []
    for importer, module, cumulative in imported_by:
        costs = [run[module]["ms"] for run in runs if "ms" in run.get(module, {})]
        rows.append({"importer": importer, "file_line": _import_line(importer, module),
                     "module": module, "wall_ms_median": median(costs) if costs else None,
                     "importtime_ms": cumulative / 1000})
    rows.sort(key=lambda row: -(row["wall_ms_median"] or 0))
    return rows


def _is_app_module(name: str) -> bool:
    return name == "app" or name == "chalicelib" or name.startswith("chalicelib.")


def _import_line(importer: str, module: str) -> str:
    path = ROOT / ("app.py" if importer == "app" else importer.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / importer.replace(".", "/") / "__init__.py"
    pattern = re.compile(rf"^\s*(import {re.escape(module)}\b|from {re.escape(module)} import)")
    try:
        for number, text in enumerate(path.read_text().splitlines(), 1):
            if pattern.match(text):
                return f"{path.relative_to(ROOT)}:{number}"
    except OSError:
        pass
    return str(path.relative_to(ROOT))


# --- the local AWS and a registered user -------------------------------------------------

def local_stack() -> tuple[Any, dict[str, str], dict[str, str]]:
    """moto on 127.0.0.1, the stack, and a user registered through the API with the emailed code."""
    import uuid

    sys.path.insert(0, str(ROOT))
    from local.aws import LocalAWS
    from local.outbox import Outbox

    aws = LocalAWS(Outbox(stream=io.StringIO())).start()
    assert aws.endpoint.startswith("http://127.0.0.1:"), aws.endpoint
    env = aws.create_resources("local")
    os.environ.update(env)
    os.environ.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})

    from chalice.test import Client

    from app import app
    from chalicelib import config

    config.settings.cache_clear()
    username = f"bench{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    headers = {"Content-Type": "application/json"}
    with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
        def post(path: str, body: dict[str, str]) -> Any:
            response = client.http.post(path, body=json.dumps(body), headers=headers)
            if response.status_code >= 300:
                raise RuntimeError(f"{path}: {response.status_code} {response.body!r}")
            return response

        post("/api/auth/signup", {"name": "Bench Mark", "email": email, "username": username,
                                  "password": PASSWORD})
        post("/api/auth/confirm", {"username": username, "code": aws.outbox.last_code(email)})
        tokens = post("/api/auth/login", {"username": username, "password": PASSWORD}).json_body
    seeded = _seed_name(tokens["idToken"], "Bench Mark")
    user = {"BENCH_USERNAME": username, "BENCH_PASSWORD": PASSWORD,
            "BENCH_ID_TOKEN": tokens["idToken"]}
    return aws, env, user, seeded


def _seed_name(id_token: str, name: str) -> bool:
    """Do what the async pipeline would do for this user (write the name the greeting reads),
    so the warm greeting measures the steady state (200), not the 202 of a pipeline not yet run.
    False if the app has no such module (then the greeting is measured as it answers)."""
    import jwt

    try:
        from chalicelib import names
    except ImportError:
        return False
    put = getattr(names, "put", None)
    if put is None:
        return False
    put(jwt.decode(id_token, options={"verify_signature": False})["sub"], name)
    return True


# --- 2. first request in a fresh interpreter -------------------------------------------------

def first_requests(deadline: Deadline, env: dict[str, str], reps: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    runs: dict[str, list[dict[str, Any]]] = {"page": [], "verify": [], "guarded": [], "login": []}
    for _ in range(reps):
        for kind in runs:
            result = run_child(deadline, env, "first", kind)[0]
            if not result["ok"]:
                raise RuntimeError(f"first {kind}: HTTP {result['status']} {result['body']}")
            runs[kind].append(result)
    for kind, results in runs.items():
        out[kind] = {
            "reps": len(results),
            "statuses": sorted({r["status"] for r in results}),
            "import_ms": {"median": median([r["import_s"] * 1000 for r in results])},
            "first_request_ms": {"median": median([r["first_s"] * 1000 for r in results]),
                                 "max": max(r["first_s"] * 1000 for r in results)},
            "second_request_ms": {"median": median([r["second_s"] * 1000 for r in results])},
            "total_ms": {"median": median([r["total_s"] * 1000 for r in results]),
                         "min": min(r["total_s"] * 1000 for r in results)},
            "cpu_ms": {"median": median([r["cpu_s"] * 1000 for r in results])},
            "peak_rss_mb": {"median": median([r["peak_rss_mb"] for r in results]),
                            "max": max(r["peak_rss_mb"] for r in results)},
            "heavy_after_request": results[0]["heavy_after_request"],
        }
    out["peak_rss_mb"] = {"max": max(out[k]["peak_rss_mb"]["max"] for k in runs)}
    return out


# --- 3. warm latency and memory --------------------------------------------------------------

def warm(deadline: Deadline, env: dict[str, str], counts: dict[str, int]) -> dict[str, Any]:
    result = run_child(deadline, {**env, "BENCH_COUNTS": json.dumps(counts)}, "warm")[0]
    out: dict[str, Any] = {"scenarios": {}, "memory": result["memory"],
                           "peak_rss_mb": result["peak_rss_mb"]}
    for name, data in result["scenarios"].items():
        ms = [ns / 1e6 for ns in data["samples_ns"]]
        out["scenarios"][name] = {
            "n": len(ms), "p50_ms": pct(ms, 0.50), "p95_ms": pct(ms, 0.95),
            "p99_ms": pct(ms, 0.99), "max_ms": max(ms), "mean_ms": statistics.fmean(ms),
            "throughput_per_s": len(ms) / data["wall_s"], "statuses": data["statuses"],
        }
    return out


# --- targets and report ----------------------------------------------------------------------

def measured(results: dict[str, Any]) -> dict[str, float]:
    cold, first, warm_ = results["cold"], results["first_request"], results["warm"]
    values = {
        "cold.import_ms.median": cold["import_ms"]["median"],
        "cold.peak_rss_mb.median": cold["peak_rss_mb"]["median"],
        "cold.heavy_imported": len(cold["heavy_imported"]),
        "first.peak_rss_mb.max": first["peak_rss_mb"]["max"],
        "memory.rss_growth_mb": warm_["memory"]["rss_growth_mb"],
        "memory.traced_growth_kb": warm_["memory"]["traced_growth_kb"],
    }
    for kind in ("page", "verify", "guarded", "login"):
        values[f"first.{kind}.total_ms.median"] = first[kind]["total_ms"]["median"]
    for name in ("page", "greeting", "card", "login", "verify"):
        values[f"warm.{name}.p95_ms"] = warm_["scenarios"][name]["p95_ms"]
    values["warm.login.p50_ms"] = warm_["scenarios"]["login"]["p50_ms"]
    return values


def check(values: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for key, (label, unit, limit) in TARGETS.items():
        value = values[key]
        rows.append({"key": key, "what": label, "unit": unit, "limit": limit, "value": value,
                     "ok": value <= limit})
    return rows


def print_report(results: dict[str, Any], rows: list[dict[str, Any]],
                 write: Callable[[str], None] = print) -> None:
    m, cold, first, warm_ = (results["machine"], results["cold"], results["first_request"],
                             results["warm"])
    write(f"Comm-IT benchmark  {m['date_utc']}  commit {m['git_commit']}"
          f" (+{m['git_dirty_files']} uncommitted files)")
    write(f"{m['implementation']} {m['python']} on {m['platform']}; {m['cpu']}, {m['cpus']} CPUs, "
          f"{m['mem_total_mb']} MB; load avg {m['loadavg_at_start']} at start, "
          f"{m.get('loadavg_at_end')} at end")
    busy = max(m["loadavg_at_start"][0], (m.get("loadavg_at_end") or [0])[0])
    if busy > (m["cpus"] or 1):
        write(f"WARNING: load average {busy} > {m['cpus']} CPUs: other work shares this machine, "
              "the times below are inflated; rerun on a quiet machine before trusting a miss.")
    write("")
    write(f"Cold start ({cold['reps']} fresh interpreters): import app median "
          f"{cold['import_ms']['median']:.1f} ms (min {cold['import_ms']['min']:.1f}, "
          f"p90 {cold['import_ms']['p90']:.1f}; CPU {cold['import_cpu_ms']['median']:.1f}); process start-to-exit "
          f"{cold['process_wall_ms']['median']:.0f} ms; peak RSS {cold['peak_rss_mb']['median']:.1f} MB"
          f" (bare interpreter {cold['interpreter_peak_rss_mb']['median']:.1f} MB); "
          f"heavy libraries imported: {cold['heavy_imported'] or 'none'}")
    write("")
    write("First request in a fresh interpreter, through the Lambda handler (medians):")
    write(f"  {'path':<9} {'import':>9} {'1st req':>9} {'2nd req':>9} {'total':>9} {'CPU':>9} {'peak RSS':>9}"
          f"  libraries loaded by the request")
    for kind in ("page", "verify", "guarded", "login"):
        r = first[kind]
        write(f"  {kind:<9} {r['import_ms']['median']:>6.1f} ms {r['first_request_ms']['median']:>6.1f} ms"
              f" {r['second_request_ms']['median']:>6.2f} ms {r['total_ms']['median']:>6.1f} ms"
              f" {r['cpu_ms']['median']:>6.1f} ms"
              f" {r['peak_rss_mb']['median']:>6.1f} MB  {', '.join(r['heavy_after_request']) or '-'}"
              f"  (HTTP {r['statuses']})")
    write("")
    write("Warm, one container, sequential (chalice.test.Client; verify = chalicelib.tokens alone):")
    write(f"  {'scenario':<10} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'req/s':>8}")
    for name, s in warm_["scenarios"].items():
        statuses = f"  HTTP {s['statuses']}" if s["statuses"] else ""
        write(f"  {name:<10} {s['n']:>5} {s['p50_ms']:>5.2f} ms {s['p95_ms']:>5.2f} ms "
              f"{s['p99_ms']:>5.2f} ms {s['max_ms']:>5.1f} ms {s['throughput_per_s']:>8.0f}{statuses}")
    mem = warm_["memory"]
    write(f"  memory over {mem['requests']} more warm requests (GET /, greeting, logins): RSS {mem['rss_before_mb']:.1f} -> "
          f"{mem['rss_after_mb']:.1f} MB ({mem['rss_growth_mb']:+.2f} MB); traced heap "
          f"{mem['traced_growth_kb']:+.1f} KB; peak RSS {warm_['peak_rss_mb']:.1f} MB")
    if results.get("import_attribution"):
        write("")
        write("What app.py/chalicelib import at import time (wall ms each adds, after chalice):")
        for row in results["import_attribution"][:8]:
            cost = "?" if row["wall_ms_median"] is None else f"{row['wall_ms_median']:.1f}"
            write(f"  {cost:>6} ms  {row['module']:<22} first imported by {row['file_line']}")
    write("")
    write(f"  {'target':<46} {'limit':>10} {'measured':>10}  result")
    for row in rows:
        write(f"  {row['what']:<46} {_fmt(row['limit'], row['unit']):>10} "
              f"{_fmt(row['value'], row['unit']):>10}  {'ok' if row['ok'] else 'MISSED'}")
    missed = [row for row in rows if not row["ok"]]
    write("")
    write(f"{len(rows) - len(missed)}/{len(rows)} targets met"
          + (": MISSED " + ", ".join(r["key"] for r in missed) if missed else "")
          + f"; run took {results['duration_s']:.0f} s")


def _fmt(value: float, unit: str) -> str:
    return f"{value:.0f}" if unit == "count" else f"{value:.1f} {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions (smoke run); writes no file unless --out is given")
    parser.add_argument("--out", help=f"results JSON (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    deadline = Deadline(TOTAL_BUDGET_S)
    reps_cold, reps_first, reps_attrib = (5, 2, 2) if args.quick else (30, 7, 7)
    counts = ({"page": 300, "greeting": 300, "card": 300, "login": 30, "verify": 300, "leak": 400,
               "leak_login": 20}
              if args.quick else
              {"page": 2000, "greeting": 2000, "card": 1000, "login": 200, "verify": 3000, "leak": 2000,
               "leak_login": 100})

    from bench.child import _guard_network

    results: dict[str, Any] = {"machine": machine(), "counts": counts}
    _guard_network()  # this process and every child talk to 127.0.0.1 only
    aws = None
    try:
        results["cold"] = cold_start(deadline, reps_cold)
        results["import_attribution"] = import_attribution(deadline, reps_attrib)
        aws, env, user, results["greeting_name_seeded"] = local_stack()
        app_env = child_env({**env, **user})
        results["first_request"] = first_requests(deadline, app_env, reps_first)
        results["warm"] = warm(deadline, app_env, counts)
    except (RuntimeError, TimeoutError, subprocess.TimeoutExpired) as exc:
        print(f"bench: could not finish: {exc}", file=sys.stderr)
        return 2
    finally:
        if aws is not None:
            aws.stop()
    results["duration_s"] = time.monotonic() - started
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = check(measured(results))
    results["targets"] = rows
    results["ok"] = all(row["ok"] for row in rows)
    results["quick"] = args.quick
    print_report(results, rows)
    if not args.no_write and (args.out or not args.quick):
        out = Path(args.out or RESULTS)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
        print(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
