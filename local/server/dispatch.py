"""Which moto backend serves a request, and which actions a response class has: each found once
instead of once per request.

moto 5.2.5's `DomainDispatcherApplication.get_backend_for_host` lists moto's package
directory (`backends.list_of_moto_modules()`: a listdir and an isdir per entry) and then
tries every backend's URL patterns, for every request, inside the dispatcher's one global
lock. Profiled under the 200-person crowd (bench/README.md) it was the local AWS's largest
own cost: the lock's wait and the directory scan. The answer depends on the host alone
(the modules and patterns do not change while the server runs): remembered per host here.

Then, for every request, moto's `BaseResponse.call_action` lists the response class's
functions (`method_names_from_class`: `inspect.getmembers`, which sorts every attribute of the
class and its bases) only to ask whether the action is one of them (`action in ...`, its one
use): ~1 s of CPU over `make check`. Here the answer is a container that asks the class about
that one name when asked: the same answer, always current (a patch may add an action to a class
that already served requests: `first_use` adds WAF's ListResourcesForWebACL at its first
request, and moto in-process may have served WAF in this process before).
"""
from __future__ import annotations

import inspect
from typing import Any

from local import moto_patches

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    known: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        try:
            return known[host]
        except KeyError:
            backend = original(self, host)
            if backend is not None:  # a host no backend serves is asked again (and printed)
                known[host] = backend
            return backend

    original = moto_patches.replace(DomainDispatcherApplication, "get_backend_for_host",
                                    get_backend_for_host, by=__name__)

    moto_patches.replace(responses, "method_names_from_class", _Functions, by=__name__)
    _installed = True


class _Functions:
    """The names of a class's functions, as `inspect.getmembers(owner, inspect.isfunction)`
    lists them, for `name in`: the one name looked up on the class when asked."""

    __slots__ = ("owner",)

    def __init__(self, owner: type) -> None:
        self.owner = owner

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self.owner, name, None))
