"""Running bench/child.py in fresh interpreters, each a stand-in for one Lambda container,
under a deadline for the whole run and one per child; and the statistics the report uses."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 180.0  # a busy shared machine: the warm child alone took over 90 s


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
