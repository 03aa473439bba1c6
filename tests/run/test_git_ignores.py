"""What git keeps out of the repository, asked of git itself (a process, so this tier):
what Chalice writes for a deployed stage holds the account's ARNs
(tests/stack/test_deploy_first_deploy.py: the only files a deploy leaves holding one)."""
from __future__ import annotations

import subprocess

from tests.running import ROOT
from tests.stack.test_deploy_first_deploy import CHALICE_POLICIES, CHALICE_RECORDS


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_git_ignores_what_chalice_writes_for_a_stage_and_tracks_none_of_it():
    for path in (f"{CHALICE_RECORDS}/dev.json", CHALICE_POLICIES.replace("*", "dev-api_handler")):
        assert git("check-ignore", "-q", "--no-index", path).returncode == 0, path
    tracked = git("ls-files", "--", CHALICE_RECORDS, CHALICE_POLICIES)
    assert tracked.returncode == 0 and tracked.stdout == ""
