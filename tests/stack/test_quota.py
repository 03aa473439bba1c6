"""The files quota holds even around the app: a person writing to their own prefix with
their identity-pool credentials (as the AWS CLI would) gets a file over the size limit,
or beyond the count, removed with every version, by enforce_quota, fed by the users
bucket's object-created events through its queue (delivered by the local pump, as Lambda's
event source mapping does)."""
from __future__ import annotations

import logging
from typing import Any


from chalicelib import inputs, my_files
from tests.helpers import eventually


def versions_of(dev_s3: Any, bucket: str, prefix: str) -> list[str]:
    listed = dev_s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]


def test_a_file_over_the_size_limit_written_with_the_persons_credentials_is_removed(
        person, dev_s3, console, caplog):
    caplog.set_level(logging.WARNING, logger="chalicelib.quota")
    someone = person()
    key = someone.file("big.bin")
    small = someone.file("small.txt")
    someone.s3.put_object(Bucket=someone.bucket, Key=small, Body=b"fine")
    someone.s3.put_object(Bucket=someone.bucket, Key=key, Body=b"x" * 10)  # a first version
    someone.s3.put_object(Bucket=someone.bucket, Key=key, Body=b"x" * (2 * inputs.MAX_FILE_BYTES))
    eventually(lambda: versions_of(dev_s3, someone.bucket, key) == [], timeout=15,
               what="every version of the 2 MiB file to be removed")
    assert versions_of(dev_s3, someone.bucket, small) == [small]  # within the quota: kept
    assert someone.profile in versions_of(dev_s3, someone.bucket, someone.profile)  # not a file
    # The alarmed line (infra/template.yaml QuotaRemovalsMetric: "quota": true).
    [removal] = [r for r in caplog.records if getattr(r, "quota", False)]
    assert removal.levelname == "WARNING" and key in removal.getMessage()
    assert "2 versions" in removal.getMessage()
    assert any("enforce_quota" in line and "removed 1" in line for line in console), console


def test_a_file_beyond_the_count_limit_is_removed_with_every_version(person, dev_s3, console):
    someone = person()
    names = [f"f{n:02}.txt" for n in range(my_files.MAX_FILES + 1)]
    for name in names:
        someone.s3.put_object(Bucket=someone.bucket, Key=someone.file(name), Body=b"one")
    last = someone.file(names[-1])
    someone.s3.put_object(Bucket=someone.bucket, Key=last, Body=b"two")  # two versions
    eventually(lambda: versions_of(dev_s3, someone.bucket, last) == [], timeout=15,
               what="the 21st file to be removed")
    kept = versions_of(dev_s3, someone.bucket, someone.file(""))
    assert sorted(kept) == [someone.file(name) for name in names[:-1]]
