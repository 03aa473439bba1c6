"""The REST API: one stage, throttled as infra/gateway.py says, and throttling's 429 in the
app's error shape (locally chalice local serves the routes and throttles nothing: SKIP)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from infra import gateway
from infra.smoke import app_api
from infra.smoke.outcomes import AWS_ONLY, Failed, Skipped
from infra.smoke.state import Run

# Requests fired at once at a throttled route that sends no email (gateway.THROTTLES).
THROTTLE_ROUTE = ("/api/auth/confirm", "POST")


def api_stage(run: Run) -> str:
    if run.target.local:
        raise Skipped(f"{AWS_ONLY} (locally chalice local serves the routes)")
    rest_api_id = run.target.rest_api_id
    stages = run.target.client("apigateway").get_stages(restApiId=rest_api_id)["item"]
    names = [s["stageName"] for s in stages]
    if len(names) != 1:
        raise Failed(f"REST API {rest_api_id} has {len(names)} stages {names}, not 1")
    throttle = stages[0].get("methodSettings", {}).get("*/*", {})
    rate, burst = gateway.THROTTLES[("/*", "*")]
    if ((throttle.get("throttlingRateLimit"), throttle.get("throttlingBurstLimit"))
            != (rate, burst)):
        raise Failed(f"stage {names[0]} throttles */* at "
                     f"{throttle.get('throttlingRateLimit')}/s "
                     f"burst {throttle.get('throttlingBurstLimit')}, "
                     f"not {rate}/s burst {burst}")
    return f"REST API {rest_api_id} has one stage, {names[0]!r}, throttled {rate:g}/s burst {burst}"


def throttling(run: Run) -> str:
    if run.target.local:
        raise Skipped(f"{AWS_ONLY} (chalice local throttles nothing)")
    path, method = THROTTLE_ROUTE
    rate, burst = gateway.THROTTLES[THROTTLE_ROUTE]
    count = burst * 4
    # An empty body: the app answers 400 without calling Cognito; no email is sent.
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(lambda _: app_api.http(run.target, method, path, {}),
                                range(count)))
    throttled = [body for status, body in answers if status == 429]
    if not throttled:
        raise Failed(f"{count} requests at once to {method} {path} (limit {rate:g}/s, burst "
                     f"{burst}): none answered 429 ({sorted({s for s, _ in answers})})")
    body = throttled[0]
    if not (isinstance(body, dict) and body.get("error") == "TooManyRequests"
            and body.get("message")):
        raise Failed(f"429 answered {body!r}, not the app's {{\"error\", \"message\"}} shape")
    return (f"{len(throttled)} of {count} requests to {method} {path} answered 429 "
            f"{json.dumps(body)}")
