"""Running the chalice CLI, and reading what `chalice deploy` recorded."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
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


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """subprocess.run for `make deploy`'s and `make destroy`'s chalice commands: their
    progress (stdout) shown as it comes, their stderr kept, because chalice's CLI ends every
    failure with a whole Python traceback (chalice.cli.main). A failure raises
    CalledProcessError carrying that stderr (`failure` reads it); warnings of a command that
    succeeded are shown as they were."""
    done = subprocess.run(command, cwd=cwd, stderr=subprocess.PIPE, text=True)  # noqa: S603 (our own chalice, no shell)
    if check and done.returncode:
        raise subprocess.CalledProcessError(done.returncode, command, stderr=done.stderr)
    if done.stderr:
        sys.stderr.write(done.stderr)
    return done


_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception): ?", re.M)


def said(stderr: str) -> str:
    """What a failed chalice command said, without its traceback: the last exception's own
    message (chalice's deploy errors are written for people), else the last line."""
    found = list(_EXCEPTION.finditer(stderr))
    text = stderr[found[-1].end():] if found else (stderr.strip().splitlines() or [""])[-1]
    return " ".join(text.split()) or "no message"


def failure(exc: subprocess.CalledProcessError, project_dir: Path) -> str:
    """One readable line for a chalice command that failed; its whole stderr, traceback and
    all, goes to build/chalice-<command>.log for whoever needs it."""
    what = " ".join(str(part) for part in exc.cmd[1:])
    if not exc.stderr:
        return f"`chalice {what}` failed (exit {exc.returncode}); see above."
    log = project_dir / "build" / f"chalice-{exc.cmd[1]}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(exc.stderr, encoding="utf-8")
    return (f"`chalice {what}` failed (exit {exc.returncode}): {said(exc.stderr)} "
            f"(its whole output: {log.relative_to(project_dir)})")


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
