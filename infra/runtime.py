"""The Lambda runtime a deploy gives the functions, and whether AWS still supports it.

Chalice gives every function the runtime of the Python that runs it (chalice/config.py,
`Config.lambda_python_version`: `python3.11` from a 3.11 virtualenv; no setting overrides it),
so the deployer's interpreter is the runtime. `make deploy` and `make package` refuse one that
AWS Lambda deprecates within a year (the dates are cfn-lint's lifecycle data, installed with
the project), unless the deployer accepts that very runtime (`ACCEPT_RUNTIME=python3.11`).
"""
from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

from infra.errors import DeployError

NOTICE_DAYS = 365
SUGGESTED = "python3.13"  # what pyenv on the project's machines has; supported to 2029-06-30


def lambda_runtime() -> str:
    """The runtime Chalice gives the functions when run by this Python."""
    from chalice.config import Config

    return Config().lambda_python_version


def lifecycle(runtime: str) -> dict[str, Any] | None:
    """cfn-lint's dates for a Lambda runtime ('deprecated', 'create-block', ...), if known."""
    data = resources.files("cfnlint") / "data" / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    try:
        known: dict[str, dict[str, Any]] = json.loads(data.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return known.get(runtime)


def check(runtime: str, today: date, accept: str | None = None) -> str:
    """The line to say about the runtime; DeployError when it is deprecated within a year
    and not accepted by name."""
    dates = lifecycle(runtime)
    if not dates or not dates.get("deprecated"):
        return f"Lambda runtime {runtime}: no deprecation date known (cfn-lint's data)."
    deprecated = date.fromisoformat(dates["deprecated"])
    blocked = dates.get("create-block")
    when = (f"AWS Lambda deprecates {runtime} on {deprecated}"
            + (f" and blocks creating functions on it from {blocked}" if blocked else ""))
    if (deprecated - today).days >= NOTICE_DAYS:
        return f"Lambda runtime {runtime}: supported until {deprecated} (cfn-lint's data)."
    if accept == runtime:
        return (f"Lambda runtime {runtime}, accepted (ACCEPT_RUNTIME): {when}. "
                f"Move to {SUGGESTED} before then (docs/deploy.md, Runtime).")
    suggested = SUGGESTED.removeprefix("python")
    raise DeployError(
        f"the functions would run on {runtime}, the Python running this (Chalice gives Lambda "
        f"its own version), and {when}, within a year. Deploy from a Python {suggested} "
        f"virtualenv: `make clean && make PYTHON=python{suggested} check`, then the same "
        f"command again (README, Deploy); or accept {runtime} for this one with "
        f"ACCEPT_RUNTIME={runtime}.")
