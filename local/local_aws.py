"""The embedded local AWS: moto in server mode on 127.0.0.1, with the Cognito
gaps closed (local.cognito), the identity pool's credentials and the role's IAM
policy enforced (local.iam), every patch listed in local.moto_patches, and the
resources of infra/template.yaml. Its Cognito tokens are signed with its own key
(local.cognito.signing_key): the one `make run` keeps in its state directory, or a new one.
"""
from __future__ import annotations

import urllib.request
from typing import Any

from local import cognito, iam
from local.cloudformation import resources
from local.cognito import signing_key as cognito_signing_key
from local.kept_session import KeptSession
from local.run import ports
from local.run.outbox import Outbox

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class LocalAWS:
    def __init__(self, outbox: Outbox, port: int = 0,
                 signing_key: cognito_signing_key.SigningKey | None = None) -> None:
        import logging
        from local.apigateway import rest_api_import
        from local.cloudformation import stacks
        from local.dynamodb import transactions, updates
        from local.run import state
        from local.s3 import delete_markers
        from local.server import control, dispatch
        from local.server.faults import Faults
        from local.sqs import scans
        from local.wafv2 import resources_for_web_acl

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on the console
        self.signing_key = signing_key or cognito_signing_key.new()  # its tokens' key
        cognito.install(outbox, self.signing_key)
        state.install()
        transactions.install()
        updates.install()
        dispatch.install()
        scans.install()
        delete_markers.install()
        iam.install(dev_access_keys=[CREDENTIALS["AWS_ACCESS_KEY_ID"]])
        self.outbox = outbox
        self.faults = Faults()  # switched on at runtime: local.server.faults
        self.actions: dict[str, Any] = {}  # POST /_local/<name> runs actions[name]()
        self._server = control.server("127.0.0.1", port, self.faults, self.actions, first_use={
            "apigateway": rest_api_import.install,  # chalice deploy's Swagger 2.0
            # make deploy's stack, made as make run's is
            "cloudformation": lambda: stacks.install(self.session),
            # make destroy's release of the rate limit's web ACL
            "wafv2": resources_for_web_acl.install})
        self._port = port
        self._session: KeptSession | None = None
        self.endpoint = ""

    def start(self) -> "LocalAWS":
        """Serve; OSError when the port is taken (moto's thread would die silently and
        its start() wait forever)."""
        if self._port:
            ports.ensure_free(self._port)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        from local.cloudformation import stacks

        stacks.serve_at(self.endpoint)
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource and item (tests start from nothing)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310 (the local AWS on 127.0.0.1)
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 (the local AWS on 127.0.0.1)

    def session(self) -> Any:
        """The local AWS's session, its clients kept (local.kept_session): one per LocalAWS."""
        if self._session is None:
            self._session = KeptSession(self.plain_session())
        return self._session

    @staticmethod
    def plain_session() -> Any:
        """A session of the local AWS's keys making a new client each time (for a caller that
        registers event hooks on its clients)."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=REGION,
        )

    def create_resources(self, stage: str = "local") -> dict[str, str]:
        """Create the stack; return every environment variable the app needs."""
        outputs = resources.create(self.session(), stage, REGION, self.endpoint)
        return self.environment(outputs, stage)

    def environment(self, outputs: dict[str, str], stage: str = "local") -> dict[str, str]:
        """The app's environment for a stack's outputs (created now, or restored by
        local.run.state)."""
        return {
            **outputs,
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "APP_STAGE": stage,
            "COGNITO_JWKS_URL": f"{self.endpoint}/{outputs['USER_POOL_ID']}/.well-known/jwks.json",
        }
