"""The Lambda runtime follows the deploying Python (infra/runtime.py): `make deploy` and
`make package` refuse one AWS deprecates within a year, unless the deployer names it."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from infra import runtime
from infra.errors import DeployError

TODAY = date(2026, 12, 7)


def test_the_runtime_is_the_one_chalice_gives_the_functions_from_this_python():
    assert runtime.lambda_runtime() == f"python{sys.version_info.major}.{sys.version_info.minor}"


def test_the_dates_are_cfn_lints_lifecycle_data():
    assert runtime.lifecycle("python3.11") == {
        "create-block": "2027-07-31", "deprecated": "2027-06-30", "successor": "python3.14",
        "update-block": "2027-08-31"}
    assert runtime.lifecycle(runtime.SUGGESTED)["deprecated"] >= "2029-01-01"


def test_a_runtime_deprecated_within_a_year_is_refused_with_the_date_and_the_way_out():
    with pytest.raises(DeployError) as error:
        runtime.check("python3.11", TODAY)
    message = str(error.value)
    assert "python3.11" in message and "2027-06-30" in message and "2027-07-31" in message
    assert "make clean && make PYTHON=python3.13 check" in message
    assert "ACCEPT_RUNTIME=python3.11" in message


def test_a_runtime_supported_for_more_than_a_year_goes_ahead():
    assert runtime.check("python3.13", TODAY) == (
        "Lambda runtime python3.13: supported until 2029-06-30 (cfn-lint's data).")
    assert "supported until" in runtime.check("python3.11", date(2026, 6, 29))
    with pytest.raises(DeployError):
        runtime.check("python3.11", date(2026, 7, 1))


def test_only_the_runtime_named_is_accepted():
    assert "accepted (ACCEPT_RUNTIME)" in runtime.check("python3.11", TODAY, "python3.11")
    with pytest.raises(DeployError):
        runtime.check("python3.11", TODAY, "python3.12")


def test_a_runtime_without_a_known_date_goes_ahead_and_says_so():
    assert "no deprecation date known" in runtime.check("python3.99", TODAY)


@pytest.mark.parametrize("module, argv", [("deploy", ["deploy", "--stage", "dev"]),
                                          ("package", ["--stage", "dev"])])
def test_make_deploy_and_make_package_refuse_it_before_anything_else(monkeypatch, capsys,
                                                                      module, argv):
    from infra import deploy, package

    monkeypatch.setattr(runtime, "lambda_runtime", lambda: "python3.11")
    class Today:
        @staticmethod
        def today() -> date:
            return TODAY

    target: Any = deploy if module == "deploy" else package
    monkeypatch.setattr(target, "date", Today)
    touched = []
    monkeypatch.setattr(deploy, "deploy", lambda *a, **k: touched.append("deploy"))

    def build(stage: str, out: Path) -> Path:
        touched.append("build")
        return out / "template.json"

    monkeypatch.setattr(package, "build", build)
    assert target.main(argv) == 1
    assert touched == []
    err = capsys.readouterr().err
    assert err.startswith("error: the functions would run on python3.11") and err.count("\n") == 1

    assert target.main([*argv, "--accept-runtime", "python3.11"]) == 0
    assert touched == ["deploy" if module == "deploy" else "build"]
