"""`Download all my data`: one ZIP, comm-it-<username>.zip, with data.json (everything
chalicelib/my_data.py collects, the profile document's older versions and each file's
size and SHA-256) and the files themselves under files/, each under a name every common
extractor writes as one plain file there (chalicelib/file_names.py archive_names: a name
written around the app may hold "/", "..\\" or control characters); data.json says which
entry holds which file (`inArchive`).

Streamed: each file goes from S3 (read with the person's own credentials) through a
SHA-256 into the archive, which is written to a spooled temporary file (in memory up
to SPOOL_BYTES, then on /tmp), never held whole in memory twice. The archive is put,
with the app's own role, at app/<sub>/export/data.zip (chalicelib/user_keys.py): the
person's role may not write there, nothing lists it as one of their files, and deleting
the account removes it with every version. The answer is a presigned GET link to it:
always, so an archive of 20 files of 1 MiB never meets API Gateway's 10 MB (and
Lambda's 6 MB) answer limit, and no route needs binary responses.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from chalicelib import file_names, user_events, user_keys
from chalicelib.acting_as import AsPerson
from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.my_data import as_person, collect, older_profile_versions
from chalicelib.my_files import Person

if TYPE_CHECKING:
    import zipfile

SPOOL_BYTES = 2 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
URL_TTL_SECONDS = 600


def file_name(username: str) -> str:
    return "comm-it-" + re.sub(r"[^A-Za-z0-9._-]", "_", username) + ".zip"


def export(person: Person, access_token: str) -> dict[str, Any]:
    """Build the archive, store it, answer a link that downloads it. Archives count per
    person (attempts.EXPORTS): each is a new version kept 30 days."""
    from chalicelib.attempts import EXPORTS, limits

    with limits().spending(EXPORTS, person.sub):  # given back if no archive was made
        return as_person(person, lambda me: _export(me, person, access_token))


def _export(me: AsPerson, person: Person, access_token: str) -> dict[str, Any]:
    import tempfile  # here: only this route needs them (cold start)
    import zipfile

    data = collect(person, access_token, me)
    profile = data["profile"]
    profile["olderVersions"] = older_profile_versions(profile["key"], profile["versions"])
    name = file_name(data["cognito"]["username"])
    bucket, key = settings().users_bucket, user_keys.export_key(person.sub)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            entries = file_names.archive_names([item["name"] for item in data["files"]["files"]])
            for item in data["files"]["files"]:
                item["inArchive"] = f"files/{entries[item['name']]}"
                item["sha256"] = _copy(me, bucket, item.pop("key"), archive, item["inArchive"])
            data["exportedAt"] = user_events.now_iso()  # the format of every time it holds
            archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        size = spool.tell()
        spool.seek(0)
        client("s3").put_object(Bucket=bucket, Key=key, Body=spool, ContentLength=size,
                                ContentType="application/zip")
    url = client("s3").generate_presigned_url(
        "get_object", ExpiresIn=URL_TTL_SECONDS,
        Params={"Bucket": bucket, "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{name}"'})
    return {"url": url, "fileName": name, "size": size, "expiresIn": URL_TTL_SECONDS}


def _copy(me: AsPerson, bucket: str, key: str, archive: "zipfile.ZipFile", arcname: str) -> str:
    """One object from S3 into the archive in chunks; its SHA-256."""
    import hashlib

    digest = hashlib.sha256()
    body = me("s3").get_object(Bucket=bucket, Key=key)["Body"]
    with archive.open(arcname, "w", force_zip64=True) as out:
        for chunk in iter(lambda: body.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()
