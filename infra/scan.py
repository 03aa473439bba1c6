"""The security scan of the templates (checkov, made for CloudFormation): how it runs and
every check it skips, with the reason. tests/package/test_checkov.py runs it in `make test`.

checkov pins packaging<24 and pytest needs packaging>=24, so it lives in a virtualenv
of its own (build/checkov-venv, made by the test when missing).
"""
from __future__ import annotations

from pathlib import Path

CHECKOV = "checkov==3.3.30"
VENV = Path(__file__).resolve().parent.parent / "build" / "checkov-venv"

SKIPS: dict[str, str] = {
    "CKV_AWS_27": "false positive: every queue has SQS-managed encryption at rest "
                  "(SqsManagedSseEnabled: true); this check only recognises KmsMasterKeyId",
    "CKV_AWS_115": "no reserved concurrency: it would carve the account's pool; the SQS "
                   "consumers are bounded by their mappings' MaximumConcurrency and the API by "
                   "stage throttling (infra/gateway.py)",
    "CKV_AWS_116": "a function DLQ only catches asynchronous invocations; these are invoked "
                   "synchronously (API Gateway) or by event source mappings, whose failures go "
                   "to the queues' dead-letter queues and the stream's on-failure destination",
    "CKV_AWS_117": "no VPC: the functions reach only AWS's public endpoints (TLS, IAM); a VPC "
                   "would need NAT gateways or endpoints at a fixed monthly cost for no gain",
    "CKV_AWS_119": "the tables are encrypted at rest with the AWS owned key (SSESpecification); "
                   "a customer managed key adds cost and key-policy control only "
                   "(docs/operations.md#encryption-keys says how to switch for regulated data)",
    "CKV_AWS_120": "no API cache: answers are per person (token) or small static pages; a "
                   "cache is billed per hour",
    "CKV_AWS_158": "the logs carry ids, never secrets or personal data (chalicelib/logs.py), and "
                   "CloudWatch Logs encrypts at rest by default; they expire after 30 days",
    "CKV_AWS_173": "the environment holds resource names and ARNs, no secret; Lambda encrypts "
                   "it at rest with an AWS managed key",
    "CKV_AWS_192": "the web ACL is the per-client rate limit on /api/auth/*; the Log4j rule "
                   "(AWS's known-bad-inputs group) guards Java's JNDI lookups, and no part of "
                   "the app runs Java (Python Lambdas behind API Gateway): it would cost a rule "
                   "a month against a library the app does not have",
    "CKV_AWS_18": "no S3 server access logs: they need a second bucket; CloudTrail data events "
                  "are the tool if object-level audit is required",
    "CKV_AWS_28": "the processed-events table holds only idempotency markers that expire within "
                  "days, the security table only attempt counts and ended sessions that expire "
                  "within a day; the users table has point-in-time recovery",
    "CKV_AWS_73": "X-Ray tracing is optional and billed; the JSON logs carry the request id",
    "CKV_AWS_76": "API access logs need the region's API Gateway CloudWatch role "
                  "(AWS::ApiGateway::Account, one per account and region, shared with other "
                  "apps): enable it account-wide first (docs/operations.md#api-access-logs)",
}


def command(checkov: Path, files: list[Path]) -> list[str]:
    args = [str(checkov), "--framework", "cloudformation", "--output", "json", "--compact",
            "--skip-check", ",".join(sorted(SKIPS))]
    for path in files:
        args += ["--file", str(path)]
    return args
