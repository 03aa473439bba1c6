"""A crowd signing up at once through `make run`: every connection is served (listen
backlog), every [outbox] line arrives whole with its code (console), the app's AWS
clients neither multiply nor overflow their connection pool, and the local AWS queues a
burst of connections too.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid


from tests.helpers import PASSWORD
from tests.running import OUTBOX_LINE, RunningStack, connections_queued


PEOPLE = 60


def sign_up(app_url: str, username: str) -> int:
    body = json.dumps({"name": f"Person {username}", "email": f"{username}@example.com",
                       "username": username, "password": PASSWORD}).encode()
    request = urllib.request.Request(app_url + "api/auth/signup", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_sixty_people_signing_up_at_once_all_get_their_code_on_a_whole_console_line():
    usernames = [f"burst{n}-{uuid.uuid4().hex[:6]}" for n in range(PEOPLE)]
    with RunningStack() as stack:
        start, statuses, errors = threading.Barrier(PEOPLE), {}, []

        def person(username: str) -> None:
            start.wait()
            try:
                statuses[username] = sign_up(stack.app_url, username)
            except OSError as exc:  # a reset or refused connection
                errors.append(f"{username}: {exc!r}")

        threads = [threading.Thread(target=person, args=(name,)) for name in usernames]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[:5]
        assert sorted(set(statuses.values())) == [201], statuses
        for username in usernames:
            stack.wait_for_code(f"{username}@example.com", timeout=30)
        console = stack.lines + stack.err_lines
        # The local AWS (in `python -m local` itself) holds a burst beyond werkzeug's 128.
        aws_port = int(stack.aws_endpoint.rsplit(":", 1)[1])
        assert connections_queued(stack.process.pid, aws_port, 300) == 300
    outbox = [line for line in console if "[outbox] email" in line]
    assert len(outbox) == PEOPLE
    for line in outbox:  # whole: nothing glued before it, its code and nothing after
        assert OUTBOX_LINE.match(line), repr(line)
    assert not [line for line in console if "Connection pool is full" in line]
    assert not [line for line in console if "Traceback" in line], "\n".join(console)
