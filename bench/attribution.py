"""Which module of app.py/chalicelib imports what at import time, and what each one costs."""
from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from typing import Any

from bench.children import CHILD_TIMEOUT_S, ROOT, Deadline, child_env, median, run_child


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
