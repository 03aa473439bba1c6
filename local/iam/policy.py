"""Evaluate IAM policy documents the way IAM does, for the local AWS (local/iam/).

moto's own matcher turns `*` into a regex and stops there: no policy variables
(`${aws:PrincipalTag/sub}`), no conditions on the request (`s3:prefix`), no `?`.
This evaluator covers what the app's policies use and fails closed on the rest:

- Action / NotAction (case-insensitive wildcards), Resource / NotResource
  (case-sensitive wildcards), Principal for trust policies;
- policy variables in resources and condition values, `${aws:PrincipalTag/<key>}`
  and any other key of the request context, plus `${*}`, `${?}`, `${$}`; a
  variable with no value makes that resource or value match nothing;
- conditions String*, Bool, Null, Arn*, with ForAnyValue:/ForAllValues: and
  ...IfExists. An operator it does not know never grants (an Allow does not
  apply) and never lets a Deny go (the Deny applies);
- an explicit Deny wins, then an Allow; otherwise the implicit deny.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping

ALLOW, DENY, NO_MATCH = "allow", "deny", "no match"

Context = Mapping[str, Any]  # condition key -> str or list of str


def decide(documents: Iterable[Any], action: str, resource: str, context: Context,
           principal: Mapping[str, str] | None = None) -> str:
    """ALLOW, DENY (explicit) or NO_MATCH (implicit deny) across the documents."""
    allowed = False
    for document in documents:
        doc = json.loads(document) if isinstance(document, str) else document
        statements = doc.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if _applies(statement, action, resource, context, principal):
                if statement.get("Effect") == "Deny":
                    return DENY
                allowed = allowed or statement.get("Effect") == "Allow"
    return ALLOW if allowed else NO_MATCH


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _lookup(context: Context, key: str) -> list[str] | None:
    folded = key.casefold()
    for name, value in context.items():
        if name.casefold() == folded:
            return [str(v) for v in _as_list(value)]
    return None


_TOKEN = re.compile(r"\$\{([^}]*)\}|\*|\?|.", re.S)
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def pattern(text: str, context: Context, wildcards: bool = True) -> re.Pattern[str] | None:
    """A regex for a policy string; None when a policy variable in it has no value."""
    parts: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if match.group(1) is not None:
            name = match.group(1)
            if name in _SPECIAL:
                parts.append(re.escape(_SPECIAL[name]))
                continue
            values = _lookup(context, name)
            if not values or len(values) != 1:
                return None
            parts.append(re.escape(values[0]))
        elif wildcards and token == "*":
            parts.append(".*")
        elif wildcards and token == "?":
            parts.append(".")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.S)


def _matches(patterns: Any, value: str, context: Context, ignore_case: bool = False,
             wildcards: bool = True) -> bool:
    for text in _as_list(patterns):
        compiled = pattern(str(text), context, wildcards)
        if compiled is None:
            continue
        if re.fullmatch(compiled.pattern, value, re.S | (re.I if ignore_case else 0)):
            return True
    return False


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context,
             principal: Mapping[str, str] | None) -> bool:
    if "NotAction" in statement:
        if _matches(statement["NotAction"], action, {}, ignore_case=True):
            return False
    elif not _matches(statement.get("Action", []), action, {}, ignore_case=True):
        return False
    if "NotResource" in statement:
        if _matches(statement["NotResource"], resource, context):
            return False
    elif "Resource" in statement and not _matches(statement["Resource"], resource, context):
        return False
    if principal is not None and not _principal_matches(statement.get("Principal"), principal):
        return False
    return _conditions_hold(statement.get("Condition", {}), context,
                            deny=statement.get("Effect") == "Deny")


def _principal_matches(expected: Any, principal: Mapping[str, str]) -> bool:
    if expected == "*":
        return True
    if not isinstance(expected, Mapping):
        return False
    return any(value in _as_list(expected.get(kind, []))
               for kind, value in principal.items())


_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
            "ArnNotLike"}


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Context,
                     deny: bool) -> bool:
    for raw_operator, tests in conditions.items():
        operator, set_op, if_exists = raw_operator, "", False
        if ":" in operator:
            set_op, operator = operator.split(":", 1)
        if operator.endswith("IfExists"):
            operator, if_exists = operator[: -len("IfExists")], True
        compare = _COMPARE.get(operator)
        if compare is None or set_op not in ("", "ForAnyValue", "ForAllValues"):
            return deny  # unknown: never grants, never lets a Deny go
        for key, expected in tests.items():
            actual = _lookup(context, key)
            if operator == "Null":
                if (actual is None) != (str(_as_list(expected)[0]).lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists or operator in _NEGATED or set_op == "ForAllValues":
                    continue
                return False
            if not _holds(compare, operator, set_op, actual, _as_list(expected), context):
                return False
    return True


def _holds(compare: Any, operator: str, set_op: str, actual: list[str], expected: list[Any],
           context: Context) -> bool:
    def one(value: str) -> bool:
        hit = any(compare(value, str(e), context) for e in expected)
        return not hit if operator in _NEGATED else hit

    if set_op == "ForAllValues":
        return all(one(v) for v in actual)
    return any(one(v) for v in actual)


def _equals(value: str, expected: str, context: Context) -> bool:
    return _matches(expected, value, context, wildcards=False)


def _equals_ignore_case(value: str, expected: str, context: Context) -> bool:
    return _matches(expected, value, context, ignore_case=True, wildcards=False)


def _like(value: str, expected: str, context: Context) -> bool:
    return _matches(expected, value, context)


def _bool(value: str, expected: str, context: Context) -> bool:
    return value.lower() == expected.lower()


_COMPARE = {
    "StringEquals": _equals, "StringNotEquals": _equals,
    "StringEqualsIgnoreCase": _equals_ignore_case, "StringNotEqualsIgnoreCase": _equals_ignore_case,
    "StringLike": _like, "StringNotLike": _like,
    "ArnEquals": _like, "ArnLike": _like, "ArnNotEquals": _like, "ArnNotLike": _like,
    "Bool": _bool, "Null": _bool,
}
