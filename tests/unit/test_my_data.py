"""The retention chalicelib/my_data.py states is the template's, and `Check my access`
puts every statement of the authenticated role into words (chalicelib/my_access.py)."""
from __future__ import annotations

from chalicelib import lambdas, my_access, my_data
from infra import template as infra_template


def test_the_stated_retention_is_the_templates():
    resources = infra_template.load()["Resources"]
    [rule] = resources["UsersBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == my_data.NONCURRENT_VERSION_DAYS
    groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"
              and "/aws/lambda/" in str(r["Properties"]["LogGroupName"])]
    assert {g["RetentionInDays"] for g in groups} == {my_data.LOG_RETENTION_DAYS}
    assert sorted(g["LogGroupName"]["Fn::Sub"] for g in groups) == sorted(
        "/aws/lambda/" + lambdas.deployed_name("${Stage}", f) for f in lambdas.FUNCTIONS)


def test_every_statement_of_the_role_is_said_in_words():
    role = infra_template.load()["Resources"]["AuthenticatedRole"]["Properties"]
    [policy] = role["Policies"]
    assert [s["Sid"] for s in policy["PolicyDocument"]["Statement"]] == \
        list(my_access.ROLE_IN_WORDS)
