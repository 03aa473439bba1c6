"""The local AWS finds a request's moto backend once per host (local.server.dispatch): moto
listed its package directory for every request, inside the dispatcher's global lock."""
from __future__ import annotations

from moto import backends


def test_requests_to_a_known_host_do_not_list_motos_modules_again(stack, local_aws, monkeypatch):
    ssm = local_aws.session().client("ssm", endpoint_url=local_aws.endpoint)
    ssm.describe_parameters()  # the host is known from here on
    listed = []
    real = backends.list_of_moto_modules
    monkeypatch.setattr(backends, "list_of_moto_modules", lambda: listed.append(1) or real())

    answers = [ssm.describe_parameters()["ResponseMetadata"]["HTTPStatusCode"] for _ in range(5)]

    assert answers == [200] * 5
    assert listed == []
