"""Chalice's record of a stage, rebuilt from what exists in AWS.

`chalice deploy` writes .chalice/deployed/<stage>.json only once its whole plan has
succeeded (chalice 1.34, deploy/deployer.py: `record_results` after `execute`, no
`finally`). One that fails part-way (the REST API import refused, a timeout) leaves
roles, functions and event source mappings that no record names: the next deploy
would create a second REST API and second mappings (a second stream mapping invokes
sync_name twice for every record), and `chalice delete` would delete none of them.

So before every `chalice deploy` and `chalice delete`, and after a `chalice deploy`
that failed, the record is made what AWS has, in Chalice's own shape (its planner's
`RecordResource*` instructions; chalice/deploy/planner.py):

    iam_role         {name: <function>_role, role_name, role_arn}        by name
    lambda_function  {name: <function>, lambda_arn}                      by name
    sqs_event        {name: <function>-sqs-event-source, queue, queue_arn, event_uuid,
                      lambda_arn}                                        by function
    dynamodb_event   {name: <function>-dynamodb-event-source, stream_arn, event_uuid,
                      lambda_arn}                                        by function
    rest_api         {name: rest_api, rest_api_id, rest_api_url}: the recorded API if it
                     still exists, else the one the API function's resource policy
                     names (`chalice deploy` adds that permission right after the import)

What no longer exists is dropped (`chalice delete` stops at the first thing it cannot
find). `chalice delete` removes a record's resources in reverse order: the API, the
mappings (DeleteEventSourceMapping: deleting a function leaves its mappings), the
functions, the roles. A stage that cannot be one record (two mappings of one function,
two APIs and none recorded) is refused, with every mapping named.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from infra import policy
from infra.errors import DeployError, aws_error

# The record's envelope, as chalice's Deployer writes it.
SCHEMA = {"schema_version": "2.0", "backend": "api"}
# Chalice's resource type of a mapping, by the service of its source ARN.
MAPPING_TYPES = {"sqs": "sqs_event", "dynamodb": "dynamodb_event"}
REBUILT_TYPES = {"iam_role", "lambda_function", "rest_api", *MAPPING_TYPES.values()}


def role_name(stage: str, function: str) -> str:
    """The role `chalice deploy` makes for a function (autogen_policy false: one each)."""
    return f"{policy.APP_NAME}-{stage}-{function}"


def rest_apis_in_policy(document: dict[str, Any]) -> list[str]:
    """The REST API ids a function's resource policy lets invoke it (execute-api ARNs)."""
    return sorted({arn.split(":", 5)[5].split("/", 1)[0]
                   for statement in document.get("Statement", [])
                   for arn in [statement.get("Condition", {}).get("ArnLike", {})
                               .get("AWS:SourceArn", "")]
                   if ":execute-api:" in arn})


def _not_found(exc: BaseException) -> bool:
    return aws_error(exc)[0] in ("ResourceNotFoundException", "NoSuchEntity", "NotFoundException")


def _found(call: Callable[..., Any], **kwargs: Any) -> Any:
    """call(**kwargs)'s answer, or None when AWS says the thing does not exist."""
    try:
        return call(**kwargs)
    except Exception as exc:
        if _not_found(exc):
            return None
        raise


def _mappings(lambda_client: Any, *functions: str) -> list[dict[str, Any]]:
    """The mappings of a function, asked by each of its names (its name, its ARN: Lambda
    matches either; a store that keeps the form it was given, as moto does, needs both)."""
    found: dict[str, dict[str, Any]] = {}
    for function in functions:
        marker = None
        while True:
            page = lambda_client.list_event_source_mappings(
                FunctionName=function, **({"Marker": marker} if marker else {}))
            found.update((m["UUID"], m) for m in page.get("EventSourceMappings", []))
            marker = page.get("NextMarker")
            if not marker:
                break
    return sorted(found.values(), key=lambda m: m["UUID"])


def _mapping_entry(function: str, mapping: dict[str, Any]) -> dict[str, Any] | None:
    source = mapping["EventSourceArn"]
    kind = MAPPING_TYPES.get(source.split(":")[2])
    if kind is None:
        return None
    common = {"event_uuid": mapping["UUID"], "lambda_arn": mapping["FunctionArn"]}
    if kind == "sqs_event":
        return {"name": f"{function}-sqs-event-source", "resource_type": kind,
                "queue_arn": source, "queue": source.rsplit(":", 1)[1], **common}
    return {"name": f"{function}-dynamodb-event-source", "resource_type": kind,
            "stream_arn": source, **common}


def describe_mapping(mapping: dict[str, Any]) -> str:
    return f"{mapping['UUID']} ({mapping['EventSourceArn'].split(':', 5)[5]})"


def delete_command(uuid: str) -> str:
    return f"aws lambda delete-event-source-mapping --uuid {uuid}"


class _Rebuild:
    def __init__(self, session: Any, stage: str, api_stage: Callable[[], str]) -> None:
        self.session, self.stage, self.api_stage = session, stage, api_stage
        self.iam, self.lambda_client = session.client("iam"), session.client("lambda")
        self.conflicts: list[str] = []
        self.mappings: dict[str, list[dict[str, Any]]] = {}

    def resources(self, recorded: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from infra.package import function_name

        found: list[dict[str, Any]] = []
        for function in policy.FUNCTIONS:
            role = _found(self.iam.get_role, RoleName=role_name(self.stage, function))
            if role:
                found.append({"name": f"{function}_role", "resource_type": "iam_role",
                              "role_name": role["Role"]["RoleName"],
                              "role_arn": role["Role"]["Arn"]})
            answer = _found(self.lambda_client.get_function,
                            FunctionName=function_name(self.stage, function))
            if answer:
                found.append({"name": function, "resource_type": "lambda_function",
                              "lambda_arn": answer["Configuration"]["FunctionArn"]})
        identity = self.session.client("sts").get_caller_identity()
        arn_prefix = (f"arn:{identity['Arn'].split(':')[1]}:lambda:{self.session.region_name}:"
                      f"{identity['Account']}:function:")
        for function in policy.FUNCTIONS:
            # Listed even when the function is gone: its mappings outlive it.
            name = function_name(self.stage, function)
            mappings = _mappings(self.lambda_client, name, arn_prefix + name)
            if mappings:
                self.mappings[function] = mappings
            entries = [e for e in (_mapping_entry(function, m) for m in mappings) if e]
            for name in sorted({e["name"] for e in entries}):
                same = [e for e in entries if e["name"] == name]
                if len(same) > 1:
                    self.conflicts.append(
                        f"{function_name(self.stage, function)} has {len(same)} "
                        f"{same[0]['resource_type'].split('_')[0]} mappings "
                        f"({', '.join(e['event_uuid'] for e in same)}) where Chalice keeps one")
                found.append(same[0])
        api = self._rest_api(recorded)
        if api:
            found.append(api)
        kept = [r for r in recorded if r.get("resource_type") not in REBUILT_TYPES]
        return found + kept

    def _rest_api(self, recorded: list[dict[str, Any]]) -> dict[str, Any] | None:
        from infra.package import function_name

        apigateway = self.session.client("apigateway")
        before = next((r for r in recorded if r.get("resource_type") == "rest_api"), None)
        if before and _found(apigateway.get_rest_api, restApiId=before["rest_api_id"]):
            return dict(before)
        handler = function_name(self.stage, policy.API_HANDLER)
        answer = _found(self.lambda_client.get_policy, FunctionName=handler)
        allowed = rest_apis_in_policy(json.loads(answer["Policy"])) if answer else []
        apis = [a for a in allowed if _found(apigateway.get_rest_api, restApiId=a)]
        if len(apis) > 1:
            self.conflicts.append(f"{handler} may be invoked by {len(apis)} REST APIs "
                                  f"({', '.join(apis)}) and no record says which is the stage's")
        if not apis:
            return None
        region = self.session.region_name
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        return {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": apis[0],
                "rest_api_url": f"https://{apis[0]}.execute-api.{region}.{suffix}/"
                                f"{self.api_stage()}/"}

    def refusal(self) -> str:
        from infra.package import function_name

        named = [f"{function_name(self.stage, f)}: {', '.join(describe_mapping(m) for m in ms)}"
                 for f, ms in self.mappings.items()]
        uuids = [m["UUID"] for ms in self.mappings.values() for m in ms]
        return (
            f"Stage {self.stage}'s app in AWS cannot be written as one Chalice record: "
            + "; ".join(self.conflicts) + ". A second mapping of a function delivers every "
            "message or stream record to it twice. Its event source mappings:\n  "
            + ("\n  ".join(named) or "(none)") + "\n"
            "Delete the ones that are not the stage's (a function's mappings go only with "
            "DeleteEventSourceMapping; deleting the function leaves them), e.g.\n  "
            + "\n  ".join(delete_command(u) for u in uuids)
            + "\nand a REST API that is not: aws apigateway delete-rest-api --rest-api-id <id>. "
            "Then run the command again.")


def rebuild(session: Any, stage: str, recorded: list[dict[str, Any]],
            api_stage: Callable[[], str]) -> list[dict[str, Any]]:
    """The record's resources as AWS has them (`recorded` names the REST API when it can
    no longer be told, and keeps resource types rebuilt here from nowhere). A DeployError,
    naming every mapping, when the stage cannot be one record."""
    rebuilding = _Rebuild(session, stage, api_stage)
    resources = rebuilding.resources(recorded)
    if rebuilding.conflicts:
        raise DeployError(rebuilding.refusal())
    return resources


def record(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole of .chalice/deployed/<stage>.json, as chalice writes it."""
    return {"resources": resources, **SCHEMA}


def changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """What differs, by resource name: '+name', '-name' or '~name'."""
    old = {r["name"]: r for r in before}
    new = {r["name"]: r for r in after}
    return ([f"+{n}" for n in new if n not in old] + [f"-{n}" for n in old if n not in new]
            + [f"~{n}" for n in new if n in old and new[n] != old[n]])
