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
    """A page asking many times a second while the pipeline runs: one GetParameters and one
    tombstone check per names.MISS_SECONDS, and the name still shows as soon as it is put."""
    from chalicelib import users_table
    from chalicelib.aws import client as aws_client

    now = [1000.0]
    monkeypatch.setattr(names.cache(), "clock", lambda: now[0])
    reads, checks = [], []
    ssm = aws_client("ssm")
    hook = lambda **_: reads.append(1)  # noqa: E731
    ssm.meta.events.register("before-call.ssm.GetParameters", hook)
    real_is_deleted = users_table.is_deleted
    monkeypatch.setattr(users_table, "is_deleted",
                        lambda sub: checks.append(sub) or real_is_deleted(sub))
    try:
        sub = str(uuid.uuid4())
        token = make_token(sub=sub)
        for _ in range(5):
            assert client.http.get("/api/greeting/card",
                                   headers={"Authorization": token}).status_code == 202
        assert (len(reads), len(checks)) == (1, 1)
        now[0] += names.MISS_SECONDS
        assert client.http.get("/api/greeting", headers={"Authorization": token}).status_code == 202
        assert (len(reads), len(checks)) == (2, 2)
        names.put(sub, "Right Away")  # the process that writes the name forgets the miss
        ready = client.http.get("/api/greeting", headers={"Authorization": token})
        assert ready.status_code == 200 and ready.json_body["name"] == "Right Away"
        assert (len(reads), len(checks)) == (3, 2)
    finally:
        ssm.meta.events.unregister("before-call.ssm.GetParameters", hook)


def test_a_cached_name_is_read_again_once_it_is_a_few_seconds_old(stack, local_aws, monkeypatch):
    """names.get caches for CACHE_SECONDS, not forever: a name changed elsewhere (by the
    stream Lambda's container, not this one) shows soon after."""
    from types import SimpleNamespace

    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(names.cache(), "clock", lambda: clock.now)
    sub = str(uuid.uuid4())
    names.put(sub, "Ada")
    assert names.get(sub) == "Ada"
    ssm = local_aws.session().client("ssm", endpoint_url=local_aws.endpoint)
    ssm.put_parameter(Name=names.parameter_name(sub), Value="Ada Lovelace", Type="String",
                      Overwrite=True)  # another container's write: this one's cache is stale
    assert names.get(sub) == "Ada"  # cached
    clock.now += names.CACHE_SECONDS + 1
    assert names.get(sub) == "Ada Lovelace"


def test_names_asked_for_at_the_same_moment_are_read_together(stack):
    """30 people's greetings pending at once in one process (chalice local, `make run`): each
    gets its own name or none, every name is asked for once, in a few GetParameters calls."""
    import threading
    import time

    from chalicelib.aws import client as aws_client

    subs = [str(uuid.uuid4()) for _ in range(30)]
    for i, sub in enumerate(subs[:10]):
        names.put(sub, f"Person {i}")
    names.forget_cache()
    calls: list[list[str]] = []

    def slow_first(params, **_):  # the first read in flight a moment, so the others pile up
        calls.append(list(params["Names"]))
        if len(calls) == 1:
            time.sleep(0.2)

    ssm = aws_client("ssm")
    ssm.meta.events.register("provide-client-params.ssm.GetParameters", slow_first)
    answers: dict[str, str | None] = {}
    go = threading.Barrier(len(subs))

    def greet(sub: str) -> None:
        go.wait()
        answers[sub] = names.get(sub)

    try:
        threads = [threading.Thread(target=greet, args=(sub,)) for sub in subs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        ssm.meta.events.unregister("provide-client-params.ssm.GetParameters", slow_first)
    assert answers == {sub: (f"Person {i}" if i < 10 else None) for i, sub in enumerate(subs)}
    assert sorted(name for call in calls for name in call) == \
        sorted(names.parameter_name(sub) for sub in subs)
    assert len(calls) <= 6 and all(len(call) <= 10 for call in calls)


def test_a_pending_ask_is_held_and_answered_by_name_once_the_name_comes(client, make_token,
                                                                       monkeypatch):
    """A pending page asks a few times, not every second: the ask waits (greeting.HOLD_SECONDS)
    and answers 200 as soon as the name can be read, in the same request."""
    import threading

    from chalicelib import greeting
    from chalicelib.aws import client as aws_client
    from tests.helpers import eventually

    monkeypatch.setattr(greeting, "HOLD_SECONDS", 30.0)
    sub = str(uuid.uuid4())
    token = make_token(sub=sub)
    answers: list = []
    asking = threading.Thread(target=lambda: answers.append(
        client.http.get("/api/greeting", headers={"Authorization": token})))
    asking.start()
    eventually(lambda: names.next_read_in(sub) > 0, timeout=10)  # it read once and missed
    assert not answers  # held, not answered 202
    # The pipeline's write, as from another container: nothing here forgets the miss.
    aws_client("ssm").put_parameter(Name=names.parameter_name(sub), Value="Held Name",
                                    Type="String")
    asking.join(30)
    assert answers and answers[0].status_code == 200
    assert answers[0].json_body["name"] == "Held Name"


def test_a_held_ask_reads_at_most_once_a_miss_window_and_ends_pending(client, make_token,
                                                                      monkeypatch):
    from chalicelib import greeting
    from chalicelib.aws import client as aws_client

    monkeypatch.setattr(greeting, "HOLD_SECONDS", 2.5)
    reads: list[int] = []
    ssm = aws_client("ssm")
    hook = lambda **_: reads.append(1)  # noqa: E731
    ssm.meta.events.register("before-call.ssm.GetParameters", hook)
    try:
        token = make_token(sub=str(uuid.uuid4()))
        pending = client.http.get("/api/greeting/card", headers={"Authorization": token})
    finally:
        ssm.meta.events.unregister("before-call.ssm.GetParameters", hook)
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "1"
    # read at once, after MISS_FIRST_SECONDS, then once every MISS_SECONDS within the hold
    allowed = 2 + int((greeting.HOLD_SECONDS - names.MISS_FIRST_SECONDS) / names.MISS_SECONDS)
    assert 2 <= len(reads) <= allowed
