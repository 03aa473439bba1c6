"""The quota's wait for new files (chalicelib/quota.py SETTLE_SECONDS) outlasts any upload
through the app: an upload ends, with its own file removed if it went past the limit, within
the API Lambda's timeout (infra/stage.py), S3 dates a write in whole seconds, and Lambda's
and S3's clocks may differ by a little."""
from __future__ import annotations

from chalicelib import quota
from infra import policy, stage


def test_the_quota_waits_longer_than_an_upload_through_the_app_can_last():
    api_timeout = stage.FUNCTION_SETTINGS[policy.API_HANDLER]["lambda_timeout"]
    assert quota.SETTLE_SECONDS >= api_timeout + 1 + 2  # whole seconds, a little clock skew


def test_a_look_again_message_is_delivered_once_the_new_files_have_settled():
    assert quota.SETTLE_SECONDS + 1 <= 900  # SQS's longest delay
