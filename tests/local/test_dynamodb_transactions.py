"""TransactWriteItems on the local AWS (local.dynamodb.transactions): a cancelled transaction
leaves every item and the table's stream as they were, a successful one applies every write,
and its cost does not grow with the table (moto deep-copied each table a transaction touched)."""
from __future__ import annotations

import copy
import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def tables(stack, local_aws):
    """Two tables of this test's own, one with a sort key, both with a stream of both images."""
    session = local_aws.session()
    db = session.client("dynamodb", endpoint_url=local_aws.endpoint)
    streams = session.client("dynamodbstreams", endpoint_url=local_aws.endpoint)
    names = {"plain": f"plain-{uuid.uuid4()}", "sorted": f"sorted-{uuid.uuid4()}"}
    spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    db.create_table(TableName=names["plain"], BillingMode="PAY_PER_REQUEST",
                    StreamSpecification=spec,
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    db.create_table(TableName=names["sorted"], BillingMode="PAY_PER_REQUEST",
                    StreamSpecification=spec,
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "sk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                               {"AttributeName": "sk", "KeyType": "RANGE"}])
    yield db, streams, names
    for name in names.values():
        db.delete_table(TableName=name)


def scan(db, table: str) -> list[dict]:
    items = db.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item.get("sk", {}).get("S", "")))


def stream_records(db, streams, table: str) -> list[tuple[str, dict | None, dict | None]]:
    arn = db.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [(r["eventName"], r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage"))
            for r in records]


def seed(db, names) -> None:
    db.put_item(TableName=names["plain"], Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    db.put_item(TableName=names["plain"], Item={"pk": {"S": "doomed"}, "v": {"N": "1"}})
    db.put_item(TableName=names["plain"], Item={"pk": {"S": "guard"}})
    db.put_item(TableName=names["sorted"],
                Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})


def writes(names) -> list[dict]:
    """A put of a new item, an update and a delete of existing ones, a new sort key under a new
    and under an existing partition key."""
    plain, sorted_ = names["plain"], names["sorted"]
    return [
        {"Put": {"TableName": plain, "Item": {"pk": {"S": "new"}, "v": {"N": "7"}}}},
        {"Update": {"TableName": plain, "Key": {"pk": {"S": "kept"}},
                    "UpdateExpression": "SET v = v + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": plain, "Key": {"pk": {"S": "doomed"}}}},
        {"Put": {"TableName": sorted_, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
        {"Put": {"TableName": sorted_, "Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
    ]


def test_a_cancelled_transaction_leaves_every_item_and_the_stream_as_they_were(tables):
    db, streams, names = tables
    seed(db, names)
    before = {table: (scan(db, table), stream_records(db, streams, table))
              for table in names.values()}
    assert len(before[names["plain"]][1]) == 3  # the stream is on: the seeds' records are there

    failing_check = {"ConditionCheck": {"TableName": names["plain"], "Key": {"pk": {"S": "guard"}},
                                        "ConditionExpression": "attribute_not_exists(pk)"}}
    with pytest.raises(ClientError) as cancelled:
        db.transact_write_items(TransactItems=[*writes(names), failing_check])

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    after = {table: (scan(db, table), stream_records(db, streams, table))
             for table in names.values()}
    assert after == before


def test_a_successful_transaction_applies_every_write_and_streams_each(tables):
    db, streams, names = tables
    seed(db, names)

    db.transact_write_items(TransactItems=writes(names))

    assert scan(db, names["plain"]) == [
        {"pk": {"S": "guard"}}, {"pk": {"S": "kept"}, "v": {"N": "2"}},
        {"pk": {"S": "new"}, "v": {"N": "7"}}]
    assert scan(db, names["sorted"]) == [
        {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}}, {"pk": {"S": "a"}, "sk": {"S": "2"}},
        {"pk": {"S": "b"}, "sk": {"S": "1"}}]
    assert [event for event, _, _ in stream_records(db, streams, names["plain"])][3:] == [
        "INSERT", "MODIFY", "REMOVE"]
    assert [event for event, _, _ in stream_records(db, streams, names["sorted"])][1:] == [
        "INSERT", "INSERT"]


def test_after_a_cancelled_transaction_a_stream_iterator_still_reads_new_records(tables):
    db, streams, names = tables
    seed(db, names)
    arn = db.describe_table(TableName=names["plain"])["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="LATEST")["ShardIterator"]
    with pytest.raises(ClientError):
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": names["plain"], "Item": {"pk": {"S": "ghost"}}}},
            {"ConditionCheck": {"TableName": names["plain"], "Key": {"pk": {"S": "kept"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])
    db.transact_write_items(TransactItems=[
        {"Put": {"TableName": names["plain"], "Item": {"pk": {"S": "real"}}}}])

    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["real"]


class CountingDeepcopy:
    """copy.deepcopy, counting every call (its recursion into containers included) and noting
    the type of every object it is asked to copy."""

    def __init__(self, real) -> None:
        self.real, self.calls, self.types = real, 0, set()

    def __call__(self, x, memo=None, _nil=[]):  # noqa: B006 - copy.deepcopy's own signature
        self.calls += 1
        self.types.add(type(x).__name__)
        return self.real(x, memo, _nil)


def transaction_copies(db, table: str, monkeypatch) -> CountingDeepcopy:
    counting = CountingDeepcopy(copy.deepcopy)
    with monkeypatch.context() as patch:
        patch.setattr(copy, "deepcopy", counting)
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": f"login-{uuid.uuid4()}"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET v = v + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    return counting


def test_a_transaction_copies_the_items_it_touches_not_the_table(tables, monkeypatch):
    db, _, names = tables
    table = names["plain"]
    db.put_item(TableName=table, Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    small = transaction_copies(db, table, monkeypatch)

    for start in range(0, 500, 25):
        db.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"pk": {"S": f"stored-{n}"}, "v": {"N": str(n)}}}}
            for n in range(start, start + 25)]})
    assert db.describe_table(TableName=table)["Table"]["ItemCount"] >= 500
    large = transaction_copies(db, table, monkeypatch)

    assert small.calls > 0  # the counter sees the copies made (the updated item's undo copy)
    assert "Table" not in small.types | large.types
    assert large.calls == small.calls


def test_transactions_at_once_with_writes_beside_them_keep_the_stream_whole_and_in_order(
        tables, local_aws, monkeypatch):
    """Isolation: 6 threads at once, each committing and cancelling transactions between
    plain writes. The stream then holds exactly one record per committed write, its sequence
    numbers strictly increasing, none handed out twice (a cancel cut another's record before)."""
    import threading

    import time

    from moto.dynamodb.models.table import StreamShard

    add = StreamShard.add

    def slow_add(self, old, new):  # a thread switch inside every write, as under load
        time.sleep(0.001)
        add(self, old, new)

    monkeypatch.setattr(StreamShard, "add", slow_add)
    db, streams, names = tables
    table = names["plain"]
    committed: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        client = local_aws.session().client("dynamodb", endpoint_url=local_aws.endpoint)
        writes = 0
        for i in range(15):
            client.put_item(TableName=table, Item={"pk": {"S": f"plain-{n}-{i}"}})
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": f"tx-{n}-{i}-{k}"}}}}
                for k in range(2)])
            with pytest.raises(ClientError, match="TransactionCanceled"):
                client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"gone-{n}-{i}"}}}},
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"plain-{n}-{i}"}},
                             "ConditionExpression": "attribute_not_exists(pk)"}}])
            writes += 3
        with lock:
            committed.append(writes)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(committed) == 6 * 45
    arn = db.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert not [key for key in keys if key.startswith("gone-")]
    assert len(set(keys)) == len(keys) == 6 * 45
    assert numbers == sorted(set(numbers))
