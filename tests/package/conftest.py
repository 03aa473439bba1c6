"""Fixtures of the package tier: the deployable build (`make package`), offline, which
takes the Lambda's Linux wheels from the package index."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def packaged_dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make package STAGE=dev` once per session, without any AWS_* variable: the
    directory holding template.json and deployment.zip (test_package.py, test_checkov.py)."""
    import os

    from infra import package

    out = tmp_path_factory.mktemp("build") / "dev"
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AWS_")}
    try:
        package.build("dev", out)
    finally:
        os.environ.update(saved)
    return out
