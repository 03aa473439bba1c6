"""The template's language, interpreted for the local AWS: parameters, conditions,
intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::If, ...), and the order in which
resources are created (each after the resources it refers to, as CloudFormation does).
What creates each resource type is local/cloudformation/resources.py's.
"""
from __future__ import annotations

import re
from typing import AbstractSet as Set
from typing import Any, Callable, Mapping

ACCOUNT_ID = "123456789012"  # moto's default account
Creator = Callable[["Stack", dict], "tuple[str, dict]"]


class Stack:
    """The resources of one stage, created in the local AWS."""

    def __init__(self, session: Any, stage: str, region: str, endpoint_url: str,
                 creators: Mapping[str, Creator], skipped: Set[str] = frozenset()) -> None:
        self._session = session
        self._creators = creators  # resource type -> what creates one (resources.py)
        self._skipped = skipped  # resource types not created locally
        self._endpoint_url = endpoint_url
        self.stage = stage
        self.region = region
        self.refs: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self.outputs: dict[str, str] = {}
        self.current = ""  # the logical name being created
        self.parameters: dict[str, str] = {}
        self.conditions: dict[str, bool] = {}
        # What was created, in order: logical name -> (type, resolved properties).
        self.made: dict[str, tuple[str, dict[str, Any]]] = {}

    def client(self, service: str) -> Any:
        return self._session.client(service, region_name=self.region,
                                    endpoint_url=self._endpoint_url)

    # --- intrinsic functions ------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::If"}:
            condition, when_true, when_false = value["Fn::If"]
            chosen = self.resolve(when_true if self.conditions[condition] else when_false)
            return _drop_no_value(chosen)
        if len(value) == 1 and (set(value) & {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"}
                                or isinstance(value.get("Condition"), str)):
            return self._condition(value)  # not an IAM statement's "Condition" block
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical, attribute = value["Fn::GetAtt"]
            return self.attrs[logical][attribute]
        if set(value) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), value["Fn::Sub"])
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}  # a property left out

    def _condition(self, value: dict[str, Any]) -> bool:
        (kind, args), = value.items()
        if kind == "Condition":
            return self.conditions[args]
        if kind == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return left == right
        values = [self.resolve(a) for a in args]
        return {"Fn::Not": lambda: not values[0], "Fn::And": lambda: all(values),
                "Fn::Or": lambda: any(values)}[kind]()

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::AccountId": ACCOUNT_ID, "AWS::Region": self.region,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                  "AWS::NoValue": _NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        return self.parameters[name] if name in self.parameters else self.refs[name]

    def _sub(self, expression: str) -> str:
        if expression.startswith("!"):
            return "${" + expression[1:] + "}"
        if "." in expression:
            logical, attribute = expression.split(".", 1)
            return self.attrs[logical][attribute]
        return self._ref(expression)

    # --- resources ------------------------------------------------------------------
    def create(self, template: dict[str, Any],
               parameters: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every resource of the template, in order; its outputs. Each parameter takes its
        default (the template's defaults are the local choices: no alarm email, Cognito's own
        sender) unless `parameters` gives it; the stage is this stack's."""
        self.configure(template, parameters)
        for logical in self.wanted(template):
            self.create_one(logical, template["Resources"][logical])
        return self.resolve_outputs(template)

    def configure(self, template: dict[str, Any], parameters: Mapping[str, str] | None) -> None:
        """The parameters' values and the conditions they decide."""
        self.parameters = {name: p.get("Default", "")
                           for name, p in template.get("Parameters", {}).items()}
        self.parameters.update(parameters or {})
        self.parameters["Stage"] = self.stage
        self.conditions = {}
        for name, condition in template.get("Conditions", {}).items():
            self.conditions[name] = self._condition(condition)

    def wanted(self, template: dict[str, Any]) -> list[str]:
        """The logical names created here, in creation order: not a type skipped locally nor
        one whose condition is false."""
        resources = template["Resources"]
        return [logical for logical in creation_order(resources)
                if resources[logical]["Type"] not in self._skipped
                and ("Condition" not in resources[logical]
                     or self.conditions[resources[logical]["Condition"]])]

    def create_one(self, logical: str, resource: dict[str, Any]) -> None:
        kind = resource["Type"]
        props = self.resolve(resource.get("Properties", {}))
        self.current = logical
        ref, attrs = self._creators[kind](self, props)
        self.refs[logical] = ref
        self.attrs[logical] = attrs
        self.made[logical] = (kind, props)

    def resolve_outputs(self, template: dict[str, Any]) -> dict[str, str]:
        self.outputs = {name: self.resolve(out["Value"])
                        for name, out in template.get("Outputs", {}).items()
                        if "Condition" not in out or self.conditions[out["Condition"]]}
        return self.outputs


def _references(value: Any) -> set[str]:
    """The logical names a property value refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"}:
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        return {value["Fn::GetAtt"][0]}
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return {m.group(1).split(".", 1)[0]
                for m in re.finditer(r"\$\{([^!}][^}]*)\}", value["Fn::Sub"])}
    return set().union(*(_references(v) for v in value.values())) if value else set()


def creation_order(resources: dict[str, Any]) -> list[str]:
    """The logical names, each after the resources it refers to; otherwise in file order."""
    pending = {name: _references(r.get("Properties", {})) & set(resources)
               for name, r in resources.items()}
    order: list[str] = []
    while pending:
        ready = next((n for n, deps in pending.items() if deps <= set(order)), None)
        if ready is None:
            raise ValueError(f"circular references among {sorted(pending)}")
        order.append(ready)
        del pending[ready]
    return order


_NO_VALUE = object()  # AWS::NoValue: the property is left out


def _drop_no_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_no_value(v) for k, v in value.items() if v is not _NO_VALUE}
    return value
