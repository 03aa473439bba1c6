"""checkov (a security scanner made for CloudFormation) passes on the stack's template and
on the one template `make package` writes; every skipped check has its reason
(infra/scan.py). checkov runs from a virtualenv of its own, made here when missing; if it
cannot be installed, the test fails (it never skips)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra import scan
from infra import template as infra_template


@pytest.fixture(scope="module")
def checkov() -> Path:
    binary = scan.VENV / "bin" / "checkov"
    if not binary.exists():
        steps = [[sys.executable, "-m", "venv", str(scan.VENV)],
                 [str(scan.VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                  "--disable-pip-version-check", scan.CHECKOV]]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                pytest.fail(f"cannot install {scan.CHECKOV} into {scan.VENV}: "
                            f"{result.stderr[-2000:]}",
                            pytrace=False)
    return binary


@pytest.fixture(scope="module")
def scanned(checkov: Path, packaged_dev: Path,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """checkov's findings by file: the stack, the package, and a template made insecure."""
    packaged = packaged_dev / "template.json"
    broken = tmp_path_factory.mktemp("broken") / "public-bucket.yaml"
    text = infra_template.TEMPLATE_PATH.read_text()
    broken.write_text(text.replace("BlockPublicAcls: true", "BlockPublicAcls: false", 1))
    files = [infra_template.TEMPLATE_PATH, packaged, broken]
    result = subprocess.run(scan.command(checkov, files), capture_output=True, text=True,
                            timeout=600)
    assert result.stdout.strip(), result.stderr
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_file: dict[str, dict[str, Any]] = {}
    for report in reports:
        for kind in ("passed_checks", "failed_checks"):
            for check in report["results"].get(kind, []):
                entry = by_file.setdefault(Path(check["file_path"]).name,
                                           {"passed": [], "failed": []})
                entry[kind.split("_")[0]].append(f"{check['check_id']} {check['resource']}")
    return by_file


def test_checkov_passes_on_the_stacks_template(scanned):
    result = scanned[infra_template.TEMPLATE_PATH.name]
    assert result["failed"] == [] and result["passed"]


def test_checkov_passes_on_the_one_deployable_template(scanned):
    result = scanned["template.json"]
    assert result["failed"] == [] and len(result["passed"]) > 20


def test_checkov_would_catch_a_bucket_made_public(scanned):
    assert any(f.startswith("CKV_AWS_") and "UsersBucket" in f
               for f in scanned["public-bucket.yaml"]["failed"])


def test_every_skipped_check_says_why():
    assert scan.SKIPS
    for check, reason in scan.SKIPS.items():
        assert check.startswith("CKV_") and len(reason) > 40, check
