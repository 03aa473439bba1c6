"""What the deploy tests (infra/ against moto in-process) share: `make deploy`'s stack in
small, and a checkout of the project's .chalice/. Their fixtures (`project`, `outputs`) are in
tests/stack/conftest.py; the chalice CLI stood in for, in tests/stack/chalice_in_moto.py."""
from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import ROOT

# moto's CloudFormation knows no AWS::Cognito::*, so the real template is never deployed here;
# the steps that follow get the outputs the real stack gives.
STAND_IN = """
Parameters:
  Stage: {Type: String}
Resources:
  Topic: {Type: AWS::SNS::Topic, \
Properties: {TopicName: !Sub "comm-it-${Stage}-user-authenticated"}}
Outputs:
  UsersTableName: {Value: !Sub "comm-it-${Stage}-users"}
  UsersBucketName: {Value: !Sub "comm-it-${Stage}-users-123456789012-eu-west-1"}
  UserEventsTopicArn: {Value: !Ref Topic}
"""


def clone(path: Path) -> Path:
    """A checkout of the project's .chalice/ (config.json only), as another machine has it."""
    (path / ".chalice").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / ".chalice" / "config.json", path / ".chalice" / "config.json")
    return path
