"""Comm-IT's speed and memory benchmark: `python -m bench` (from the project root).

Proves the targets in bench/README.md, prints a table, writes bench/results/latest.json and
exits 1 if a target is missed (2 if the benchmark itself could not run). Bounded in time
(a deadline on every child and on the whole run) and talks to 127.0.0.1 only: the local AWS is
moto on 127.0.0.1, boto3 reaches it through AWS_ENDPOINT_URL, and every process refuses any
other connection or name lookup.

Process layout. This process hosts moto (local.local_aws.LocalAWS) and registers a user. Everything
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
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import greeting
from bench.attribution import import_attribution
from bench.children import ROOT, Deadline, child_env, median, pct, run_child
from bench.targets import check, measured, print_report

RESULTS = ROOT / "bench" / "results" / "latest.json"
PASSWORD = "Corr3ct-horse-bench"
TOTAL_BUDGET_S = 900.0  # the whole run: 200 then 1,000 people at once through `make run` included

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
        "git_dirty_files": len([line for line in git("status", "--porcelain").splitlines()
                                if line]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


# --- 1. cold start --------------------------------------------------------------------------

def cold_start(deadline: Deadline, reps: int) -> dict[str, Any]:
    env = child_env()
    run_child(deadline, env, "cold")  # bytecode cache written once, as in a built package
    run_child(deadline, env, "cold", "bare")
    base, bare, cold, walls = [], [], [], []
    for _ in range(reps):  # interleaved, so drift on the machine hits all alike
        base.append(run_child(deadline, env, "baseline")[0])
        bare.append(run_child(deadline, env, "cold", "bare")[0])
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
        "bare_import_ms": {"median": median([r["import_s"] * 1000 for r in bare])},
        "process_wall_ms": {"median": median(walls) * 1000},
        "peak_rss_mb": {"median": median([r["peak_rss_mb"] for r in cold]),
                        "max": max(r["peak_rss_mb"] for r in cold)},
        "interpreter_peak_rss_mb": {"median": median([r["peak_rss_mb"] for r in base])},
        "new_modules": cold[0]["new_modules"],
        "heavy_imported": heavy,
        "urllib_request_imported": any(r["urllib_request"] for r in cold),
    }


# --- the local AWS and a registered user -------------------------------------------------

def local_stack() -> tuple[Any, dict[str, str], dict[str, str], bool]:
    """moto on 127.0.0.1, the stack, and a user registered through the API with the emailed code:
    (the LocalAWS, the stack's environment, the user's BENCH_* variables, whether the user's name
    was seeded in Parameter Store)."""
    import uuid

    sys.path.insert(0, str(ROOT))
    from local.local_aws import LocalAWS
    from local.run.outbox import Outbox

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
            "BENCH_ID_TOKEN": tokens["idToken"],
            "BENCH_PARAMETER": "/bench/baseline/parameter"}  # what the bare app reads
    aws.session().client("ssm", endpoint_url=aws.endpoint).put_parameter(
        Name=user["BENCH_PARAMETER"], Value="Bench Mark", Type="String", Overwrite=True)
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
    # Each of the app's paths next to the bare app's (bench/bare_app.py): interleaved, so drift on
    # the machine hits the app and its baseline alike.
    runs: dict[str, list[dict[str, Any]]] = {"page": [], "bare-page": [], "verify": [],
                                             "guarded": [], "bare-parameter": [], "login": []}
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
    out["peak_rss_mb"] = {"max": max(out[k]["peak_rss_mb"]["max"] for k in runs
                                      if not k.startswith("bare-"))}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions (smoke run); writes no file unless --out is given")
    parser.add_argument("--out", help=f"results JSON (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    deadline = Deadline(TOTAL_BUDGET_S)
    # 15 first requests of each path: with 7, the medians of the app and its baseline moved
    # apart by up to 0.15x from run to run of the same code (bench/README.md, Results)
    reps_cold, reps_first, reps_attrib = (5, 2, 2) if args.quick else (30, 15, 7)
    counts = ({"page": 300, "greeting": 300, "card": 300, "login": 30, "verify": 300, "leak": 400,
               "leak_login": 20}
              if args.quick else
              {"page": 2000, "greeting": 2000, "card": 1000, "login": 200, "verify": 3000,
               "leak": 2000, "leak_login": 100})

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
        aws.stop()
        aws = None
        results["greeting"] = greeting.measure(deadline, crowd=20 if args.quick else 200,
                                               idle=5 if args.quick else 15,
                                               big_crowd=50 if args.quick else 1000,
                                               stored=500 if args.quick else 10000)
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
