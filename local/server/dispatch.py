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
class and its bases) to see whether the action is one: ~1 s of CPU over `make check`. Remembered
per class here: a class's functions change only when local/ patches it, and every patch is made
before its service's first request (local/local_aws.py: at start, or `first_use`).
"""
from __future__ import annotations

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

    actions: dict[type, list[str]] = {}

    def method_names_from_class(owner: type) -> list[str]:
        try:
            return actions[owner]
        except KeyError:
            actions[owner] = names = list_functions(owner)
            return names

    list_functions = moto_patches.replace(responses, "method_names_from_class",
                                          method_names_from_class, by=__name__)
    _installed = True
