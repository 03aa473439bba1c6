"""Which moto backend serves a request, found once per host instead of once per request.

moto 5.2.5's `DomainDispatcherApplication.get_backend_for_host` lists moto's package
directory (`backends.list_of_moto_modules()`: a listdir and an isdir per entry) and then
tries every backend's URL patterns, for every request, inside the dispatcher's one global
lock. Profiled under the 200-person crowd (bench/README.md) it was the local AWS's largest
own cost: the lock's wait and the directory scan. The answer depends on the host alone
(the modules and patterns do not change while the server runs): remembered per host here.
"""
from __future__ import annotations

from typing import Any

from local import moto_patches

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
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
    _installed = True
