"""Reading infra/template.yaml, the one definition of the app's AWS resources.

Used by `make deploy` (stack outputs -> the stage's environment variables) and
by the local AWS (which creates the same resources from the same file).
"""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

TEMPLATE_PATH = Path(__file__).resolve().parent / "template.yaml"

_SCALAR_TAGS = {"Ref": lambda v: {"Ref": v},
                "GetAtt": lambda v: {"Fn::GetAtt": v.split(".", 1)},
                "Sub": lambda v: {"Fn::Sub": v}}


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a dict of its own (the caller may change it): each text is parsed
    once, then copied (~1 ms against ~90 ms of YAML; make deploy, the local AWS and the
    tests read it many times)."""
    return copy.deepcopy(_parsed(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> dict[str, Any]:
    return loads(text)


def loads(text: str) -> dict[str, Any]:
    """A template's text (YAML with its short tags, or JSON) as a dict."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(tag: str):
        def build(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
            if isinstance(node, yaml.ScalarNode):
                value = loader.construct_scalar(node)
                return _SCALAR_TAGS[tag](value) if tag in _SCALAR_TAGS else {f"Fn::{tag}": value}
            if isinstance(node, yaml.SequenceNode):
                return {f"Fn::{tag}": loader.construct_sequence(node, deep=True)}
            return {f"Fn::{tag}": loader.construct_mapping(node, deep=True)}
        return build

    for tag in ("Ref", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not",
                "And", "Or", "FindInMap", "Base64", "ImportValue", "GetAZs"):
        Loader.add_constructor(f"!{tag}", construct(tag))
    return yaml.load(text, Loader=Loader)  # noqa: S506 (SafeLoader subclass)


def compact(text: str) -> str:
    """A template's text as CloudFormation is sent it by `make deploy`: the same template as
    JSON, without comments or indentation (infra/template.yaml's comments are for people and
    take a fifth of its bytes; CloudFormation takes at most 51,200 inline)."""
    import json

    return json.dumps(loads(text), separators=(",", ":"))


def env_name(output: str) -> str:
    """Stack output name -> the app's environment variable: UserPoolId -> USER_POOL_ID."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output).upper()
