"""The app's AWS clients and heavy libraries, made before the first request of `make run`.

In Lambda a container pays them on its first request; locally one process serves every
request, so paying them at start makes the first login after `make run` as quick as the
next ones (it took about 2.9 s, most of it boto3 building clients). Nothing here runs in
Lambda: app.py and chalicelib stay lazy.
"""
from __future__ import annotations

API_SERVICES = ("cognito-idp", "sns", "ssm")  # log in, its event, the greeting
HANDLER_SERVICES = ("sqs", "dynamodb", "s3", "ssm")  # the pipeline's Lambdas (the pump)


def modules() -> None:
    """Run every chalicelib module now. They load lazily on first use (chalicelib/__init__.py),
    and Python 3.11's LazyLoader is not safe when two threads make that first use at once
    (fixed in 3.12): Lambda runs one event per container at a time, the local servers many."""
    import pkgutil

    import chalicelib

    for module in pkgutil.iter_modules(chalicelib.__path__):
        getattr(chalicelib, module.name).__name__  # noqa: B018 - the access runs the module


def clients(services: tuple[str, ...]) -> None:
    from chalicelib.aws import client

    modules()
    for service in services:
        client(service)


def api() -> None:
    """chalice local's process: the clients its routes use, and the token check's libraries."""
    import jwt  # noqa: F401 - with cryptography, about 0.1 s on the first guarded request

    clients(API_SERVICES)
