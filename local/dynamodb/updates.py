"""UpdateItem in the local AWS: one stream record for an item it creates, as in AWS, and an
UpdateExpression parsed and checked once per shape instead of on every write.

- moto 5.2.5's `update_item` creates a missing item with `Table.put_item` of its bare key (which
  records an INSERT of the key alone) and then records the INSERT of the updated item: two
  INSERTs where AWS records one, so every first login put two records on the users table's
  stream. The first is dropped here: the update's own record is the only one.
- Profiled under the 200-person crowd (bench/README.md), a login's transaction was the local
  AWS's largest cost, most of it in the expression: moto parses an UpdateExpression twice per
  write (the request handler, then the backend), deep-copies the parsed tree for each
  validation (two when the item is new), and runs ten checks over it each time. Here:
  - the parse is remembered by the expression's text (`UpdateExpressionParser.make` returns a
    tree nobody changes: the validator works on a copy);
  - the copy is unpickled from the parsed tree's pickle, not deep-copied (~6x quicker);
  - each checking pass builds its map of node kinds once, not once per node;
  - the three checks that read nothing but the tree, the attribute names and the table's keys
    (one clause of each kind, no overlapping paths, no key attribute updated) run once per
    (expression, names, keys); the seven that read the values or the item run every time.
  Same answers, same errors: an expression that fails a check fails it every time (a failure is
  not remembered), and everything an update reads from its item is still checked per write.
"""
from __future__ import annotations

import copy
import functools
import pickle
import threading
from typing import Any

from local import moto_patches

_installed = False
_PARSES = 512  # distinct expressions remembered (the app sends a handful); then forgotten
_STATIC_CHECKS = ("ActionCountValidator", "OverlappingPathsValidator",
                  "UpdateHashRangeKeyValidator")  # moto's first three, in its order
_trees: dict[str, Any] = {}  # expression text -> its parsed tree (carrying _SOURCE)
_SOURCE = "_comm_it_source"  # a parsed tree's attribute: (its pickle, its text)
_checked: set[tuple[Any, ...]] = set()  # (text, names, table keys) whose static checks passed
_creating = threading.local()  # set while an update_item runs: its bare-key INSERT is dropped


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    parse = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]

    def make(cls: Any, expression: str) -> Any:
        tree = _trees.get(expression)
        if tree is None:
            tree = parse(cls, expression)  # a bad expression raises here, every time
            # pickled before the attribute is set: a copy does not carry it
            setattr(tree, _SOURCE, (pickle.dumps(tree, pickle.HIGHEST_PROTOCOL), expression))
            if len(_trees) >= _PARSES:
                _trees.clear()
            _trees[expression] = tree
        return tree

    def init(self: Any, expression: Any, expression_attribute_names: Any,
             expression_attribute_values: Any, item: Any, table: Any) -> None:
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        source = getattr(expression, _SOURCE, None)
        if source is not None:
            frozen, text = source
            self.node_to_validate = pickle.loads(frozen)  # noqa: S301 (our own, in memory)
            self.static_key = (text, tuple(sorted((expression_attribute_names or {}).items())),
                               tuple(table.table_key_attrs))
        else:  # a tree that did not come from make(): as moto does
            self.node_to_validate = copy.deepcopy(expression)
            self.static_key = None

    def validate(self: Any) -> Any:
        node = self.node_to_validate
        names = [type(p).__name__ for p in self.processors[:len(_STATIC_CHECKS)]]
        static = len(_STATIC_CHECKS) if tuple(names) == _STATIC_CHECKS else 0
        key = self.static_key
        for processor in self.processors[static if key in _checked else 0:static]:
            node = processor.traverse(node)
        if key is not None and static:
            if len(_checked) >= 4 * _PARSES:
                _checked.clear()
            _checked.add(key)
        for processor in self.processors[static:]:
            node = processor.traverse(node)
        return node

    update_item = DynamoDBBackend.update_item

    @functools.wraps(update_item)
    def update_item_once(self: Any, *args: Any, **kwargs: Any) -> Any:
        _creating.pending = True
        try:
            return update_item(self, *args, **kwargs)
        finally:
            _creating.pending = False

    add = StreamShard.add

    @functools.wraps(add)
    def add_once(self: Any, old: Any, new: Any) -> None:
        if getattr(_creating, "pending", False):
            _creating.pending = False  # only an update's first record can be the bare key's
            if old is None:
                return
        add(self, old, new)

    def nodes_to_be_processed(self: Any) -> tuple[type, ...]:
        kinds = self.__dict__.get("_comm_it_kinds")
        if kinds is None:
            kinds = self.__dict__["_comm_it_kinds"] = tuple(_processing_map(self))
        return kinds

    def process(self: Any, node: Any) -> Any:
        for kind, processor in _processing_map(self).items():
            if isinstance(node, kind):
                return processor(node)
        return None

    moto_patches.replace(UpdateExpressionParser, "make", classmethod(make), by=__name__)
    moto_patches.replace(DepthFirstTraverser, "nodes_to_be_processed", nodes_to_be_processed,
                         by=__name__)
    moto_patches.replace(DepthFirstTraverser, "process", process, by=__name__)
    moto_patches.replace(UpdateExpressionValidator, "__init__", init, by=__name__)
    moto_patches.replace(UpdateExpressionValidator, "validate", validate, by=__name__)
    moto_patches.replace(DynamoDBBackend, "update_item", update_item_once, by=__name__)
    moto_patches.replace(StreamShard, "add", add_once, by=__name__)
    _installed = True


def _processing_map(traverser: Any) -> dict[type, Any]:
    # moto builds this map again for every node of every pass; each traverser's is fixed
    known = traverser.__dict__.get("_comm_it_map")
    if known is None:
        known = traverser.__dict__["_comm_it_map"] = traverser._processing_map()
    return known
