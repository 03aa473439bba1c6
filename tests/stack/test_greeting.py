"""The greeting (/api/greeting and its HTML card) reads the name from Parameter Store,
and says "pending" (202) until the pipeline has put it there."""
from __future__ import annotations

import uuid

from chalicelib import names


def test_greeting_says_pending_until_the_name_is_in_parameter_store(client, make_token):
    sub = str(uuid.uuid4())
    token = make_token(sub=sub, name="Claimed Name")
    pending = client.http.get("/api/greeting", headers={"Authorization": token})
    assert pending.status_code == 202 and pending.json_body["status"] == "pending"
    assert pending.headers["Retry-After"] == "1"
    names.put(sub, "Stored Name")
    ready = client.http.get("/api/greeting", headers={"Authorization": token})
    assert ready.status_code == 200
    assert ready.json_body == {"message": "hello", "name": "Stored Name"}  # not the token's claim


def test_greeting_card_is_html_escaped_and_pending_is_202(client, make_token):
    sub = str(uuid.uuid4())
    token = make_token(sub=sub)
    pending = client.http.get("/api/greeting/card", headers={"Authorization": token})
    assert pending.status_code == 202 and "Getting your greeting ready" in pending.body.decode()
    names.put(sub, "<script>alert(1)</script> & Co")
    card = client.http.get("/api/greeting/card", headers={"Authorization": token}).body.decode()
    assert "Hello, &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in card
    assert "<script>" not in card


def test_pending_asks_read_parameter_store_once_per_miss_window(client, make_token, monkeypatch):
    """A page asking many times a second while the pipeline runs: one GetParameter and one
    tombstone check per names.MISS_SECONDS, and the name still shows as soon as it is put."""
    from types import SimpleNamespace

    from chalicelib import users_table
    from chalicelib.aws import client as aws_client

    now = [1000.0]
    monkeypatch.setattr(names, "time", SimpleNamespace(monotonic=lambda: now[0]))
    reads, checks = [], []
    ssm = aws_client("ssm")
    hook = lambda **_: reads.append(1)  # noqa: E731
    ssm.meta.events.register("before-call.ssm.GetParameter", hook)
    real_is_deleted = users_table.is_deleted
    monkeypatch.setattr(users_table, "is_deleted", lambda sub: checks.append(sub) or real_is_deleted(sub))
    try:
        sub = str(uuid.uuid4())
        token = make_token(sub=sub)
        for _ in range(5):
            assert client.http.get("/api/greeting/card", headers={"Authorization": token}).status_code == 202
        assert (len(reads), len(checks)) == (1, 1)
        now[0] += names.MISS_SECONDS
        assert client.http.get("/api/greeting", headers={"Authorization": token}).status_code == 202
        assert (len(reads), len(checks)) == (2, 2)
        names.put(sub, "Right Away")  # the process that writes the name forgets the miss
        ready = client.http.get("/api/greeting", headers={"Authorization": token})
        assert ready.status_code == 200 and ready.json_body["name"] == "Right Away"
        assert (len(reads), len(checks)) == (3, 2)
    finally:
        ssm.meta.events.unregister("before-call.ssm.GetParameter", hook)


def test_a_cached_name_is_read_again_once_it_is_a_few_seconds_old(stack, local_aws, monkeypatch):
    """names.get caches for CACHE_SECONDS, not forever: a name changed elsewhere (by the
    stream Lambda's container, not this one) shows soon after."""
    from types import SimpleNamespace

    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(names, "time", SimpleNamespace(monotonic=lambda: clock.now))
    sub = str(uuid.uuid4())
    names.put(sub, "Ada")
    assert names.get(sub) == "Ada"
    ssm = local_aws.session().client("ssm", endpoint_url=local_aws.endpoint)
    ssm.put_parameter(Name=names.parameter_name(sub), Value="Ada Lovelace", Type="String",
                      Overwrite=True)  # another container's write: this one's cache is stale
    assert names.get(sub) == "Ada"  # cached
    clock.now += names.CACHE_SECONDS + 1
    assert names.get(sub) == "Ada Lovelace"
