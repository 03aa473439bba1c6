"""The event source mappings: one per event Lambda, Enabled, with the settings of
infra/event_sources.py (locally the pump delivers the events: SKIP)."""
from __future__ import annotations

from infra import event_sources, policy
from infra.smoke.outcomes import AWS_ONLY, Failed, Skipped
from infra.smoke.state import Run


def event_source_mappings(run: Run) -> str:
    if run.target.local:
        raise Skipped(f"{AWS_ONLY} (locally the pump delivers the events)")
    from infra.package import function_name

    lam, seen, wrong = run.target.client("lambda"), [], []
    for function in policy.FUNCTIONS:
        if function == policy.API_HANDLER:
            continue
        name = function_name(run.target.stage, function)
        mappings = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        if len(mappings) != 1:
            wrong.append(f"{name} has {len(mappings)} mappings, not 1")
            continue
        mapping = mappings[0]
        kind = (event_sources.SQS if ":sqs:" in mapping["EventSourceArn"]
                else event_sources.STREAM)
        for key, expected in event_sources.settings(kind, run.target.env).items():
            if mapping.get(key) != expected:
                wrong.append(f"{name} {key}={mapping.get(key)!r}, not {expected!r}")
        if mapping.get("State") != "Enabled":
            wrong.append(f"{name} is {mapping.get('State')}")
        seen.append(f"{function} ({kind}, {mapping.get('State')})")
    if wrong:
        raise Failed("; ".join(wrong))
    return "as infra/event_sources.py says: " + ", ".join(seen)
