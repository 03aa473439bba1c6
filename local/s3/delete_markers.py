"""S3's delete-marker events in the local AWS.

A delete without a version id in a versioned bucket leaves a delete marker, and AWS sends
`s3:ObjectRemoved:DeleteMarkerCreated` to whatever the bucket's notification configuration
subscribes to it (the users bucket: the quota queue, infra/template.yaml, so that
chalicelib/quota.py removes the versions of a deleted file). moto 5.2.5 creates the marker
and sends nothing. Here the marker's creation sends the event, in AWS's shape, to the
queues subscribed to it (the only destination the template uses).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from local import moto_patches

EVENT = "s3:ObjectRemoved:DeleteMarkerCreated"
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.s3.models import S3Backend

    def set_delete_marker(self: Any, bucket_name: str, key_name: str) -> Any:
        marker = original(self, bucket_name, key_name)
        notify(self.account_id, self.get_bucket(bucket_name), marker)
        return marker

    original = moto_patches.replace(S3Backend, "_set_delete_marker", set_delete_marker,
                                    by=__name__)
    _installed = True


def notify(account_id: str, bucket: Any, marker: Any) -> None:
    """Send the marker's event to each queue of the bucket's configuration that wants it."""
    from moto.core.utils import iso_8601_datetime_with_milliseconds
    from moto.s3 import notifications

    config = bucket.notification_configuration
    for notification in (config.queue if config is not None else []):
        if not notification.matches(EVENT, marker.name):
            continue
        record = {
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": bucket.region_name,
            "eventTime": iso_8601_datetime_with_milliseconds(), "eventName": EVENT[3:],
            "s3": {"s3SchemaVersion": "1.0", "configurationId": notification.id,
                   "bucket": {"name": bucket.name, "arn": bucket.arn},
                   "object": {"key": quote_plus(marker.name), "versionId": marker.version_id,
                              "sequencer": f"{int(marker.last_modified.timestamp() * 1e6):016X}"}},
        }
        region, queue = notification.arn.split(":")[3], notification.arn.split(":")[-1]
        notifications._send_sqs_message(account_id, {"Records": [record]}, queue, region)
