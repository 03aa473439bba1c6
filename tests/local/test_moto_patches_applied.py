"""The local AWS makes exactly the patches local/moto_patches/ lists, each once."""
from __future__ import annotations

import inspect
import sys
from typing import Any

from local import moto_patches


def test_the_local_aws_applies_every_listed_patch_and_no_other(local_aws):
    # Patches of CloudFormation, API Gateway and WAF are made at their first request (control.server
    # first_use: moto's CloudFormation is slow to import, and only `make deploy` asks it).
    session = local_aws.session()
    session.client("cloudformation", endpoint_url=local_aws.endpoint).describe_stacks()
    session.client("apigateway", endpoint_url=local_aws.endpoint).get_rest_apis()
    session.client("wafv2", endpoint_url=local_aws.endpoint).list_web_acls(Scope="REGIONAL")
    listed = [(patch.target, patch.by) for patch in moto_patches.PATCHES]
    assert len(set(listed)) == len(listed)
    assert set(moto_patches.applied) == set(listed)


def _function_of(value: Any) -> Any:
    if isinstance(value, (classmethod, staticmethod)):
        return value.__func__
    if isinstance(value, property):
        return value.fget
    return value


def _of_local(value: Any) -> bool:
    origin = getattr(_function_of(value), "__module__", None) or ""
    return origin == "local" or origin.startswith("local.")


def test_no_class_or_module_of_moto_holds_a_function_of_local_where_the_registry_says_none(
        local_aws):
    """A patch made around `replace()` (a plain setattr) is found too: every function or class
    of local/ found on a class of moto's, or in a module of moto's own names, is at a target the
    registry lists."""
    listed = {patch.target for patch in moto_patches.PATCHES}
    found = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto.") or module is None:
            continue
        found.update(moto_patches.target(module, attribute)
                     for attribute, value in list(vars(module).items()) if _of_local(value))
        for _, owner in inspect.getmembers(module, inspect.isclass):
            if owner.__module__ != name:
                continue
            found.update(moto_patches.target(owner, attribute)
                         for attribute, value in list(vars(owner).items()) if _of_local(value))
    # the search finds listed patches, of classes and of modules
    assert {"moto.core.responses.method_names_from_class", "moto.cognitoidp.models.jwk",
            "moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host",
            } <= found
    assert found <= listed, f"patched but not listed in local/moto_patches/: {found - listed}"
