"""What runs inside each fresh interpreter of the benchmark (a stand-in for one Lambda container).

    python -m bench.child MODE [ARG]     (cwd = the project root)

Modes:
  baseline        nothing: the interpreter's own start and memory
  cold [bare]     `import app` (bare: the baseline, bench/bare_app.py): wall time, peak RSS,
                  which heavy libraries got imported
  attrib MOD...   import MOD... one after the other, then app: what each adds to the import
  first KIND      `import app`, then the first request of KIND (page|guarded|login) through
                  the Lambda handler `app.app(event, context)`, exactly what Lambda calls;
                  KIND verify: the first chalicelib.tokens.verify_id_token alone;
                  KIND bare-page|bare-parameter: the same for the baseline bare app
  warm            warm latency of every path, then memory growth over many requests

Only `time` and `sys` are imported before `import app` is timed; everything else the child needs
is imported after, so the numbers are the app's own. The result is one JSON line on stdout.
The moto server and its libraries live in the parent process, never here: moto imports boto3,
jinja2 and cryptography, and would hide exactly the costs being measured.
"""
import sys
import time

HEAVY = ("boto3", "botocore", "jinja2", "jwt", "cryptography", "moto", "urllib3", "requests")


def _emit(result):
    import json

    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def _status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def _peak_rss_mb():
    # VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss survives exec, so a child spawned by
    # a big parent (vfork) reports the parent's peak.
    return _status_mb("VmHWM")


def _rss_mb():
    return _status_mb("VmRSS")


def _heavy_loaded():
    return sorted(name for name in HEAVY if name in sys.modules)


def _guard_network():
    """Refuse any connection or name lookup that is not 127.0.0.1/localhost."""
    import socket

    allowed = {"127.0.0.1", "localhost", "::1"}
    original_connect, original_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in allowed:
            raise OSError(f"bench: refusing to connect to {address!r} (127.0.0.1 only)")
        return original_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in allowed and host not in (None, b"127.0.0.1", b"localhost"):
            raise OSError(f"bench: refusing to resolve {host!r} (127.0.0.1 only)")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.getaddrinfo = getaddrinfo


def _request(kind):
    """The API Gateway event of KIND (local.event_sources.events, imported after `import app`
    was timed)."""
    import json
    import os

    from local.event_sources.events import api_event as lambda_event

    if kind == "page":
        return lambda_event("GET", "/"), (200,)
    if kind == "guarded":
        token = os.environ["BENCH_ID_TOKEN"]
        return lambda_event("GET", "/api/greeting", {"Authorization": f"{token}"}), (200, 202)
    if kind == "bare-page":
        return lambda_event("GET", "/"), (200,)
    if kind == "bare-parameter":
        return lambda_event("GET", "/parameter"), (200,)
    if kind == "login":
        body = json.dumps({"username": os.environ["BENCH_USERNAME"],
                           "password": os.environ["BENCH_PASSWORD"]})
        return lambda_event("POST", "/api/auth/login", {"Content-Type": "application/json"},
                            body), (200,)
    raise SystemExit(f"unknown request kind {kind!r}")


# --- modes ---------------------------------------------------------------------------------

def baseline():
    _emit({"peak_rss_mb": _peak_rss_mb(), "modules": len(sys.modules)})


def cold(bare=False):
    before = len(sys.modules)
    c0, t0 = time.process_time(), time.perf_counter()
    if bare:
        import bench.bare_app  # noqa: F401
    else:
        import app  # noqa: F401
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    _emit({"import_s": elapsed, "import_cpu_s": cpu, "peak_rss_mb": _peak_rss_mb(),
           "heavy": _heavy_loaded(),
           "new_modules": len(sys.modules) - before,
           "urllib_request": "urllib.request" in sys.modules})


def attrib(steps):
    """Import `steps` one after the other: each one's wall time is what it adds to `import app`."""
    import importlib

    costs = {}
    for name in steps + ["app"]:
        t0 = time.perf_counter()
        try:
            importlib.import_module(name)
        except Exception as exc:  # a teammate's module may be half-written  # noqa: BLE001 (a failed measurement is reported, not raised)
            costs[name] = {"error": repr(exc)}
            continue
        costs[name] = {"ms": (time.perf_counter() - t0) * 1000}
    _emit({"steps": costs})


def first(kind):
    c0, t0 = time.process_time(), time.perf_counter()
    if kind.startswith("bare-"):
        import bench.bare_app as app
    else:
        import app
    t1 = time.perf_counter()
    heavy_after_import = _heavy_loaded()
    _guard_network()
    if kind == "verify":  # the token check alone: PyJWT + cryptography + the JWKS fetch
        import os

        from chalicelib import tokens

        token, ok = os.environ["BENCH_ID_TOKEN"], (200,)
        t2 = time.perf_counter()
        response = {"statusCode": 200 if tokens.verify_id_token(token)["token_use"] == "id" else 0}
        t3 = time.perf_counter()
        second = {"statusCode": 200 if tokens.verify_id_token(token)["token_use"] == "id" else 0}
        t4 = time.perf_counter()
    else:
        from local.event_sources.events import LambdaContext

        event, ok = _request(kind)
        t2 = time.perf_counter()
        response = app.app(event, LambdaContext("comm-it-bench", request_id="bench"))
        t3 = time.perf_counter()
        second = app.app(event, LambdaContext("comm-it-bench", request_id="bench"))
        t4 = time.perf_counter()
    cpu = time.process_time() - c0
    status = response.get("statusCode")
    _emit({
        "kind": kind, "status": status, "ok": status in ok and second.get("statusCode") in ok,
        "body": "" if status in ok else str(response.get("body"))[:300],
        "import_s": t1 - t0, "first_s": t3 - t2, "second_s": t4 - t3,
        "total_s": (t1 - t0) + (t3 - t2),  # building the event is the bench's, not the app's
        "cpu_s": cpu,
        "peak_rss_mb": _peak_rss_mb(), "heavy_after_import": heavy_after_import,
        "heavy_after_request": _heavy_loaded(),
    })


def warm():
    import gc
    import json
    import os
    import tracemalloc

    import app
    from chalice.test import Client

    from chalicelib import tokens

    _guard_network()
    token = os.environ["BENCH_ID_TOKEN"]
    auth = {"Authorization": f"{token}"}
    login_body = json.dumps({"username": os.environ["BENCH_USERNAME"],
                             "password": os.environ["BENCH_PASSWORD"]})
    counts = json.loads(os.environ.get("BENCH_COUNTS", "{}"))
    results = {"scenarios": {}}

    with Client(app.app, stage_name="local", project_dir=os.getcwd()) as client:
        def page():
            response = client.http.get("/")
            assert response.status_code == 200, response.body

        def greeting():
            response = client.http.get("/api/greeting", headers=auth)
            assert response.status_code in (200, 202), response.body
            return response.status_code

        def card():
            response = client.http.get("/api/greeting/card", headers=auth)
            assert response.status_code in (200, 202), response.body
            return response.status_code

        def login():
            response = client.http.post("/api/auth/login", body=login_body,
                                        headers={"Content-Type": "application/json"})
            assert response.status_code == 200, response.body

        def verify():
            claims = tokens.verify_id_token(token)
            assert claims["token_use"] == "id"

        scenarios = {"page": page, "greeting": greeting, "card": card, "login": login,
                     "verify": verify}
        for name, call in scenarios.items():
            n = int(counts.get(name, 1000))
            statuses = {}
            for _ in range(max(10, n // 20)):  # warm-up: caches, JWKS, connection pool
                call()
            samples = []
            gc.collect()
            start = time.perf_counter()
            for _ in range(n):
                t0 = time.perf_counter_ns()
                status = call()
                samples.append(time.perf_counter_ns() - t0)
                if status is not None:
                    statuses[status] = statuses.get(status, 0) + 1
            wall = time.perf_counter() - start
            results["scenarios"][name] = {"samples_ns": samples, "wall_s": wall,
                                          "statuses": {str(k): v for k, v in statuses.items()}}

        # Memory: the steady state after warm-up must not grow with the number of requests.
        n = int(counts.get("leak", 2000))
        mix = [page, greeting] * (n // 2)
        n_login = int(counts.get("leak_login", 0))

        def loop():
            for call in mix:
                call()
            for _ in range(n_login):
                login()

        loop()  # one full round first, so every lazily filled cache is filled
        gc.collect()
        rss0 = _rss_mb()
        loop()
        gc.collect()
        rss1 = _rss_mb()
        tracemalloc.start()
        loop()  # warm the tracing itself
        gc.collect()
        traced0 = tracemalloc.get_traced_memory()[0]
        snap0 = tracemalloc.take_snapshot()
        loop()
        gc.collect()
        traced1 = tracemalloc.get_traced_memory()[0]
        top = tracemalloc.take_snapshot().compare_to(snap0, "lineno")[:5]
        tracemalloc.stop()
        requests = len(mix) + n_login
        results["memory"] = {
            "requests": requests,
            "rss_before_mb": rss0, "rss_after_mb": rss1, "rss_growth_mb": rss1 - rss0,
            "traced_growth_kb": (traced1 - traced0) / 1024.0,
            "traced_top": [str(stat) for stat in top],
        }
    results["peak_rss_mb"] = _peak_rss_mb()
    results["heavy"] = _heavy_loaded()
    _emit(results)


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "baseline":
        baseline()
    elif mode == "cold":
        cold(bare=argv[2:] == ["bare"])
    elif mode == "attrib":
        attrib(argv[2:])
    elif mode == "first":
        first(argv[2])
    elif mode == "warm":
        warm()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
