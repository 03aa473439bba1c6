"""The security table in DynamoDB: the app's short-lived security state, one item per key.

Every item has a string key `pk` ("<kind>#<who>"), plain attributes, and `expires_at` (epoch
seconds): DynamoDB's TTL deletes it some time after that (up to days later), so a read treats
an expired item as absent. Writes are conditional on the version read (`version`), so two
requests at the same moment cannot both take the last free attempt.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

from chalicelib.aws import client, error_code, unreachable
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable

UNAVAILABLE = "The sign-in service did not answer. Please try again."


class Conflict(Exception):
    """Another request changed the item since it was read."""


class SecurityTable:
    """Items of the security table. `dynamodb` makes the client (chalicelib.aws.client by
    default); `table_name` defaults to the stage's table (config)."""

    def __init__(self, *, dynamodb: Callable[[], Any] | None = None,
                 table_name: str | None = None) -> None:
        self._dynamodb = dynamodb or (lambda: client("dynamodb"))
        self._table_name = table_name

    @property
    def table_name(self) -> str:
        name = self._table_name or settings().security_table
        if not name:
            raise ServiceUnavailable("The app's security table is not configured "
                                     "(SECURITY_TABLE_NAME is not set). `make run` runs the app "
                                     "with a local AWS; `make deploy` sets up a stage in AWS.")
        return name

    def get(self, pk: str, now: float) -> dict[str, Any] | None:
        """The item, as plain values (numbers as float), or None when absent or expired."""
        result = self._call("get_item", TableName=self.table_name, Key={"pk": {"S": pk}},
                            ConsistentRead=True)
        item = _plain(result.get("Item"))
        if item is None or item.get("expires_at", 0) <= now:
            return None
        return item

    def put(self, pk: str, values: dict[str, str | float], *, now: float, expires_at: float,
            replacing: dict[str, Any] | None) -> None:
        """Write the item in place of `replacing` (the item as `get` read it, or None): raises
        Conflict if another request wrote it meanwhile."""
        version = int((replacing or {}).get("version", 0))
        item = {"pk": {"S": pk}, **_typed({**values, "version": version + 1,
                                           "expires_at": expires_at})}
        if replacing is None:  # absent, or expired and not yet removed by TTL
            condition = "attribute_not_exists(pk) OR expires_at <= :now"
            expected = {":now": _typed({"now": now})["now"]}
        else:
            condition = "version = :version"
            expected = {":version": _typed({"version": version})["version"]}
        self._call("put_item", TableName=self.table_name, Item=item,
                   ConditionExpression=condition, ExpressionAttributeValues=expected)

    def delete(self, pk: str) -> None:
        self._call("delete_item", TableName=self.table_name, Key={"pk": {"S": pk}})

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._dynamodb(), operation)(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise Conflict(kwargs.get("Item", {}).get("pk", {}).get("S", "")) from None
            raise ServiceUnavailable(UNAVAILABLE) from None
        except BotoCoreError:
            raise ServiceUnavailable(unreachable("The sign-in service")) from None


# change(item as read or None, now) -> (values, expires_at), or None to leave the item as it is.
Change = Callable[[Optional[dict], float], Optional[Tuple[dict, float]]]


def change(table: Any, pk: str, change: Change, *, clock: Callable[[], float]) -> None:
    """Read the item of `table` (a SecurityTable), change it, write it back unless another
    request wrote it meanwhile, else read again: a read-modify-write that loses no change."""
    for _ in range(8):
        now = clock()
        item = table.get(pk, now)
        changed = change(item, now)
        if changed is None:
            return
        values, expires_at = changed
        try:
            table.put(pk, values, now=now, expires_at=expires_at, replacing=item)
            return
        except Conflict:
            continue
    raise ServiceUnavailable(UNAVAILABLE)


def _typed(values: dict[str, str | float]) -> dict[str, dict[str, str]]:
    return {name: ({"S": value} if isinstance(value, str) else {"N": _number(value)})
            for name, value in values.items()}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _plain(item: dict[str, dict[str, str]] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {name: (float(value["N"]) if "N" in value else value.get("S", ""))
            for name, value in item.items()}
