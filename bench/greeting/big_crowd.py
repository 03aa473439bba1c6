"""`big_crowd` people at once (created through the local AWS's Cognito admin API, quicker than
sign-ups), then what the pipeline wrote for them, counted: one item, one profile object (one
version) and one name parameter each, login_count 1; late apart from lost, and the dead-letter
queues' counts."""
from __future__ import annotations

import time
import uuid
from typing import Any

from bench.children import Deadline
from bench.greeting.crowd import at_once, in_threads, summary
from bench.greeting.person import PASSWORD
from bench.greeting.stack import Stack
from chalicelib import user_keys


def created_and_greeted(stack: Stack, deadline: Deadline, n: int) -> dict[str, Any]:
    outputs, session = stack.clients()
    idp = stack.client(session, "cognito-idp")
    pool = outputs["USER_POOL_ID"]
    people = [(f"t{uuid.uuid4().hex[:10]}", f"Thousand Person {i}") for i in range(n)]
    created = time.monotonic()

    def create(person: tuple[str, str]) -> None:
        username, name = person
        idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "name", "Value": name},
                                              {"Name": "email", "Value": f"{username}@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD,
                                    Permanent=True)

    in_threads(create, people, 8, deadline)
    created = time.monotonic() - created
    greeted = summary(n, *at_once(stack, people, deadline))
    greeted.pop("allowed_reads")
    greeted["created_s"] = created
    greeted["stored"] = count_written(stack, {name for _, name in people}, deadline)
    return greeted


# How long the pipeline's writes for the 1,000-crowd are waited for after the crowd is
# greeted: first SETTLE_S (what is missing then is counted "late"), then up to LATE_S more;
# what is still missing then is lost (the dead-letter queues' counts say where it went).
SETTLE_S, LATE_S = 60.0, 120.0
WRITTEN = ("dynamodb_items", "s3_profiles", "ssm_parameters")


def count_written(stack: Stack, names: set[str], deadline: Deadline) -> dict[str, Any]:
    """What the pipeline wrote for the people named `names`: lost or doubled shows here,
    and "late" (written, but after SETTLE_S) apart from lost."""
    first = written(stack, names, min(SETTLE_S, deadline.left()))
    counts = first
    if any(first[k] < len(names) for k in WRITTEN):
        counts = written(stack, names, min(LATE_S, deadline.left()))
    counts["late"] = {k: counts[k] - first[k] for k in WRITTEN}
    counts["settle_s"] = SETTLE_S
    counts["dead_letters"] = dead_letters(stack)
    return counts


def dead_letters(stack: Stack) -> dict[str, int]:
    """Messages in each dead-letter queue now: where a lost write would have gone."""
    _, session = stack.clients()
    sqs = stack.client(session, "sqs")
    return {url.rsplit("/", 1)[-1]: int(sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                ["Attributes"]["ApproximateNumberOfMessages"])
            for url in sqs.list_queues().get("QueueUrls", []) if url.endswith("-dlq")}


def written(stack: Stack, names: set[str], settle_s: float) -> dict[str, Any]:
    """The counts once everything is written, or after `settle_s`."""
    outputs, session = stack.clients()
    db, s3, ssm = (stack.client(session, s) for s in ("dynamodb", "s3", "ssm"))
    settle_until = time.monotonic() + settle_s
    while True:
        items = [item for page in db.get_paginator("scan").paginate(
            TableName=outputs["USERS_TABLE_NAME"], ConsistentRead=True)
            for item in page["Items"] if item.get("name", {}).get("S") in names]
        subs = {item["sub"]["S"] for item in items}
        profiles = {user_keys.profile_key(sub) for sub in subs}
        versions = [v["Key"] for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=outputs["USERS_BUCKET_NAME"])
            for v in page.get("Versions", []) if v["Key"] in profiles]
        parameters = [p for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/", Recursive=True) for p in page["Parameters"] if p["Value"] in names]
        done = min(len(items), len(set(versions)), len(parameters)) >= len(names)
        if done or time.monotonic() > settle_until:
            break
        time.sleep(1)
    return {"people": len(names), "dynamodb_items": len(items),
            "dynamodb_login_count_not_1": sum(1 for i in items
                                              if i.get("login_count", {}).get("N") != "1"),
            "s3_profile_versions": len(versions), "s3_profiles": len(set(versions)),
            "ssm_parameters": len(parameters),
            "ssm_distinct_names": len({p["Value"] for p in parameters})}
