"""Where a person's objects live in the users bucket: the one statement of the key layout.

    users/<sub>/files/<name>   the person's own files (chalicelib/my_files.py, as the person)
    app/<sub>/profile.json     the profile document (chalicelib/users_bucket.py writes it)
    app/<sub>/export/data.zip  the latest `Download all my data` archive
    tombstones/<sub>.json      a deleted account's marker (no personal data)

What the person writes (their files, with the app or their own credentials) is apart from what
the app writes about them: every object created under users/ is an S3 event for the quota
Lambda (infra/template.yaml's notification filters by prefix only), so a log-in's profile
write or an archive sets off nothing. Deleting an account removes both prefixes (`prefixes`).
(Before December 2026 the profile and archive were under users/<sub>/: a stage deployed then
keeps those objects until the account is deleted, which sweeps users/<sub>/ too; its next
log-in writes the profile here.)

`sub` is the user pool's subject. infra/policy.py builds the Lambdas' IAM resources
from these functions with "*" for the sub; the authenticated role's policy in
infra/template.yaml uses ${aws:PrincipalTag/sub} in the same places.
"""
from __future__ import annotations


def prefix(sub: str) -> str:
    """What the person writes: their files (and nothing else of theirs may be written here)."""
    return f"users/{sub}/"


def app_prefix(sub: str) -> str:
    """What the app writes about the person: the profile and the archive."""
    return f"app/{sub}/"


def prefixes(sub: str) -> tuple[str, str]:
    """Everything of one person: a deleted account's objects are every version under these."""
    return prefix(sub), app_prefix(sub)


def profile_key(sub: str) -> str:
    return f"{app_prefix(sub)}profile.json"


def files_prefix(sub: str) -> str:
    return f"{prefix(sub)}files/"


def file_key(sub: str, name: str) -> str:
    return files_prefix(sub) + name


def tombstone_key(sub: str) -> str:
    return f"tombstones/{sub}.json"


def export_key(sub: str) -> str:
    """The person's latest `Download all my data` archive (chalicelib/my_data_export.py):
    under their prefix, so deleting the account removes it with everything else."""
    return f"{app_prefix(sub)}export/data.zip"
