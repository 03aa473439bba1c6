"""Where a person's objects live in the users bucket: the one statement of the key layout.

    users/<sub>/profile.json   the profile document (chalicelib/users_bucket.py writes it)
    users/<sub>/files/<name>   the person's own files (chalicelib/my_files.py, as the person)
    tombstones/<sub>.json      a deleted account's marker (no personal data)

`sub` is the user pool's subject. infra/policy.py builds the Lambdas' IAM resources
from these functions with "*" for the sub; the authenticated role's policy in
infra/template.yaml uses ${aws:PrincipalTag/sub} in the same places.
"""
from __future__ import annotations


def prefix(sub: str) -> str:
    """Everything of one person: the profile and their files."""
    return f"users/{sub}/"


def profile_key(sub: str) -> str:
    return f"{prefix(sub)}profile.json"


def files_prefix(sub: str) -> str:
    return f"{prefix(sub)}files/"


def file_key(sub: str, name: str) -> str:
    return files_prefix(sub) + name


def tombstone_key(sub: str) -> str:
    return f"tombstones/{sub}.json"


def export_key(sub: str) -> str:
    """The person's latest `Download all my data` archive (chalicelib/my_data_export.py):
    under their prefix, so deleting the account removes it with everything else."""
    return f"{prefix(sub)}export/data.zip"
