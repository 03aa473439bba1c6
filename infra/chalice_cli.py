"""Running the chalice CLI, and reading what `chalice deploy` recorded."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from infra.errors import DeployError


def chalice_command() -> list[str]:
    beside = Path(sys.executable).parent / "chalice"
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise DeployError("chalice is not installed: `make deploy` installs it into .venv.")
    return [found]


def deployed_file(project_dir: Path, stage: str) -> Path:
    return project_dir / ".chalice" / "deployed" / f"{stage}.json"


def deployed_resources(project_dir: Path, stage: str) -> list[dict[str, Any]]:
    """Chalice's record of a stage's deployment (Lambdas, REST API, event sources)."""
    deployed = deployed_file(project_dir, stage)
    if not deployed.exists():
        raise DeployError(f"No Chalice deployment recorded for stage {stage} ({deployed}).")
    return json.loads(deployed.read_text(encoding="utf-8")).get("resources", [])


def deployed_rest_api(project_dir: Path, stage: str) -> dict[str, Any]:
    """Chalice's record of the stage's REST API (rest_api_id, rest_api_url)."""
    for resource in deployed_resources(project_dir, stage):
        if resource.get("resource_type") == "rest_api":
            return resource
    raise DeployError(f"The {stage} deployment has no REST API.")


def greeting_url(project_dir: Path, stage: str) -> str:
    """The /hello page of the deployed REST API."""
    return deployed_rest_api(project_dir, stage)["rest_api_url"].rstrip("/") + "/hello"
