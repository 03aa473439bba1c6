"""SQS receives and sends in the local AWS at a cost per message, not per message squared.

moto 5.2.5's ReceiveMessage checks each message it hands out against the queue's retention
period through `get_queue_attributes(queue, ["MessageRetentionPeriod"])`, which builds the
queue's full attribute map three times, each counting the visible, in-flight and delayed
messages: with N messages waiting, a receive of 10 costs 10 x 6 scans of N. Each scan asks
every message `visible` and `delayed`, and each of those reads the clock through
`unix_time_millis` (a datetime round trip, ~4 us). Profiled under the 200-person crowd
(bench/README.md) that was about a tenth of the local AWS's time. Here the retention
period is read from the queue itself, and a message's visibility from `time.time()`: the
same answers (moto's clock is the real clock), without the scans.
"""
from __future__ import annotations

import time
from typing import Any

from local import moto_patches

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sqs.models import Message, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str,
                                                   message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > time.time()

    def visible(self: Any) -> bool:
        return time.time() * 1000.0 > self.visible_at

    def delayed(self: Any) -> bool:
        return time.time() * 1000.0 < self.delayed_until

    moto_patches.replace(SQSBackend, "is_message_valid_based_on_retention_period",
                         is_message_valid_based_on_retention_period, by=__name__)
    moto_patches.replace(Message, "visible", property(visible), by=__name__)
    moto_patches.replace(Message, "delayed", property(delayed), by=__name__)
    _installed = True
