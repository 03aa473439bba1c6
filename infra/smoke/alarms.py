"""Every alarm of infra/template.yaml exists, named for the stage (locally too: the local AWS
makes them)."""
from __future__ import annotations

from infra import policy
from infra import template as infra_template
from infra.smoke.outcomes import Failed
from infra.smoke.state import Run


def alarms(run: Run) -> str:
    expected = expected_alarms(run.target.stage)
    cloudwatch = run.target.client("cloudwatch")
    found: set[str] = set()
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"{policy.APP_NAME}-{run.target.stage}-"):
        found.update(a["AlarmName"]
                     for a in page["MetricAlarms"] + page.get("CompositeAlarms", []))
    missing = sorted(expected - found)
    if missing:
        raise Failed(f"{len(missing)} of {len(expected)} alarms missing: {', '.join(missing)}")
    return f"all {len(expected)} alarms of infra/template.yaml exist"


def expected_alarms(stage: str) -> set[str]:
    """Every alarm of infra/template.yaml, named for the stage."""
    names = set()
    for resource in infra_template.load()["Resources"].values():
        if resource["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
            name = resource["Properties"]["AlarmName"]
            name = name["Fn::Sub"] if isinstance(name, dict) else name
            names.add(name.replace("${Stage}", stage))
    return names
