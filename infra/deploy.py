"""`make deploy` / `make destroy`: the stack of infra/template.yaml, then the Chalice app.

    python -m infra.deploy deploy  --stage dev   # stack -> config.json + policies -> chalice deploy
    python -m infra.deploy destroy --stage dev   # chalice delete -> delete the stack
    python -m infra.deploy purge-retained --stage dev --yes   # what destroy keeps, gone for good

Every step checks before it acts, so running one twice is safe: an unchanged
stack is left alone, the config and policy files come out byte for byte the same.
The steps live in their own modules: infra/stack.py (CloudFormation),
infra/stage.py (config.json and policies), infra/deployed_record.py (Chalice's record
of the stage, kept in Parameter Store for every clone), infra/gateway.py (API Gateway's
own answers and throttling), infra/waf.py (the per-client rate limit in front of the
API stage), infra/relying_party.py (the passkeys' relying party, the API's host once
Chalice has made it), infra/event_sources.py (what Chalice's mappings lack,
applied once they have settled and read back), infra/teardown.py (destroy and purge);
infra/package.py builds the one template.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

from infra import chalice_cli, deployed_record, event_sources, gateway, stack, stage as stage_config
from infra import relying_party, runtime, waf
from infra import template as infra_template
from infra.credentials import check_credentials
from infra.errors import DeployError, aws_error
from infra.teardown import destroy, purge_retained

ROOT = Path(__file__).resolve().parent.parent

Runner = Callable[..., Any]


def deploy(stage: str, session: Any, project_dir: Path = ROOT, run: Runner = chalice_cli.run,
           say: Callable[[str], None] = print, parameters: dict[str, str] | None = None) -> str:
    stage_config.check_stage(stage)
    relying_party.check_given((parameters or {}).get(relying_party.PARAMETER))
    who = check_credentials(session)
    with deployed_record.locked(session.client("ssm"), stage, who["arn"], "make deploy"):
        return _deploy(stage, session, who, project_dir, run, say, parameters)


def _deploy(stage: str, session: Any, who: dict[str, str], project_dir: Path, run: Runner,
            say: Callable[[str], None], parameters: dict[str, str] | None) -> str:
    say(f"Deploying stage {stage} to account {who['account']} in {session.region_name}.")
    cfn = session.client("cloudformation")
    body = infra_template.TEMPLATE_PATH.read_text(encoding="utf-8")
    if (parameters or {}).get(waf.PARAMETER) == waf.OFF:
        # The update deletes the web ACL, which WAF refuses while it protects the stage.
        for resource in waf.release(session.client("wafv2"), stage):
            say(f"AWS WAF's rate limit taken off {resource}: the stack update deletes it.")
    outcome = stack.deploy_stack(cfn, stage, body, parameters=parameters)
    say(f"Stack {stack.stack_name(stage)}: {outcome}.")
    outputs = stack.stack_outputs(cfn, stage)
    ssm = session.client("ssm")
    deployed_record.save_outputs(ssm, stage, outputs)
    if deployed_record.require(session, project_dir, stage, say):
        say(f"Chalice's record of stage {stage} ({deployed_record.parameter(stage)}, checked "
            "against AWS): the same API, Lambdas and mappings are updated.")
    _chalice_deploy(session, project_dir, stage, outputs, run, say)
    _api_stage_settings(session, project_dir, stage, parameters, say)
    # The stage is whole before the relying party's update (a failure there leaves it so).
    if _relying_party(cfn, stage, body, parameters, project_dir, say) and \
            _redeploy_if_changed(session, project_dir, stage, outputs, run, say):
        _api_stage_settings(session, project_dir, stage, parameters, say)  # overwritten again
    url = chalice_cli.greeting_url(project_dir, stage)
    say(f"\nThe greeting page: {url}")
    return url


def _api_stage_settings(session: Any, project_dir: Path, stage: str,
                        parameters: dict[str, str] | None, say: Callable[[str], None]) -> None:
    """What Chalice cannot set on the API it deployed (its deploy overwrites the API's
    definition): API Gateway's own answers and throttling, and the rate limit's web ACL."""
    rest_api_id = chalice_cli.deployed_rest_api(project_dir, stage)["rest_api_id"]
    api_stage = stage_config.api_gateway_stage(project_dir, stage)
    gateway.configure_api(session.client("apigateway"), rest_api_id, api_stage)
    say("API Gateway's own errors (401 from the authorizer, throttling, unknown paths) answer "
        "{\"error\", \"message\"} JSON; the stage and the email-sending routes are throttled.")
    acl = waf.protect(session.client("wafv2"), stage, rest_api_id, api_stage)
    limit = (parameters or {}).get(waf.PARAMETER) or stack.parameter(
        session.client("cloudformation"), stage, waf.PARAMETER)
    say(waf.outcome(stage, acl, limit))


def _chalice_deploy(session: Any, project_dir: Path, stage: str, outputs: dict[str, str],
                    run: Runner, say: Callable[[str], None]) -> None:
    """The stack outputs into .chalice/config.json and the policies, `chalice deploy`, then,
    whether or not it finished: the outputs out of the tracked file again, Chalice's record
    (rebuilt from AWS after a failure) to Parameter Store, the mappings' settings."""
    ssm = session.client("ssm")
    env = stage_config.configure_stage(project_dir, stage, outputs)
    say(f"Wrote the stack outputs into .chalice/config.json (stage {stage}) for Chalice, "
        f"and .chalice/policy-{stage}-*.json.")
    finished = False
    try:
        run([*chalice_cli.chalice_command(), "deploy", "--stage", stage],
            cwd=project_dir, check=True)
        finished = True
    finally:
        # config.json is tracked: the account's ARNs go again, the record goes to the store.
        stage_config.forget_outputs(project_dir, stage, outputs)
        if not finished:
            _record_what_was_made(session, project_dir, stage, say)
        deployed_record.save(ssm, project_dir, stage)
        _settle_mappings(session, project_dir, stage, env, say, finished)


def _relying_party(cfn: Any, stage: str, body: str, parameters: dict[str, str] | None,
                   project_dir: Path, say: Callable[[str], None]) -> bool:
    """The passkeys' relying party (infra/relying_party.py), once `chalice deploy` has made
    the REST API: the stack updated with the API's host (or the deployer's value) when it
    has another. True when the stack was updated."""
    api = chalice_cli.deployed_rest_api(project_dir, stage)
    api_host = relying_party.host(api["rest_api_url"])

    def update(value: str) -> None:
        given = {**(parameters or {}), relying_party.PARAMETER: value}
        outcome = stack.deploy_stack(cfn, stage, body, parameters=given)
        say(f"Stack {stack.stack_name(stage)}: {outcome}.")

    return relying_party.settle(stack.parameter(cfn, stage, relying_party.PARAMETER),
                                (parameters or {}).get(relying_party.PARAMETER), api_host,
                                update, say)


def _redeploy_if_changed(session: Any, project_dir: Path, stage: str, before: dict[str, str],
                         run: Runner, say: Callable[[str], None]) -> bool:
    """After the stack's update: its outputs read again and stored, and `chalice deploy`
    again only when one changed (the functions' environment variables are made of them).
    True when it deployed."""
    outputs = stack.stack_outputs(session.client("cloudformation"), stage)
    deployed_record.save_outputs(session.client("ssm"), stage, outputs)
    changed = [f"{key}: {before.get(key, 'none')} -> {outputs.get(key, 'none')}"
               for key in sorted(set(before) | set(outputs)) if before.get(key) != outputs.get(key)]
    if not changed:
        say("The stack's outputs are as they were: the functions need no second deploy.")
        return False
    say(f"The stack's outputs changed ({', '.join(changed)}): chalice deploy again, so the "
        "functions' environment has them.")
    _chalice_deploy(session, project_dir, stage, outputs, run, say)
    return True


def _settle_mappings(session: Any, project_dir: Path, stage: str, env: dict[str, str],
                     say: Callable[[str], None], finished: bool) -> None:
    """The mappings' settings (infra/event_sources.py), right after `chalice deploy` and
    whether or not it finished: a live SQS mapping without partial batch responses deletes
    every message of a batch that failed in part, a stream mapping without a retry limit
    holds its shard. After a failed deploy, a failure here is said, not raised over
    chalice's own error."""
    if not chalice_cli.deployed_file(project_dir, stage).exists():
        return  # chalice made nothing
    try:
        updated = event_sources.apply(session.client("lambda"),
                                      chalice_cli.deployed_resources(project_dir, stage), env)
    except Exception as exc:
        if finished:
            raise
        say(f"The event source mappings chalice made could not be given their settings "
            f"either ({exc}): run `make deploy STAGE={stage}` again before any traffic.")
        return
    say(f"Event sources: partial batch responses, bounded stream retries, read back as "
        f"defined ({', '.join(updated) or 'none yet'}).")


def _record_what_was_made(session: Any, project_dir: Path, stage: str,
                          say: Callable[[str], None]) -> None:
    """After a `chalice deploy` that failed part-way (it records nothing then), Chalice's
    record rebuilt from AWS, so the next deploy carries on and `make destroy` removes it all.
    Said, never raised: chalice's own error is the one to read."""
    try:
        deployed_record.sync(session, project_dir, stage, say)
    except Exception as exc:  # noqa: BLE001 - said; chalice's error goes on up
        say(f"chalice deploy failed, and rebuilding Chalice's record from AWS failed too "
            f"({exc}): `make deploy STAGE={stage}` tries again first.")
        return
    say(f"chalice deploy failed part-way: what it made is in Chalice's record "
        f"({deployed_record.parameter(stage)}). Fix the cause, then `make deploy STAGE={stage}` "
        f"carries on (or `make destroy STAGE={stage}` removes it all).")


def main(argv: Sequence[str] | None = None, project_dir: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["deploy", "destroy", "purge-retained"])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--yes", action="store_true", help="purge-retained: yes, delete the data")
    parser.add_argument("--alarm-email",
                        help="deploy: where the alarms are emailed (kept if unset)")
    parser.add_argument("--ses-identity-arn",
                        help="deploy: send Cognito's emails through this SES identity "
                             "(kept if unset)")
    parser.add_argument("--ses-from-address",
                        help="deploy: with --ses-identity-arn, the From of those emails "
                             "(kept if unset)")
    parser.add_argument("--auth-rate-limit",
                        help="deploy: requests to /api/auth/* per client IP in 5 minutes "
                             "(AWS WAF; 0 turns it off; kept if unset, 500 on a new stack)")
    parser.add_argument("--passkey-rp-id",
                        help="deploy: the passkeys' relying party, the site's host (a custom "
                             "domain; kept if unset; the API's host when the stack has none)")
    parser.add_argument("--accept-runtime",
                        help="deploy: go ahead on this Lambda runtime although AWS deprecates "
                             "it within a year (infra/runtime.py)")
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session()
    started = time.monotonic()
    try:
        if args.command == "deploy":
            print(runtime.check(runtime.lambda_runtime(), date.today(), args.accept_runtime))
            deploy(args.stage, session, project_dir,
                   parameters={"AlarmEmail": args.alarm_email,
                               "SesIdentityArn": args.ses_identity_arn,
                               "SesFromAddress": args.ses_from_address,
                               waf.PARAMETER: args.auth_rate_limit,
                               relying_party.PARAMETER: args.passkey_rp_id})
        elif args.command == "destroy":
            destroy(args.stage, session, project_dir)
        else:
            if not args.yes:
                raise DeployError("purge-retained deletes the users' data for good; add --yes.")
            purge_retained(args.stage, session, project_dir)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:  # an AWS refusal no step foresaw: one line
        code, message = aws_error(exc)
        print(f"error: AWS answered {code}: {message}" if code else f"error: {exc}",
              file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:  # chalice's traceback kept in build/, not shown
        print(f"error: {chalice_cli.failure(exc, ROOT)}", file=sys.stderr)
        return exc.returncode or 1
    print(f"Done in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
