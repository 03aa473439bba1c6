"""File names (chalicelib/my_files.py): bad names and malformed uploads are refused,
good names are kept exactly, and no name or path trick leaves the person's own prefix.
"""
from __future__ import annotations

import json
import urllib.parse

import pytest

from chalicelib.file_names import file_name
from tests.helpers import post
from tests.stack.helpers import (FILES, assert_error, bearer, bucket_of, delete_file, listed_names,
                                 sub_of, upload_file)


pytestmark = pytest.mark.usefixtures("no_cached_credentials")


# --- Names and bodies that are refused ---------------------------------------------------------

BAD_NAMES = {
    "empty": "",
    "not text": 42,
    "missing": None,
    "slash": "a/b.txt",
    "backslash": "a\\b.txt",
    "dot dot": "..",
    "dot dot inside": "a..b",
    "dot": ".",
    "parent path": "../other/files/x.txt",
    "newline": "a\nb.txt",
    "tab": "a\tb.txt",
    "NUL": "a\x00b",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "right-to-left override": "invoice\u202etxt.exe",
    "leading space": " a.txt",
    "trailing space": "a.txt ",
    "too long": "a" * 256,
    "too long in UTF-8": "é" * 128,  # 256 bytes
    "lone surrogate": "\ud800.txt",
}


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_a_bad_file_name_is_refused_with_bad_file_name(client, register, case):
    person = register()
    raw = json.dumps({"name": BAD_NAMES[case], "content": "aGk="})  # \ud800 as a JSON escape
    assert_error(post(client, FILES, raw, bearer(person)), 400, "BadFileName")
    assert listed_names(client, person) == []


@pytest.mark.parametrize("name", ["a" * 255, "é" * 127, "日本" * 42, "file.tar.gz", ".profile",
                                  "name with spaces", "👩‍💻 emoji with ZWJ.txt", "%41 not %2F.txt",
                                  "C++ & <b>tags<b> 'quotes' \"double\".txt"])
def test_good_names_are_accepted_exactly(name):
    assert file_name(name) == name


@pytest.mark.parametrize("body, code", [
    (b"not json", "MalformedJSON"),
    (b"[1, 2]", "MalformedJSON"),
    (b"", "MalformedJSON"),
    (json.dumps({"name": "a.txt"}).encode(), "BadFileContent"),
    (json.dumps({"name": "a.txt", "content": 12}).encode(), "BadFileContent"),
    (json.dumps({"name": "a.txt", "content": "not base64!"}).encode(), "BadFileContent"),
    (json.dumps({"name": "a.txt", "content": "aGk"}).encode(), "BadFileContent"),  # no padding
])
def test_a_malformed_upload_is_refused_with_a_400(client, register, body, code):
    person = register()
    assert_error(post(client, FILES, body, bearer(person)), 400, code)


# --- Never outside the person's own prefix ----------------------------------------------------

def test_path_tricks_cannot_delete_another_persons_file(client, register):
    alice, mallory = register(), register()
    upload_file(client, alice, "secret.txt", b"alice's")
    alice_key = f"users/{sub_of(alice)}/files/secret.txt"
    for raw in [f"..%2F..%2F{sub_of(alice)}%2Ffiles%2Fsecret.txt",
                f"%2E%2E%2F%2E%2E%2F{sub_of(alice)}%2Ffiles%2Fsecret.txt",
                urllib.parse.quote(f"../../{sub_of(alice)}/files/secret.txt", safe=""),
                urllib.parse.quote("/" + alice_key, safe=""),
                "..%5C..%5Csecret.txt", "%2E%2E", "a%00b"]:
        response = delete_file(client, mallory, raw)
        assert_error(response, 400, "BadFileName")
    assert listed_names(client, alice) == ["secret.txt"]


def test_path_tricks_cannot_upload_into_another_persons_prefix(client, register, s3, stack):
    alice, mallory = register(), register()
    for name in [f"../../{sub_of(alice)}/files/planted.txt", f"../{sub_of(alice)}/profile.json"]:
        assert_error(upload_file(client, mallory, name, b"planted"), 400, "BadFileName")
    assert s3.list_objects_v2(Bucket=bucket_of(stack),
                              Prefix=f"users/{sub_of(alice)}/").get("KeyCount") == 0


def test_a_person_lists_only_their_own_files(client, register):
    alice, bob = register(), register()
    upload_file(client, alice, "alice.txt")
    upload_file(client, bob, "bob.txt")
    assert listed_names(client, alice) == ["alice.txt"]
    assert listed_names(client, bob) == ["bob.txt"]


# --- Whatever is stored under the prefix: listed, and deletable ---------------------------------

AROUND_THE_APP = ["a/b", "deep/er/c.txt", "line\tbreak", "..\\..\\evil.txt", "../x", "a..b"]


def test_a_file_written_around_the_app_under_any_name_is_listed_and_deletable(client, register,
                                                                             stack):
    """Nested keys and names the upload refuses count toward the limit (chalicelib/quota.py):
    the person sees them and can delete each one, by its exact name (%-encoded in the path)."""
    from tests.stack.helpers import Person, credentials_for

    tokens = register()
    me = Person(tokens, credentials_for(client, tokens), stack)
    upload_file(client, tokens, "plain.txt")
    for name in AROUND_THE_APP:
        me.s3.put_object(Bucket=me.bucket, Key=me.file(name), Body=name.encode())
    assert sorted(listed_names(client, tokens)) == sorted(AROUND_THE_APP + ["plain.txt"])
    for name in AROUND_THE_APP:
        response = delete_file(client, tokens, urllib.parse.quote(name, safe=""))
        assert response.status_code == 200, (name, response.body)
    assert listed_names(client, tokens) == ["plain.txt"]
    assert [o["Key"] for o in me.s3.list_objects_v2(
        Bucket=me.bucket, Prefix=me.file("")).get("Contents", [])] == [me.file("plain.txt")]


def test_a_refused_name_that_is_not_stored_is_still_refused(client, register):
    """Deleting by an exact stored name never widens what a name may reach: the key is the
    person's prefix plus that name, and IAM holds the prefix."""
    person = register()
    upload_file(client, person, "a.txt")
    for raw in ["a%2Fb", "..%2Fa.txt", "%2E%2E"]:
        assert_error(delete_file(client, person, raw), 400, "BadFileName")
    assert listed_names(client, person) == ["a.txt"]
