"""What `make deploy` says of the per-client rate limit once the API stage is up: the
rehearsal (tests/run/test_deploy_rehearsal.py) met a stack whose AuthRateLimit was 500 and no
web ACL, and the deploy said the limit was 0."""
from __future__ import annotations

from infra import waf


def test_a_guarded_stage_is_said_with_its_web_acl():
    assert "guards the stage (arn:acl)" in waf.outcome("dev", "arn:acl", "500")


def test_a_limit_turned_off_is_said_as_off():
    said = waf.outcome("dev", None, "0")
    assert said == f"No per-client rate limit on /api/auth/* ({waf.PARAMETER}=0)."


def test_a_limit_asked_for_without_its_web_acl_is_a_warning_naming_both():
    said = waf.outcome("dev", None, "500")
    assert said.startswith("WARNING") and "AuthRateLimit is 500" in said
    assert waf.acl_name("dev") in said and "NO per-client rate limit" in said
