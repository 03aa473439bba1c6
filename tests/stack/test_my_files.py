"""A person's files and profile document, reached with the person's own credentials
(chalicelib/my_files.py, the "Your files" routes of app.py), against the local AWS:
listing, uploading, downloading and deleting, the limits, the profile document, and
the section of the account page. Names: tests/stack/test_my_files_names.py; signed as the
person: tests/stack/test_my_files_credentials.py; S3's refusals:
tests/stack/test_my_files_s3_errors.py.
"""
from __future__ import annotations

import json
import unicodedata
import urllib.parse
from pathlib import Path

import pytest

from chalicelib import my_files, pages
from chalicelib.inputs import MAX_FILE_BYTES, MAX_UPLOAD_BODY_BYTES, FileTooLarge
from chalicelib.my_files import MAX_FILES
from tests.helpers import post
from tests.stack.helpers import (FILES, PROFILE, assert_error, bearer, bucket_of, delete_file,
                                 fetch_link, listed_files, listed_names, sub_of, upload_file)


pytestmark = pytest.mark.usefixtures("no_cached_credentials")


# --- Listing, uploading, downloading, deleting --------------------------------------------

def test_a_new_person_has_no_files_and_is_told_the_limits(client, register):
    body = listed_files(client, register())
    assert body["files"] == []
    assert body["limits"] == {"maxFileBytes": 1024 * 1024, "maxFileSize": "1 MiB",
                              "maxFiles": 20, "maxNameBytes": 255}
    assert 0 < body["expiresIn"] <= my_files.URL_TTL_SECONDS


def test_an_uploaded_file_is_stored_under_the_persons_prefix_and_listed(client, register, s3,
                                                                        stack):
    person = register()
    data = bytes(range(256)) * 4  # binary, every byte value
    response = upload_file(client, person, "report.bin", data)
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["file"]["name"] == "report.bin"

    stored = s3.get_object(Bucket=bucket_of(stack), Key=f"users/{sub_of(person)}/files/report.bin")
    assert stored["Body"].read() == data
    [item] = listed_files(client, person)["files"]
    assert (item["name"], item["size"]) == ("report.bin", len(data))
    assert item["lastModified"]


def test_the_link_of_a_file_downloads_the_same_bytes_as_an_attachment(client, register):
    person = register()
    data = b"\x00\x01 binary \xff\xfe" * 100
    assert upload_file(client, person, "Résumé 2026 (final).pdf", data).status_code == 201

    [item] = listed_files(client, person)["files"]
    status, headers, body = fetch_link(item["url"])
    assert status == 200 and body == data
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%202026%20%28final%29.pdf" in disposition
    assert 'filename="R_sum_ 2026 (final).pdf"' in disposition  # the ASCII fallback


def test_links_point_at_the_local_aws_and_say_how_long_they_last(client, register, stack):
    person = register()
    upload_file(client, person, "a.txt")
    body = listed_files(client, person)
    url = urllib.parse.urlsplit(body["files"][0]["url"])
    assert f"{url.scheme}://{url.netloc}" == stack["AWS_ENDPOINT_URL"]
    query = urllib.parse.parse_qs(url.query)
    assert int(query["X-Amz-Expires"][0]) == body["expiresIn"] <= my_files.URL_TTL_SECONDS


def test_the_upload_answer_carries_a_working_link(client, register):
    person = register()
    response = upload_file(client, person, "notes.txt", b"remember the milk")
    status, _, body = fetch_link(json.loads(response.body)["file"]["url"])
    assert (status, body) == (200, b"remember the milk")


def test_files_are_listed_by_name_ignoring_case(client, register):
    person = register()
    for name in ["b.txt", "C.txt", "a.txt", "Ä.txt"]:
        assert upload_file(client, person, name).status_code == 201
    assert listed_names(client, person) == ["a.txt", "b.txt", "C.txt", "Ä.txt"]


def test_a_deleted_file_is_gone_from_the_list_and_from_s3(client, register, s3, stack):
    person = register()
    upload_file(client, person, "keep.txt")
    upload_file(client, person, "drop me.txt")
    response = delete_file(client, person, urllib.parse.quote("drop me.txt", safe=""))
    assert response.status_code == 200, response.body
    assert listed_names(client, person) == ["keep.txt"]
    keys = [item["Key"] for item in s3.list_objects_v2(
        Bucket=bucket_of(stack), Prefix=f"users/{sub_of(person)}/").get("Contents", [])]
    assert keys == [f"users/{sub_of(person)}/files/keep.txt"]


def test_deleting_a_file_that_is_not_there_is_fine(client, register):
    person = register()
    assert delete_file(client, person, "never-uploaded.txt").status_code == 200


def test_a_unicode_name_round_trips_through_upload_list_and_delete(client, register):
    person = register()
    name = "日本語 ファイル 🎉 naïve.txt"
    assert upload_file(client, person, name).status_code == 201
    assert listed_names(client, person) == [name]
    assert delete_file(client, person, urllib.parse.quote(name, safe="")).status_code == 200
    assert listed_names(client, person) == []


def test_a_name_is_stored_in_nfc_so_the_same_name_typed_two_ways_is_one_file(client, register):
    person = register()
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert upload_file(client, person, decomposed).status_code == 201
    assert listed_names(client, person) == ["café.txt"]  # composed
    assert_error(upload_file(client, person, "café.txt"), 409, "FileExists")
    assert delete_file(client, person, urllib.parse.quote(decomposed, safe="")).status_code == 200
    assert listed_names(client, person) == []


def test_an_empty_file_is_a_file(client, register):
    person = register()
    assert upload_file(client, person, "empty.txt", b"").status_code == 201
    assert listed_files(client, person)["files"][0]["size"] == 0


# --- Limits -------------------------------------------------------------------------------------

def test_a_file_of_exactly_1_mib_is_accepted(client, register):
    person = register()
    response = upload_file(client, person, "max.bin", b"x" * MAX_FILE_BYTES)
    assert response.status_code == 201, response.body[:300]


def test_a_file_over_1_mib_is_refused_with_file_too_large(client, register):
    person = register()
    message = assert_error(upload_file(client, person, "big.bin", b"x" * (MAX_FILE_BYTES + 1)),
                       413, "FileTooLarge")
    assert message == "The file “big.bin” is larger than 1 MiB, the most one file may be."
    assert listed_names(client, person) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_parsed(client, register):
    person = register()
    body = b'{"name": "huge.bin", "content": "' + b"A" * (3 * MAX_FILE_BYTES) + b'"}'
    message = assert_error(post(client, FILES, body, bearer(person)), 413, "PayloadTooLarge")
    assert str(MAX_UPLOAD_BODY_BYTES) in message  # the route's own limit, not 16 KiB
    with pytest.raises(FileTooLarge):  # and my_files refuses it by itself too
        my_files.upload(my_files.Person("sub", "token"), body)


def test_the_21st_file_is_refused_with_too_many_files(client, register):
    person = register()
    for number in range(MAX_FILES):
        assert upload_file(client, person, f"file {number:02}.txt").status_code == 201
    message = assert_error(upload_file(client, person, "one more.txt"), 409, "TooManyFiles")
    assert "20 files" in message and "Delete one" in message
    assert len(listed_names(client, person)) == MAX_FILES
    # Deleting one makes room again.
    assert delete_file(client, person, "file%2000.txt").status_code == 200
    assert upload_file(client, person, "one more.txt").status_code == 201


def test_uploading_a_name_that_exists_is_refused_and_the_first_file_kept(client, register):
    person = register()
    upload_file(client, person, "report.txt", b"first")
    message = assert_error(upload_file(client, person, "report.txt", b"second"), 409, "FileExists")
    assert "report.txt" in message and "Delete it first" in message
    [item] = listed_files(client, person)["files"]
    assert fetch_link(item["url"])[2] == b"first"


def test_an_upload_racing_another_with_the_same_name_is_refused_by_s3_itself(
        client, register, monkeypatch):
    """The listing saw no such file, but one arrived meanwhile: the conditional write says so."""
    person = register()
    upload_file(client, person, "race.txt", b"won")
    monkeypatch.setattr(my_files, "_list", lambda s3, person: [])  # it looked before the winner
    assert_error(upload_file(client, person, "race.txt", b"lost"), 409, "FileExists")
    monkeypatch.undo()
    [item] = listed_files(client, person)["files"]
    assert fetch_link(item["url"])[2] == b"won"


# --- The profile document -------------------------------------------------------------------------

def test_the_profile_document_is_404_until_the_pipeline_has_archived_it(client, register):
    person = register()
    message = assert_error(client.http.get(PROFILE, headers=bearer(person)), 404, "NotArchivedYet")
    assert "not archived yet" in message


def test_the_archived_profile_document_has_a_link_that_downloads_it(client, register, s3,
                                                                    stack):
    person = register()
    document = json.dumps({"sub": sub_of(person), "name": "Ada Lovelace"}).encode()
    s3.put_object(Bucket=bucket_of(stack), Key=f"app/{sub_of(person)}/profile.json",
                  Body=document, ContentType="application/json")
    response = client.http.get(PROFILE, headers=bearer(person))
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    status, headers, downloaded = fetch_link(body["url"])
    assert (status, downloaded) == (200, document)
    assert headers["Content-Disposition"].startswith('attachment; filename="profile.json"')
    assert 0 < body["expiresIn"] <= my_files.URL_TTL_SECONDS


def test_the_profile_document_route_names_only_the_persons_own_document(client, register, s3,
                                                                        stack):
    alice, bob = register(), register()
    s3.put_object(Bucket=bucket_of(stack), Key=f"app/{sub_of(alice)}/profile.json", Body=b"{}")
    assert client.http.get(PROFILE, headers=bearer(alice)).status_code == 200
    assert_error(client.http.get(PROFILE, headers=bearer(bob)), 404, "NotArchivedYet")


# --- The section of the account's data page -----------------------------------------------------

def test_the_data_page_includes_the_files_section_and_its_script_runs_under_the_csp(client):
    import re

    response = client.http.get("/account/data")
    assert response.status_code == 200
    html = response.body.decode()
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    start = html.index('<section class="part files"')
    section = html[start:html.index("</section>", start)]
    assert '<label for="files-file">File</label>' in section
    assert '<input id="files-file" name="file" type="file"' in section
    assert '<button type="submit">Upload</button>' in section
    assert "Download your profile document" in section
    # No script or style of its own: the page's one script (templates/js/files.js among the
    # page's files, under the page's nonce) runs it, style.css styles it.
    assert "<script" not in section and "<style" not in section
    assert html.count("<script") == 1 and f'<script nonce="{nonce}">' in html
    assert f'<style nonce="{nonce}">' in html
    script = (Path(pages.TEMPLATES_DIR) / "js" / "files.js").read_text().removesuffix("\n")
    assert script in html
    assert "innerHTML" not in script  # file names are set as text, never parsed as HTML
