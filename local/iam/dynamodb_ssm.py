"""DynamoDB and Parameter Store requests as IAM authorises them: the resource ARNs a
request touches and its `dynamodb:LeadingKeys`, for local/iam/enforcement.py.

moto authorises these services against "*" and knows no `dynamodb:LeadingKeys`. AWS
checks the table's ARN (and its indexes') and, for an item request, LeadingKeys: the
partition key values the request touches. A request that names no key (Scan, a Query
without the key) has no LeadingKeys at all, and ForAllValues over no values holds
(as IAM documents): the action itself must not be granted then.
"""
from __future__ import annotations

from typing import Any, Mapping


def checks(response: Any, raw_body: bytes, session: Any, action: str,
           context: dict[str, Any]) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs a DynamoDB or SSM request is authorised as, with
    `dynamodb:LeadingKeys` put in `context`; [] for any other service."""
    if response.service_name not in ("dynamodb", "ssm"):
        return []
    import json

    try:
        body = json.loads(raw_body or b"{}")
    except ValueError:
        body = {}
    region = getattr(response, "region", None) or "us-east-1"
    arn = f"arn:{session.partition}:{response.service_name}:{region}:{response.current_account}:"
    if response.service_name == "ssm":
        names = body.get("Names") or [body.get("Name") or body.get("Path") or ""]
        return [(action, f"{arn}parameter/{str(n).lstrip('/')}") for n in names] \
            if any(names) else []
    tables = list((body.get("RequestItems") or {}).keys()) or [body.get("TableName") or ""]
    if not any(tables):
        return []
    leading = [v for table in tables for v in _leading_keys(response, table, body)]
    if leading:
        context["dynamodb:LeadingKeys"] = leading
    index = body.get("IndexName")
    return [(action, f"{arn}table/{t}" + (f"/index/{index}" if index else "")) for t in tables]


def _leading_keys(response: Any, table: str, body: Mapping[str, Any]) -> list[str]:
    """The partition key values of `table` that the request names (its Key, Item, the
    items of a batch, or a Query's key condition)."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        backend = dynamodb_backends[response.current_account][response.region]
        hash_key = backend.get_table(table).hash_key_attr
    except Exception:  # no such table: AWS refuses before existence matters
        return []
    items: list[Any] = [body.get("Key"), body.get("Item")]
    batch = (body.get("RequestItems") or {}).get(table)
    if isinstance(batch, Mapping):  # BatchGetItem
        items += list(batch.get("Keys") or [])
    elif isinstance(batch, list):  # BatchWriteItem
        for request in batch:
            for kind in ("PutRequest", "DeleteRequest"):
                part = (request or {}).get(kind) or {}
                items += [part.get("Item"), part.get("Key")]
    values = [_scalar(item[hash_key]) for item in items
              if isinstance(item, Mapping) and hash_key in item]
    condition = body.get("KeyConditionExpression")
    if condition:  # Query: `<key> = :value`, the key possibly a #name
        names = body.get("ExpressionAttributeNames") or {}
        for left, right in _equalities(condition):
            if names.get(left, left) == hash_key and right in (
                    body.get("ExpressionAttributeValues") or {}):
                values.append(_scalar(body["ExpressionAttributeValues"][right]))
    for name, test in (body.get("KeyConditions") or {}).items():
        if name == hash_key:
            values += [_scalar(v) for v in test.get("AttributeValueList") or []]
    return values


def _equalities(expression: str) -> list[tuple[str, str]]:
    import re

    return [(a, b) for a, b in re.findall(r"([#\w]+)\s*=\s*(:\w+)", expression)] + \
        [(b, a) for a, b in re.findall(r"(:\w+)\s*=\s*([#\w]+)", expression)]


def _scalar(value: Any) -> str:
    """A DynamoDB attribute value ({"S": "x"}) as the string IAM compares."""
    if isinstance(value, Mapping) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)
