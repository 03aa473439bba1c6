"""What the Makefile's recipes run, asked of make itself (`make -n`: a process, so this tier)."""
from __future__ import annotations

import subprocess

from tests.running import ROOT


def test_make_passes_accept_runtime_to_both_commands():
    for target, command in (("deploy", "-m infra.deploy deploy"), ("package", "-m infra.package")):
        result = subprocess.run(["make", "-n", target, "ACCEPT_RUNTIME=python3.11"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, check=True)
        recipe = result.stdout.replace("\\\n", " ")
        line = next(line for line in recipe.splitlines() if command in line)
        assert line.rstrip().endswith("--accept-runtime python3.11"), line

