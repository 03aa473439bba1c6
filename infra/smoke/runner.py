"""`make smoke`'s table of contents: every check in the order it runs, what each needs of an
earlier one, one line per check (PASS, FAIL or SKIP and what it saw), and the cleanup in a
finally. `main` is `python -m infra.smoke`."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NamedTuple, Sequence

from infra.errors import DeployError, aws_error
from infra.smoke import (
    alarms,
    api_stage,
    cleanup,
    deletion,
    identity,
    mappings,
    passkeys,
    pipeline,
    protection,
    targets,
)
from infra.smoke.outcomes import Failed, Skipped
from infra.smoke.state import WAIT_SECONDS, Run


class Check(NamedTuple):
    name: str
    run: Callable[[Run], str]
    needs: tuple[str, ...] = ()  # what an earlier check must have given (Run's attributes)


# The checks that print SKIP against `make run`'s stack (what exists only in AWS).
EVENT_SOURCE_MAPPINGS, API_STAGE, THROTTLING = "event source mappings", "API stage", "throttling"
DATA_PROTECTED = "data protected"
AWS_ONLY_CHECKS = (EVENT_SOURCE_MAPPINGS, API_STAGE, THROTTLING, DATA_PROTECTED)

CHECKS = (
    Check("create user", pipeline.create_user),
    Check("log in", pipeline.log_in, ("created",)),
    Check("users table record", pipeline.record, ("sub",)),
    Check("profile document", pipeline.profile_document, ("sub",)),
    Check("name parameter", pipeline.name_parameter, ("sub",)),
    Check("greeting", pipeline.greeting, ("sub",)),
    Check("own profile with identity-pool credentials", identity.own_profile, ("sub",)),
    Check("another person's key refused", identity.other_key, ("credentials",)),
    Check("passkey", passkeys.passkey, ("sub",)),
    Check(EVENT_SOURCE_MAPPINGS, mappings.event_source_mappings),
    Check(API_STAGE, api_stage.api_stage),
    Check(THROTTLING, api_stage.throttling),
    Check("alarms", alarms.alarms),
    Check(DATA_PROTECTED, protection.data_protected),
    Check("delete account", deletion.delete_account, ("sub",)),
    Check("nothing left but the tombstone", deletion.nothing_left, ("deleted",)),
)
CLEANUP = Check("cleanup", cleanup.clean_up)  # always, last
BY_NAME = {check.name: check for check in (*CHECKS, CLEANUP)}


class Smoke:
    def __init__(self, target: targets.Target, write: Callable[[str], None],
                 wait_seconds: float = WAIT_SECONDS) -> None:
        self.state = Run(target, wait_seconds)
        self.write = write
        self.failures = 0

    def line(self, outcome: str, check: str, detail: str) -> None:
        self.write(f"{outcome} {check}: {' '.join(str(detail).split())}")  # one line, always

    def check(self, name: str) -> bool:
        """Run one check of the table by its name; its line says how it went."""
        check = BY_NAME[name]
        missing = [n for n in check.needs if not getattr(self.state, n)]
        if missing:
            self.line("SKIP", name, f"not run: an earlier check did not give the {missing[0]}")
            return False
        try:
            detail = check.run(self.state)
        except Skipped as skip:
            self.line("SKIP", name, str(skip))
            return False
        except Failed as failure:
            self.failures += 1
            self.line("FAIL", name, str(failure))
            return False
        except Exception as exc:  # noqa: BLE001 - one FAIL line per check, never a traceback
            self.failures += 1
            code, message = aws_error(exc)
            self.line("FAIL", name,
                      f"{code}: {message}" if code else f"{type(exc).__name__}: {exc}")
            return False
        self.line("PASS", name, detail)
        return True

    def run(self) -> int:
        try:
            for check in CHECKS:
                self.check(check.name)
        finally:
            self.check(CLEANUP.name)
        return 1 if self.failures else 0


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write: a whole line
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.smoke",
        description="`make smoke`: prove that a stage works, end to end, with a throwaway user.")
    parser.add_argument("--stage",
                        help="a deployed stage (e.g. dev); without it, `make run`'s stack")
    parser.add_argument("--wait", type=float, default=WAIT_SECONDS,
                        help="seconds to wait for each step of the pipeline (default %(default)g)")
    args = parser.parse_args(argv)
    try:
        target = targets.aws_target(args.stage) if args.stage else targets.local_target()
    except Exception as exc:  # noqa: BLE001 - one FAIL line, never a traceback
        code, message = aws_error(exc)
        detail = f"{code}: {message}" if code else (str(exc) if isinstance(exc, DeployError)
                                                    else f"{type(exc).__name__}: {exc}")
        _write(f"FAIL setup: {' '.join(detail.split())}")
        return 1
    where = f"stage {target.stage} at {target.app_url}" + (
        f" and the local AWS at {target.endpoint_url}" if target.local else "")
    _write(f"Smoke test of {where}")
    try:
        return Smoke(target, _write, wait_seconds=args.wait).run()
    except KeyboardInterrupt:  # Ctrl-C: the cleanup has run (run()'s finally)
        _write("FAIL interrupted: stopped before every check ran")
        return 130
