"""CloudFormation for the templates moto's own cannot create, so `make deploy` runs against
the local AWS (tests/run/test_deploy_rehearsal.py).

moto 5.2.5's CloudFormation knows no AWS::Cognito::*, AWS::SNS::Subscription, metric filter or
alarm of infra/template.yaml. A stack of a template with such a type (and only types made here)
is made by the interpreter `make run` builds its own stack with (language.py, resources.py's
creators, and the web ACL a deployed stage has), through the local AWS's own API: its outputs,
under the template's names, are the names and ARNs of resources that exist. Its parameters are
the template's defaults, the values given, and previous values on an update (UsePreviousValue).
An update changes what resource_changes.py can change in place, creates and deletes what a
condition turned on or off, and on anything else rolls back (UPDATE_ROLLBACK_COMPLETE, the
reason in the events); a create that fails deletes what it made (ROLLBACK_COMPLETE); a delete
keeps DeletionPolicy Retain and RetainExceptOnCreate. Each finishes before the call answers, so
the waiters' first DescribeStacks sees the end (no 10 s polls). The stack policy, tags, events,
DescribeStacks, ListStackResources and DeleteStack are moto's; so is a template moto can create.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from infra import template as infra_template
from local import moto_patches
from local.cloudformation import resource_changes, resources
from local.cloudformation.language import Stack as Interpreter

_local: dict[str, Any] = {"session": None, "endpoint": ""}  # the local AWS that calls itself
KEPT = ("Retain", "RetainExceptOnCreate")  # DeletionPolicy values a stack delete keeps
CREATORS = {**resources.CREATORS, **resources.DEPLOYED_ONLY}  # a deployed stage's resources


def install(session: Callable[[], Any]) -> None:
    """Patch moto's CreateStack in this process (once); `session()` makes the boto3 session
    (the local AWS's own keys) the interpreter calls the local AWS with. moto's CloudFormation
    imports every service's models (~1 s): the local AWS installs this at its first
    CloudFormation request (LocalAWS, control.server's first_use), not at its start."""
    from moto.cloudformation.models import CloudFormationBackend

    _local["session"] = session
    if moto_patches.is_applied(CloudFormationBackend, "create_stack", by=__name__):
        return
    original = CloudFormationBackend.create_stack

    def create_stack(self: Any, name: str, template: str, parameters: dict[str, Any],
                     *args: Any, **kwargs: Any) -> Any:
        if not ours(template):
            return original(self, name, template, parameters, *args, **kwargs)
        return _create(self, name, template, parameters, *args, **kwargs)

    moto_patches.replace(CloudFormationBackend, "create_stack", create_stack, by=__name__)


def serve_at(endpoint: str) -> None:
    """The URL of the local AWS this process serves (known once it listens)."""
    _local["endpoint"] = endpoint


def ours(template: str) -> bool:
    """A template with a type moto's CloudFormation lacks, and only types made here."""
    from moto.cloudformation.parsing import get_model_map

    try:
        types = {r.get("Type") for r in infra_template.loads(template)["Resources"].values()}
    except Exception:  # noqa: BLE001 - not a template we read: moto's answer
        return False
    known = set(CREATORS) | set(resources.NOT_ENFORCED_LOCALLY)
    return bool(types - set(get_model_map())) and types <= known


def _create(backend: Any, name: str, template: str, parameters: dict[str, Any],
            notification_arns: list[str] | None = None, tags: dict[str, str] | None = None,
            role_arn: str | None = None, enable_termination_protection: bool | None = False,
            timeout_in_mins: int | None = None, stack_policy_body: str | None = None) -> Any:
    from moto.cloudformation.exceptions import AlreadyExistsException
    from moto.cloudformation.utils import generate_stack_id

    if name in [stack.name for stack in backend.stacks.values()]:
        raise AlreadyExistsException(f"Stack {name} already exists")
    stack_id = generate_stack_id(name, backend.region_name, backend.account_id)
    stack = _stack_class()(
        stack_id=stack_id, name=name, template=template, parameters=parameters,
        account_id=backend.account_id, region_name=backend.region_name,
        notification_arns=notification_arns, tags=tags, role_arn=role_arn,
        cross_stack_resources=backend.exports,
        enable_termination_protection=enable_termination_protection,
        timeout_in_mins=timeout_in_mins, stack_policy_body=stack_policy_body)
    backend.stacks[stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.create_resources()
    return stack


class Made(NamedTuple):
    """A resource the stack made, as ListStackResources and DescribeStackResource read it."""
    logical_resource_id: str
    cf_resource_type: str
    physical_resource_id: str


class _LocalStack:
    """What moto's Stack does differently when the interpreter makes its resources (the
    class is _stack_class(): this before moto's Stack, whose __init__ and fields it uses)."""

    def _parse_template(self) -> None:
        self.template_dict = infra_template.loads(self.template)

    def _create_resource_map(self) -> Any:
        self.state: dict[str, Any] = {"refs": {}, "attrs": {}, "made": {}, "outputs": {}}
        return None

    def _create_output_map(self) -> Any:
        return None

    # --- what moto's responses read ------------------------------------------------------
    @property
    def parameter_list(self) -> list[dict[str, Any]]:
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()]

    @property
    def stack_parameters(self) -> dict[str, Any]:
        return dict(self.parameters)

    @property
    def stack_resources(self) -> list[Made]:
        return [Made(logical, kind, self.state["refs"][logical])
                for logical, (kind, _) in self.state["made"].items()]

    @property
    def outputs(self) -> list[dict[str, Any]] | None:
        described = self.template_dict.get("Outputs", {})
        return [{"OutputKey": key, "OutputValue": value,
                 "Description": described.get(key, {}).get("Description")}
                for key, value in self.state["outputs"].items()] or None

    @property
    def exports(self) -> list[Any]:
        return []

    # --- create, update, delete ----------------------------------------------------------
    def _interpreter(self) -> Interpreter:
        session = _local["session"]
        if session is None or not _local["endpoint"]:
            raise RuntimeError("local.cloudformation.stacks is not serving: LocalAWS.start() "
                               "sets where the local AWS answers")
        interpreter = Interpreter(session(), self.parameters.get("Stage", ""),
                                  self.region_name, _local["endpoint"], CREATORS,
                                  frozenset(resources.NOT_ENFORCED_LOCALLY) - set(CREATORS))
        interpreter.refs = dict(self.state["refs"])
        interpreter.attrs = dict(self.state["attrs"])
        interpreter.made = dict(self.state["made"])
        return interpreter

    def _keep(self, interpreter: Interpreter) -> None:
        self.state = {"refs": interpreter.refs, "attrs": interpreter.attrs,
                      "made": interpreter.made, "outputs": interpreter.outputs}
        self.parameters = dict(interpreter.parameters)

    def _event(self, logical: str, kind: str, status: str, reason: str = "") -> None:
        from moto.cloudformation.models import Event

        self.events.append(Event(
            stack_id=self.stack_id, stack_name=self.name, logical_resource_id=logical,
            physical_resource_id=self.state["refs"].get(logical, ""), resource_type=kind,
            resource_status=status, resource_status_reason=reason or None,
            resource_properties=None))

    def create_resources(self) -> None:
        from local.run.state import GATE

        self.status = "CREATE_IN_PROGRESS"
        interpreter = self._interpreter()
        logical = ""
        with GATE.paused():  # the interpreter's calls come back to this server
            try:
                interpreter.configure(self.template_dict, self.parameters)
                for logical in interpreter.wanted(self.template_dict):
                    interpreter.create_one(logical, self.template_dict["Resources"][logical])
                interpreter.resolve_outputs(self.template_dict)
            except Exception as exc:  # noqa: BLE001 - a failed create, as its events say
                kind = self.template_dict["Resources"].get(logical, {}).get("Type", "")
                self._event(logical, kind, "CREATE_FAILED", _reason(exc))
                self._keep(interpreter)
                self._remove(interpreter, kept=("Retain",))  # RetainExceptOnCreate goes
                self.status = "ROLLBACK_COMPLETE"
                self._add_stack_event("ROLLBACK_COMPLETE")
                return
        self._keep(interpreter)
        self.mark_creation_complete()

    def update(self, template: str, role_arn: str | None = None,
               parameters: dict[str, Any] | None = None,
               tags: dict[str, str] | None = None) -> None:
        from local.run.state import GATE

        self._add_stack_event("UPDATE_IN_PROGRESS", resource_status_reason="User Initiated")
        new = infra_template.loads(template)
        interpreter = self._interpreter()
        done: list[tuple[str, str, dict, dict | None]] = []  # what to undo: made or changed
        logical = ""
        with GATE.paused():
            try:
                interpreter.configure(new, parameters or self.parameters)
                wanted = interpreter.wanted(new)
                for logical in wanted:
                    resource = new["Resources"][logical]
                    if logical not in interpreter.made:
                        interpreter.create_one(logical, resource)
                        done.append((logical, "", {}, None))
                        continue
                    kind, old = interpreter.made[logical]
                    props = interpreter.resolve(resource.get("Properties", {}))
                    if props != old:
                        resource_changes.update(interpreter, kind,
                                                interpreter.refs[logical], old, props)
                        interpreter.made[logical] = (kind, props)
                        done.append((logical, kind, props, old))
                interpreter.resolve_outputs(new)
            except Exception as exc:  # noqa: BLE001 - a failed update, as its events say
                kind = new["Resources"].get(logical, {}).get("Type", "")
                self._event(logical, kind, "UPDATE_FAILED", _reason(exc))
                self._roll_back(interpreter, done)
                self.status = "UPDATE_ROLLBACK_COMPLETE"
                self._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
                return  # self.state is as it was before
            # The clean-up, once the update succeeded: what a condition turned off goes.
            for gone in [n for n in reversed(interpreter.made) if n not in wanted]:
                self._delete_one(interpreter, gone)
        self.template, self.template_dict = template, new
        self._keep(interpreter)
        self.role_arn = role_arn
        if tags is not None:
            self.tags = tags
        self.status = "UPDATE_COMPLETE"
        self._add_stack_event("UPDATE_COMPLETE")

    def _roll_back(self, interpreter: Interpreter,
                   done: list[tuple[str, str, dict, dict | None]]) -> None:
        """Undo a failed update's steps, last first: what it made goes, what it changed gets
        its old properties back."""
        for logical, kind, new, old in reversed(done):
            if old is None:
                self._delete_one(interpreter, logical)
            else:
                resource_changes.update(interpreter, kind, interpreter.refs[logical], new, old)
                self._event(logical, kind, "UPDATE_COMPLETE", "rolled back")

    def delete(self) -> None:
        from local.run.state import GATE

        self._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
        interpreter = self._interpreter()
        with GATE.paused():
            self._remove(interpreter, kept=KEPT)
        self._keep(interpreter)
        self.status = "DELETE_COMPLETE"
        self._add_stack_event("DELETE_COMPLETE")

    def _remove(self, interpreter: Interpreter, kept: tuple[str, ...]) -> None:
        """Every resource made, in reverse order, but those whose DeletionPolicy is in
        `kept` (they stay, and leave the stack)."""
        for logical in list(reversed(interpreter.made)):
            policy = self.template_dict["Resources"].get(logical, {}).get("DeletionPolicy")
            if policy in kept:
                kind, _ = interpreter.made.pop(logical)
                self._event(logical, kind, "DELETE_SKIPPED")
                continue
            self._delete_one(interpreter, logical)

    def _delete_one(self, interpreter: Interpreter, logical: str) -> None:
        kind, props = interpreter.made[logical]
        resource_changes.DELETERS[kind](interpreter, interpreter.refs[logical], props)
        del interpreter.made[logical]
        self._event(logical, kind, "DELETE_COMPLETE")


_BUILT: dict[str, type] = {}


def _stack_class() -> type:
    """moto's Stack with _LocalStack's ways, named Stack (moto's serializer finds a stack's
    fields by its class's name) and found as local.cloudformation.stacks.Stack (a `make run`
    snapshot holding one is read back through the module's __getattr__)."""
    if "Stack" not in _BUILT:
        from moto.cloudformation.models import Stack as MotoStack

        _BUILT["Stack"] = type("Stack", (_LocalStack, MotoStack),
                               {"__module__": __name__, "__qualname__": "Stack"})
    return _BUILT["Stack"]


def __getattr__(name: str) -> Any:
    if name == "Stack":
        return _stack_class()
    raise AttributeError(name)


def _reason(exc: Exception) -> str:
    from infra.errors import aws_error

    code, message = aws_error(exc)
    return f"{code}: {message}" if code else f"{type(exc).__name__}: {exc}"
