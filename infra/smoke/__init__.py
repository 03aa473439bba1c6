"""`make smoke`: prove that a stage works, end to end, with a throwaway user.

    python -m infra.smoke --stage dev   # a deployed stage, with the deployer's credentials
    python -m infra.smoke               # `make run`'s stack (PORT, LOCAL_AWS_PORT), dev keys

It creates a user (admin-confirmed: no inbox needed), logs in through the public
API, waits for the pipeline (the DynamoDB record, app/<sub>/profile.json, the
name parameter, the greeting), checks the person's identity-pool credentials
reach their own profile and are refused another person's, reads back what must
be live (the event source mappings' settings, one API stage, throttling's 429,
the alarms, the data's deletion protection), deletes the user through the app and
checks only the tombstone is left. One line per check: PASS, FAIL or SKIP and what
it saw; exit 1 on any FAIL. Whatever happens, it removes what it made (user, name
parameter, files).

Locally, what exists only in AWS (event source mappings, the API stage,
throttling, deletion protection) prints SKIP; everything else runs against the local AWS.

A module per thing checked; `runner.py` is the table of contents (every check, in order):
    targets.py     where the stage is (`make run`'s stack or a deployed stage) and its clients
    outcomes.py    what a check ends with (Failed, Skipped) and waiting for the pipeline
    app_api.py     the app's public API, as the pages call it
    state.py       the run: the throwaway person and what the checks learnt of them
    pipeline.py    the person created, logged in, and through the pipeline to the greeting
    identity.py    the person's identity-pool credentials: their own data, no one else's
    mappings.py    the event source mappings' settings and state
    api_stage.py   the one API stage, its throttling, and throttling's 429
    alarms.py      every alarm of infra/template.yaml
    protection.py  the user pool and the users table refuse deletion
    deletion.py    the account deleted through the app leaves only its tombstones
    cleanup.py     what the run made removed, whatever happened
    runner.py      the checks in order, one line each; `main`
"""
