"""Snapshots saved from two threads at once (the saver thread and POST /_local/save) never
fail and leave one whole file: local/run/state.py's Store serialises its saves."""
from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path

from local.run import moto_pickle, state


def test_two_threads_saving_at_once_both_succeed_and_leave_a_whole_snapshot(
        tmp_path: Path, monkeypatch) -> None:
    store = state.Store(tmp_path)
    made = iter(range(10**6))

    def capture() -> bytes:
        time.sleep(0.001)  # the window in which the other thread's save lands
        return pickle.dumps({"snapshot": next(made), "padding": b"x" * 200_000})

    monkeypatch.setattr(store, "capture", capture)
    failures: list[BaseException] = []

    def save_many() -> None:
        for _ in range(40):
            try:
                store.save()
            except BaseException as exc:  # noqa: BLE001 - collected, asserted below
                failures.append(exc)

    threads = [threading.Thread(target=save_many) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert pickle.loads(store.path.read_bytes())["padding"] == b"x" * 200_000  # noqa: S301
    assert list(tmp_path.iterdir()) == [store.path]  # no partial file left behind


def test_a_stop_saves_again_only_what_the_last_snapshot_lacks(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C saves once more only when a write, the stream positions or a missing file say the
    last snapshot is behind (a snapshot of 10,000 people takes about a second)."""
    store = state.Store(tmp_path)
    positions = {"stream shard": "1"}
    store.extras["stream_positions"] = lambda: dict(positions)
    captures: list[int] = []
    capture = store.capture
    monkeypatch.setattr(store, "capture", lambda: (captures.append(1), capture())[1])
    store.save()
    store.stop()
    assert len(captures) == 1  # nothing new since the save
    positions["stream shard"] = "2"
    store.stop()
    assert len(captures) == 2
    assert moto_pickle.loads(store.path.read_bytes())["extras"]["stream_positions"] == positions
    state.GATE.changes += 1  # a request that may have changed the local AWS
    store.stop()
    assert len(captures) == 3
    store.stop()
    assert len(captures) == 3
    store.path.unlink()
    store.stop()
    assert len(captures) == 4 and store.path.exists()


def test_a_receive_that_hands_messages_out_needs_a_snapshot_and_an_empty_poll_does_not() -> None:
    """A received message is in flight (and counted) until deleted: the snapshot must hold that,
    or a restart would not deliver it again. An idle long poll changes nothing (no saves)."""
    receive = {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}
    assert state.changes_state(receive, b'{"Messages": [{"MessageId": "m", '
                                        b'"ReceiptHandle": "r", "Body": "{}"}]}')
    assert not state.changes_state(receive, b"{}")
    assert not state.changes_state({"REQUEST_METHOD": "POST",
                                    "HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameters"}, b"{}")
    assert state.changes_state({"REQUEST_METHOD": "POST",
                                "HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, b"{}")
