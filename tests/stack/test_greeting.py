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


def test_a_cached_name_is_read_again_once_it_is_a_few_seconds_old(stack, monkeypatch):
    """names.get caches for CACHE_SECONDS, not forever: a changed name shows soon after."""
    from types import SimpleNamespace

    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(names, "time", SimpleNamespace(monotonic=lambda: clock.now))
    sub = str(uuid.uuid4())
    names.put(sub, "Ada")
    assert names.get(sub) == "Ada"
    names.put(sub, "Ada Lovelace")
    assert names.get(sub) == "Ada"  # cached
    clock.now += names.CACHE_SECONDS + 1
    assert names.get(sub) == "Ada Lovelace"
