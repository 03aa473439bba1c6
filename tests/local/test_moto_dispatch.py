"""The local AWS finds a request's moto backend once per host (local.server.dispatch): moto
listed its package directory for every request, inside the dispatcher's global lock. And it asks
a response class for the one action of a request instead of listing all its functions, with the
same answer as moto's listing, current when a patch adds an action later."""
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


def test_a_response_classs_actions_answer_as_motos_listing_and_stay_current(local_aws):
    import inspect

    from moto.core import responses
    from moto.wafv2.responses import WAFV2Response

    listed = {name for name, _ in inspect.getmembers(WAFV2Response, inspect.isfunction)}
    actions = responses.method_names_from_class(WAFV2Response)
    for name in {*dir(WAFV2Response), "create_web_acl", "no_such_action", "__init__"}:
        assert (name in actions) == (name in listed), name

    class Service(responses.BaseResponse):
        def served(self) -> str:
            return "{}"

    assert "served" in responses.method_names_from_class(Service)
    assert "added_later" not in responses.method_names_from_class(Service)
    Service.added_later = Service.served  # as a first_use patch adds an action moto lacks
    assert "added_later" in responses.method_names_from_class(Service)
