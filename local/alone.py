"""The local AWS alone, to rehearse `make deploy` against: no app, no event delivery, and
nothing kept (a deploy's Lambda zips would bloat `make run`'s saved data).

    python -m local.alone [--port N]     # prints "AWS endpoint: http://127.0.0.1:N"
    AWS_ENDPOINT_URL=http://127.0.0.1:N AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
      AWS_DEFAULT_REGION=us-east-1 make deploy STAGE=rehearsal ACCEPT_RUNTIME=python3.11

It answers what the deploy asks: CloudFormation of infra/template.yaml
(local/cloudformation/stacks.py), the REST API import chalice sends
(local/apigateway/rest_api_import.py), IAM, Lambda (functions are stored, never run) and event
source mappings; its faults (POST /_local/faults, local/server/faults.py) make a step fail on
purpose. Ctrl-C or SIGTERM stops it.
"""
from __future__ import annotations

import argparse
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    from local.local_aws import LocalAWS
    from local.run.outbox import Outbox

    parser = argparse.ArgumentParser(prog="python -m local.alone",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args(argv)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    aws = LocalAWS(Outbox(), port=args.port).start()
    print(f"AWS endpoint: {aws.endpoint}", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
