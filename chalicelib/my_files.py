"""A person's own data in S3, reached AS that person: their files and their profile document.

Every S3 call here is signed with the person's temporary credentials from the
identity pool (cognito_credentials.aws_credentials), never with the app's role. So it
is the authenticated role's IAM policy, keyed to the `sub` principal tag, that decides
what each call may touch: our code builds the person's keys and IAM refuses
anything else. Downloads are presigned GET URLs signed with the same credentials,
which the browser follows straight to S3 (a plain link: no CORS, the secret key
never leaves the server, big files never pass through Lambda).

Layout: chalicelib/user_keys.py (users/<sub>/files/<name>, app/<sub>/profile.json).
The upload body's parsing and the size of a file: chalicelib/inputs.py (upload_body,
MAX_FILE_BYTES). The credentials and their cache: chalicelib/cognito_credentials.py.

Limits, and why:
- MAX_FILES = 20 a person: 1 MiB each at most, so storage stays bounded and the
  list is one page of ListObjectsV2 and one screen. S3 cannot count atomically: two
  uploads at the same instant could both see 19 and make 21. So an upload counts again
  after its write, and answers 201 only if the person then has at most MAX_FILES: of two
  uploads answered 201, the later one's count saw the earlier one, so together they never
  pass the limit, and the quota (chalicelib/quota.py) never has to remove a file the person
  was told was saved. One that finds itself past the limit (`newest_last`, the quota's
  order too) removes its own file and answers 409 TooManyFiles; one within it while others
  are still deciding looks again, CONFIRM_LOOKS times at most.
- A name that exists is refused (409 FileExists), not replaced: the write is
  conditional (If-None-Match: *), so a second upload, even a concurrent one, never
  silently destroys a file the person cannot get back from the page. To replace a
  file, delete it first.
- File names: checked and normalised in chalicelib/file_names.py.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

from chalicelib import acting_as, file_names, inputs, user_keys
from chalicelib.acting_as import ACCESS_DENIED
from chalicelib.aws import error_code
from chalicelib.config import settings
from chalicelib.errors import ApiError, Conflict

if TYPE_CHECKING:
    from datetime import datetime


MAX_FILES = 20
CONFIRM_LOOKS = 10
CONFIRM_PAUSE_SECONDS = 0.2
# How long a download link works. Credentials are reused only while they outlive a
# fresh link by a minute: a link never dies before the time the page was told.
URL_TTL_SECONDS = 600
MIN_CREDENTIALS_LIFE = URL_TTL_SECONDS + 60


@dataclass(frozen=True)
class Person:
    """Who is asking: the user-pool `sub` (their S3 prefix) and their verified ID token."""

    sub: str
    id_token: str = field(repr=False)  # never in a log line

    @property
    def files_prefix(self) -> str:
        return user_keys.files_prefix(self.sub)

    @property
    def profile_key(self) -> str:
        return user_keys.profile_key(self.sub)


# --- What the routes do -------------------------------------------------------------------

def limits() -> dict[str, Any]:
    return {"maxFileBytes": inputs.MAX_FILE_BYTES, "maxFileSize": inputs.MAX_FILE_SIZE_TEXT,
            "maxFiles": MAX_FILES, "maxNameBytes": file_names.MAX_NAME_BYTES}


def listing(person: Person) -> dict[str, Any]:
    """The person's files, each with a download link, and the limits."""

    def run(s3: Any, expires_in: int) -> dict[str, Any]:
        files = [{**item, "url": _download_url(s3, user_keys.file_key(person.sub, item["name"]),
                                               item["name"], expires_in)}
                 for item in _list(s3, person)]
        return {"files": files, "limits": limits(), "expiresIn": expires_in}

    return _as(person, run)


def upload(person: Person, raw_body: bytes | str | None, *,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Store one file under the person's prefix; refuse what breaks a limit."""
    name, content = inputs.upload_body(raw_body)

    def run(s3: Any, expires_in: int) -> dict[str, Any]:
        existing = _list(s3, person)
        if any(item["name"] == name for item in existing):
            raise _exists(name)
        if len(existing) >= MAX_FILES:
            raise _too_many()
        key = user_keys.file_key(person.sub, name)
        # Stored as bytes and served as an attachment: an uploaded HTML file never
        # renders on the bucket's origin.
        try:
            s3.put_object(Bucket=settings().users_bucket, Key=key, Body=content,
                          ContentType="application/octet-stream", IfNoneMatch="*")
        except Exception as exc:
            if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise _exists(name) from None  # uploaded by another request meanwhile
            raise
        _keep_within_the_limit(s3, person, name, sleep)
        return {"file": {"name": name, "size": len(content),
                         "url": _download_url(s3, key, name, expires_in)},
                "expiresIn": expires_in}

    return _as(person, run)


def delete(person: Person, name: str) -> None:
    """Delete one of the person's files. Deleting a file that is not there is fine. A name
    the app would refuse ("a/b", control characters: written around the app) is deleted
    when it is exactly the name of one of the person's files, so every file listed can go."""
    try:
        checked: str | None = file_names.file_name(name)
    except ApiError:
        checked = None

    def run(s3: Any, _: int) -> None:
        stored = checked
        if stored is None:
            if not any(item["name"] == name for item in _list(s3, person)):
                file_names.file_name(name)  # raises the reason the name is refused
            stored = name
        s3.delete_object(Bucket=settings().users_bucket, Key=user_keys.file_key(person.sub, stored))

    _as(person, run)


def profile_document(person: Person) -> dict[str, Any]:
    """A download link to the profile document the pipeline archived; 404 until it has."""

    def run(s3: Any, expires_in: int) -> dict[str, Any]:
        if not _profile_exists(s3, person):
            raise ApiError("Your profile document is not archived yet. It appears a few "
                           "seconds after you log in.", code="NotArchivedYet", status=404)
        return {"url": _download_url(s3, person.profile_key, "profile.json", expires_in),
                "expiresIn": expires_in}

    return _as(person, run)


def read_profile(person: Person) -> tuple[dict[str, Any], str] | None:
    """The archived profile document and its S3 version id, read as the person; None
    until the pipeline has archived it."""
    import json

    def run(s3: Any, _: int) -> tuple[dict[str, Any], str] | None:
        if not _profile_exists(s3, person):
            return None
        response = s3.get_object(Bucket=settings().users_bucket, Key=person.profile_key)
        return json.loads(response["Body"].read()), response.get("VersionId", "")

    return _as(person, run)


def _profile_exists(s3: Any, person: Person) -> bool:
    """HEAD the document. S3 answers a missing object with 403, not 404, to a caller
    without s3:ListBucket there: then a listing of exactly that key tells "missing"
    (allowed, empty) from "refused" (AccessDenied again, which stays a 403)."""
    bucket = settings().users_bucket
    try:
        s3.head_object(Bucket=bucket, Key=person.profile_key)
        return True
    except Exception as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchKey", "NotFound"):
            return False
        if code not in ACCESS_DENIED:
            raise
        denied = exc
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=person.profile_key, MaxKeys=1)
    if any(item["Key"] == person.profile_key for item in listed.get("Contents", [])):
        raise denied  # it is there and IAM refused it: IAM speaking
    return False


def newest_last(last_modified: datetime | None, key: str) -> tuple[float, str]:
    """The order of a person's files, oldest first, for the count (here and in the quota):
    when S3 says it was written (whole seconds), then the key."""
    return (last_modified.timestamp() if last_modified else 0.0, key)


def _keep_within_the_limit(s3: Any, person: Person, name: str,
                           sleep: Callable[[float], None]) -> None:
    """After the write: return if the person has at most MAX_FILES, else remove `name` and
    raise 409 TooManyFiles (see the module's doc)."""
    for _ in range(CONFIRM_LOOKS):
        stored = _stored(s3, person)
        if len(stored) <= MAX_FILES:
            return
        order = sorted(stored, key=lambda item: newest_last(item["modified"], item["name"]))
        if name not in [item["name"] for item in order[:MAX_FILES]]:
            break  # past the limit for good: the others within it stay
        sleep(CONFIRM_PAUSE_SECONDS)
    s3.delete_object(Bucket=settings().users_bucket, Key=user_keys.file_key(person.sub, name))
    raise _too_many()


def _too_many() -> ApiError:
    return Conflict(f"You already have {MAX_FILES} files, the most you can keep. "
                    "Delete one to upload another.", code="TooManyFiles")


def _exists(name: str) -> ApiError:
    return Conflict(f"You already have a file named “{name}”. Delete it first to replace it, "
                    "or rename the file you upload.", code="FileExists")


# --- S3 as the person ----------------------------------------------------------------------

def _list(s3: Any, person: Person) -> list[dict[str, Any]]:
    files = [{"name": item["name"], "size": item["size"],
              "lastModified": item["modified"].isoformat() if item["modified"] else ""}
             for item in _stored(s3, person)]
    return sorted(files, key=lambda item: (item["name"].casefold(), item["name"]))


def _stored(s3: Any, person: Person) -> list[dict[str, Any]]:
    """Every file under the prefix, also what was written around the app ("a/b"): it counts
    toward the limit (chalicelib/quota.py), so the person sees and can delete it."""
    response = s3.list_objects_v2(Bucket=settings().users_bucket, Prefix=person.files_prefix,
                                  MaxKeys=1000)
    return [{"name": item["Key"][len(person.files_prefix):], "size": int(item.get("Size", 0)),
             "modified": item.get("LastModified")}
            for item in response.get("Contents", [])
            # "users/<sub>/files/" itself names no file (the quota removes it)
            if item["Key"] != person.files_prefix]


def _download_url(s3: Any, key: str, name: str, expires_in: int) -> str:
    """A presigned GET that downloads (attachment) under the file's own name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": settings().users_bucket, "Key": key,
                "ResponseContentDisposition": disposition},
        ExpiresIn=expires_in,
    )


def _as(person: Person, operation: Callable[[Any, int], Any]) -> Any:
    """Run `operation(s3, link_seconds)` with an S3 client signed as the person
    (chalicelib/acting_as.py: a refusal a 403, stale credentials replaced once)."""
    def run(me: acting_as.AsPerson) -> Any:
        left = me.credentials.expires_at - time.time()
        return operation(me("s3"), int(max(1, min(URL_TTL_SECONDS, left))))

    return acting_as.act_as(person, run, outliving=MIN_CREDENTIALS_LIFE,
                            service="The file store (S3)",
                            failed="Your files could not be reached just now. Please try again.")
