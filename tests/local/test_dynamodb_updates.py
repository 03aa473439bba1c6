"""UpdateItem on the local AWS (local.dynamodb.updates): an update that creates an item records
one INSERT on the stream, as AWS does (moto recorded the bare key's INSERT too), and remembering
parsed expressions changes no answer: the same values, the same errors, every time."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.local.test_dynamodb_transactions import stream_records, tables  # noqa: F401

SETS = "SET v = :v, n = if_not_exists(n, :zero) ADD c :one"


def update(db, table: str, pk: str, v: str, expression: str = SETS, **extra) -> dict:
    values = {":v": {"S": v}, ":zero": {"N": "0"}, ":one": {"N": "1"}}
    values = {k: values[k] for k in values if k in expression}
    return db.update_item(TableName=table, Key={"pk": {"S": pk}}, UpdateExpression=expression,
                          ExpressionAttributeValues=values, ReturnValues="ALL_NEW", **extra)


def test_an_update_that_creates_an_item_records_one_insert_with_the_whole_item(tables):  # noqa: F811
    db, streams, names = tables
    update(db, names["plain"], "new", "first")
    db.transact_write_items(TransactItems=[{"Update": {
        "TableName": names["plain"], "Key": {"pk": {"S": "in-a-transaction"}},
        "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "t"}}}}])
    update(db, names["plain"], "new", "second")

    assert stream_records(db, streams, names["plain"]) == [
        ("INSERT", None, {"pk": {"S": "new"}, "v": {"S": "first"}, "n": {"N": "0"},
                          "c": {"N": "1"}}),
        ("INSERT", None, {"pk": {"S": "in-a-transaction"}, "v": {"S": "t"}}),
        ("MODIFY", {"pk": {"S": "new"}, "v": {"S": "first"}, "n": {"N": "0"}, "c": {"N": "1"}},
         {"pk": {"S": "new"}, "v": {"S": "second"}, "n": {"N": "0"}, "c": {"N": "2"}}),
    ]


def test_a_put_after_an_update_of_a_missing_item_under_a_failed_condition_is_recorded(tables):  # noqa: F811
    db, streams, names = tables
    with pytest.raises(ClientError) as refused:
        update(db, names["plain"], "missing", "x", ConditionExpression="attribute_exists(pk)")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    db.put_item(TableName=names["plain"], Item={"pk": {"S": "put"}})

    assert stream_records(db, streams, names["plain"]) == [
        ("INSERT", None, {"pk": {"S": "put"}})]


def test_the_same_expression_gives_each_item_its_own_values(tables):  # noqa: F811
    db, _, names = tables
    answers = [update(db, names["plain"], pk, pk.upper())["Attributes"]
               for pk in ("a", "b", "a", "a")]

    assert [(a["v"]["S"], a["c"]["N"]) for a in answers] == [
        ("A", "1"), ("B", "1"), ("A", "2"), ("A", "3")]


@pytest.mark.parametrize("expression, code_text", [
    ("SET pk = :v", "Cannot update attribute pk"),
    ("SET v = :v SET w = :v", "The \"SET\" section can only be used once"),
    ("SET v = :v, v = :v", "Two document paths overlap"),
])
def test_an_expression_refused_once_is_refused_every_time(tables, expression, code_text):  # noqa: F811
    db, _, names = tables
    for _ in range(3):
        with pytest.raises(ClientError) as refused:
            update(db, names["plain"], "k", "x", expression=expression)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert code_text in refused.value.response["Error"]["Message"]
    assert "Item" not in db.get_item(TableName=names["plain"], Key={"pk": {"S": "k"}})


def test_a_checked_expression_is_checked_again_against_another_tables_keys(tables):  # noqa: F811
    db, _, names = tables
    update(db, names["plain"], "k", "x", expression="SET sk = :v")  # sk is plain's attribute

    with pytest.raises(ClientError) as refused:
        db.update_item(TableName=names["sorted"], Key={"pk": {"S": "k"}, "sk": {"S": "1"}},
                       UpdateExpression="SET sk = :v", ExpressionAttributeValues={":v": {"S": "x"}})
    assert "Cannot update attribute sk" in refused.value.response["Error"]["Message"]
