"""The on-disk outbox: arrivals survive a broker outage and an edge killed mid-run, and reach the
broker once each."""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_edge_publish import Subscriber, event

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.contract import ArrivalEvent, arrival_topic
from dealergate.synth.gate_clip import make_gate_clip
from edge.config import EdgeSettings
from edge.delivery import OutboxCourier
from edge.outbox import Outbox
from edge.publish import MqttPublisher

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def drain_ids(sub: Subscriber, quiet_s: float = 0.5) -> list[str]:
    """Event ids received until nothing more came for `quiet_s`."""
    ids: list[str] = []
    while True:
        try:
            _, payload = sub.get(timeout=quiet_s)
        except queue.Empty:
            return ids
        ids.append(str(ArrivalEvent.from_payload(payload).event_id))


# -- the table itself --------------------------------------------------------------------------


def test_each_revision_is_its_own_row_stored_once(tmp_path: Path) -> None:
    """Exactly once per (event_id, revision): a correction is queued after its first publication,
    and adding either again changes nothing."""
    box = Outbox(tmp_path / "outbox.sqlite3")
    try:
        first = event(plate="京A12845")
        fix = first.model_copy(update={"revision": 1, "plate": "京A12345"})
        for e in (first, fix, first, fix):
            box.add(e)
        items = box.pending(10)
        assert [(i.event_id, i.revision) for i in items] == [(str(first.event_id), 0), (str(first.event_id), 1)]
        assert [i.key for i in items] == [str(first.event_id), f"{first.event_id}#1"]
        assert ArrivalEvent.from_payload(items[1].payload).plate == "京A12345"
        assert [i.revision for i in box.pending(10, exclude={items[0].key})] == [1]
        assert box.mark_delivered(str(first.event_id), 1)
        assert not box.mark_delivered(str(first.event_id), 1)
        assert box.depth == 1  # the first publication still waits for its own PUBACK
    finally:
        box.close()


def test_a_version_1_outbox_is_upgraded_with_its_pending_rows(tmp_path: Path) -> None:
    """An edge updated while arrivals wait on disk still sends them, as revision 0."""
    path = tmp_path / "old.sqlite3"
    old = event(plate="京A12345")
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE outbox (event_id TEXT PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, "
        "created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'pending', "
        "delivered_at REAL); PRAGMA user_version = 1;"
    )
    db.execute(
        "INSERT INTO outbox (event_id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
        (str(old.event_id), old.topic(), old.to_payload(), 1.0),
    )
    db.commit()
    db.close()
    box = Outbox(path)
    try:
        (item,) = box.pending(10)
        assert (item.event_id, item.revision, item.payload) == (str(old.event_id), 0, old.to_payload())
        box.add(old.model_copy(update={"revision": 1}))
        assert box.depth == 2
        assert box._db.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        box.close()


def test_rows_survive_reopening_and_are_delivered_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    a, b = event(plate="京A12345"), event(plate="苏E67890")
    box = Outbox(path)
    box.add(a)
    box.add(b)
    box.add(a)  # the same event again (a retry of the edge loop) is one row
    assert box.depth == 2
    assert [i.event_id for i in box.pending(10)] == [str(a.event_id), str(b.event_id)]  # oldest first
    assert [i.event_id for i in box.pending(10, exclude={str(a.event_id)})] == [str(b.event_id)]
    box.mark_sent(str(a.event_id))
    assert box.mark_delivered(str(a.event_id))
    assert not box.mark_delivered(str(a.event_id))  # a second PUBACK changes nothing
    journal = box._db.execute("PRAGMA journal_mode").fetchone()[0]
    box.close()

    assert journal == "wal"
    again = Outbox(path)  # a restart
    try:
        items = again.pending(10)
        assert [i.event_id for i in items] == [str(b.event_id)]
        assert ArrivalEvent.from_payload(items[0].payload) == b
        assert items[0].topic == b.topic() and items[0].attempts == 0
        assert again.counts() == {"pending": 1, "delivered": 1}
    finally:
        again.close()


def test_delivered_rows_are_pruned_after_the_retention(tmp_path: Path) -> None:
    now = [1_000_000.0]
    box = Outbox(tmp_path / "o.sqlite3", retention_s=3600, clock=lambda: now[0])
    try:
        old, fresh, waiting = event(), event(), event()
        for e in (old, fresh, waiting):
            box.add(e)
        box.mark_delivered(str(old.event_id))
        now[0] += 3000
        box.mark_delivered(str(fresh.event_id))
        now[0] += 1000  # old: delivered 4000 s ago, fresh: 1000 s ago
        assert box.prune() == 1
        assert box.counts() == {"pending": 1, "delivered": 1}
        now[0] += 10 * 86_400  # pending rows are never pruned, however old
        assert box.prune() == 1
        assert [i.event_id for i in box.pending(5)] == [str(waiting.event_id)]
    finally:
        box.close()


def test_a_full_outbox_prunes_delivered_first_then_drops_the_oldest_pending_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_rows=3)
    try:
        e1, e2, e3, e4, e5 = (event(plate=p) for p in ("京A11111", "京A22222", "京A33333", "京A44444", "京A55555"))
        for e in (e1, e2, e3):
            box.add(e)
        box.mark_delivered(str(e1.event_id))
        with caplog.at_level(logging.WARNING, logger="edge.outbox"):
            box.add(e4)  # room made by pruning the delivered e1, nothing pending lost
        assert box.dropped == 0 and box.depth == 3
        assert "outbox full" in caplog.text and "pruned 1 delivered" in caplog.text
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="edge.outbox"):
            box.add(e5)  # all pending: the oldest pending arrival goes, with an error naming it
        assert box.dropped == 1
        assert [i.event_id for i in box.pending(5)] == [str(e.event_id) for e in (e3, e4, e5)]
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "京A22222" in errors[0].getMessage() and str(e2.event_id) in errors[0].getMessage()
    finally:
        box.close()


# -- delivery through a broker that goes away -------------------------------------------------------


def test_broker_down_during_three_arrivals_then_back_up_delivers_each_once(tmp_path: Path) -> None:
    port = free_port()
    site = f"outage{port}"
    broker = EmbeddedBroker("127.0.0.1", port).start()
    sub = Subscriber(broker, arrival_topic(site, "gate-1"))
    box = Outbox(tmp_path / "o.sqlite3")
    pub = MqttPublisher(broker.url, client_id=f"edge-{site}")
    courier = OutboxCourier(box, pub)
    try:
        assert pub.start(wait_s=10)
        courier.start()
        first = event(site)
        box.add(first)
        courier.wake()
        assert sub.get()[0] == first.topic()
        wait_for(lambda: box.depth == 0, 10, "the first arrival's PUBACK")

        sub.close()
        broker.stop()
        wait_for(lambda: not pub.connected, 10, "the edge to notice the outage")
        down_since = time.monotonic()
        during = [event(site, plate) for plate in ("京A11111", "苏E22222", "粤B33333")]
        for e in during:
            box.add(e)
            courier.wake()
        time.sleep(0.3)
        assert box.depth == 3  # stored, not acknowledged (nothing to acknowledge them)
        assert all(i.attempts == 0 for i in box.pending(5))  # and not sent into the void

        # paho retries 1 s, then 3 s after the loss: come back between the two, so the test's
        # subscriber is listening before the edge reconnects
        time.sleep(max(0.0, 1.5 - (time.monotonic() - down_since)))
        broker = EmbeddedBroker("127.0.0.1", port).start()
        sub = Subscriber(broker, arrival_topic(site, "gate-1"))
        wait_for(lambda: box.depth == 0, 15, "the three arrivals to be acknowledged")
        got = drain_ids(sub)
        assert sorted(got) == sorted(str(e.event_id) for e in during)  # each exactly once
        assert box.counts() == {"pending": 0, "delivered": 4}
        assert courier.delivered == 4
    finally:
        courier.stop()
        pub.close()
        box.close()
        sub.close()
        broker.stop()


# -- an edge killed mid-run ---------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_edge_runner import ColourNamer
    from edge.config import EdgeSettings
    from edge.detect.color import ColorPlateDetector
    from edge.reader import PlateReader
    from edge.runner import run_edge

    settings = EdgeSettings.model_validate_json(sys.argv[1])
    run_edge(settings, reader=PlateReader(ColorPlateDetector(), ColourNamer()))
    """
)


def _pending_rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0])
    except sqlite3.OperationalError:  # the table is being created
        return 0


def test_edge_killed_with_arrivals_in_its_outbox_delivers_them_after_restart(tmp_path: Path) -> None:
    from test_edge_runner import ColourNamer

    from edge.detect.color import ColorPlateDetector
    from edge.reader import PlateReader
    from edge.runner import run_edge

    port = free_port()
    site = f"kill{port}"
    clip = tmp_path / "gate.mp4"
    make_gate_clip(clip, [("京A12345", "blue"), ("苏E67890", "yellow")], seconds_per_car=2.0, seed=3)
    settings = EdgeSettings(
        source=str(clip),
        site=site,
        mqtt_url=f"mqtt://127.0.0.1:{port}",  # the broker is down for the whole first run
        snapshot_dir=tmp_path / "snaps",
        outbox_path=tmp_path / "outbox.sqlite3",
        realtime=False,
    )
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(tests=str(TESTS)), settings.model_dump_json()],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_for(lambda: _pending_rows(settings.outbox_file) == 2 or child.poll() is not None, 30, "two arrivals")
        assert child.poll() is None, "the edge exited instead of waiting for the broker"
        child.send_signal(signal.SIGKILL)  # no flush, no clean shutdown
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert _pending_rows(settings.outbox_file) == 2

    broker = EmbeddedBroker("127.0.0.1", port).start()
    sub = Subscriber(broker, arrival_topic(site, "gate-1"))
    try:
        quiet = tmp_path / "quiet.mp4"
        make_gate_clip(quiet, [], min_duration_s=1.0)  # an empty driveway: no new arrivals
        restarted = settings.model_copy(update={"source": str(quiet)})
        stats = run_edge(restarted, reader=PlateReader(ColorPlateDetector(), ColourNamer()))
        got = [ArrivalEvent.from_payload(sub.get()[1]) for _ in range(2)]
        assert drain_ids(sub) == []  # and nothing else: no duplicate event_id
    finally:
        sub.close()
        broker.stop()
    assert stats.arrivals == 0 and stats.delivered == 2 and stats.unacknowledged == 0
    assert sorted(e.plate for e in got) == ["京A12345", "苏E67890"]
    assert len({e.event_id for e in got}) == 2
    with sqlite3.connect(settings.outbox_file) as db:
        rows = db.execute("SELECT state, attempts FROM outbox").fetchall()
    assert rows == [("delivered", 1), ("delivered", 1)]
    payload = json.loads(got[0].to_payload())
    assert payload["site"] == site and payload.get("crop_ref")  # the stored event, crop reference included
