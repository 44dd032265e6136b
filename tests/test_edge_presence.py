"""Edge health over MQTT: retained online/offline status with a last will, and the heartbeat.

These tests run their own broker: amqtt hands every newly connecting client the retained messages
that match anybody's subscription, so retained statuses on the session broker would reach other
tests' subscribers.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_edge_publish import Subscriber
from test_edge_runner import ColourNamer, clip, settings  # noqa: F401 - clip is a fixture

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.contract import EdgeHeartbeat, EdgeStatus, heartbeat_topic, status_topic
from edge.detect.color import ColorPlateDetector
from edge.presence import Presence
from edge.publish import MqttPublisher
from edge.reader import PlateReader
from edge.runner import run_edge

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mqtt.md"


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    own = EmbeddedBroker("127.0.0.1", free_port()).start()
    yield own
    own.stop()


def collect(sub: Subscriber, quiet_s: float = 0.7) -> list[tuple[str, bytes]]:
    """Messages received until nothing more came for `quiet_s`."""
    got = []
    while True:
        try:
            got.append(sub.get(timeout=quiet_s))
        except queue.Empty:
            return got


def statuses(sub: Subscriber, n: int, site: str) -> list[EdgeStatus]:
    """The next `n` status messages of `site` (skipping retained ones of other tests)."""
    got: list[EdgeStatus] = []
    while len(got) < n:
        topic, payload = sub.get()
        if topic == status_topic(site, "gate-1"):
            got.append(EdgeStatus.from_payload(payload))
    return got


def test_status_is_retained_online_then_offline_on_a_clean_stop(broker: EmbeddedBroker) -> None:
    site = f"st{free_port()}"
    sub = Subscriber(broker, status_topic(site, "gate-1"))
    pub = MqttPublisher(broker.url, client_id=f"edge-{site}")
    presence = Presence(pub, site, "gate-1")
    try:
        assert pub.start(wait_s=10)
        (online,) = statuses(sub, 1, site)
        assert (online.state, online.reason, online.site) == ("online", "started", site)
        late = Subscriber(broker, status_topic(site, "gate-1"))  # a screen that connects later
        assert statuses(late, 1, site)[0].state == "online"  # retained
        late.close()
        assert presence.go_offline(timeout_s=5)
    finally:
        pub.close()
    (offline,) = statuses(sub, 1, site)
    assert (offline.state, offline.reason) == ("offline", "shutdown")
    sub.close()
    late = Subscriber(broker, status_topic(site, "gate-1"))
    try:
        seen = [EdgeStatus.from_payload(p) for t, p in collect(late) if t == status_topic(site, "gate-1")]
    finally:
        late.close()
    assert seen and all(s.reason == "shutdown" for s in seen)  # a clean stop: the will was discarded


_CHILD = textwrap.dedent(
    """
    import sys, time
    from edge.presence import Presence
    from edge.publish import MqttPublisher

    pub = MqttPublisher(sys.argv[1], client_id=sys.argv[2])
    Presence(pub, sys.argv[3], "gate-1")
    assert pub.start(wait_s=10)
    time.sleep(60)
    """
)


def test_last_will_marks_a_killed_edge_offline(broker: EmbeddedBroker) -> None:
    site = f"lwt{free_port()}"
    sub = Subscriber(broker, status_topic(site, "gate-1"))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, broker.url, f"edge-{site}", site],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        (online,) = statuses(sub, 1, site)
        assert online.state == "online"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        (will,) = statuses(sub, 1, site)
        assert (will.state, will.reason, will.site) == ("offline", "connection_lost", site)
    finally:
        if child.poll() is None:
            child.kill()
        sub.close()


def test_run_publishes_status_and_heartbeats(
    clip: Path, tmp_path: Path, broker: EmbeddedBroker  # noqa: F811 - the fixture
) -> None:
    s = settings(tmp_path, broker, str(clip)).model_copy(update={"realtime": True, "heartbeat_s": 0.4})
    sub = Subscriber(broker, f"dealergate/{s.site}/{s.camera}/+")
    try:
        stats = run_edge(s, reader=PlateReader(ColorPlateDetector(), ColourNamer()))  # 4 s of video
        messages = [(t, p) for t, p in collect(sub) if t.startswith(f"dealergate/{s.site}/")]
    finally:
        sub.close()
    kinds = [topic.rsplit("/", 1)[1] for topic, _ in messages]
    assert kinds[0] == "status" and kinds[-1] == "status"
    assert EdgeStatus.from_payload(messages[0][1]).state == "online"
    assert EdgeStatus.from_payload(messages[-1][1]).state == "offline"
    assert kinds.count("arrival") == 2 == stats.delivered
    beats = [EdgeHeartbeat.from_payload(p) for t, p in messages if t == heartbeat_topic(s.site, s.camera)]
    assert 6 <= len(beats) <= 11  # every 0.4 s for 4 s
    # a beat may fall just after the clip's end or between an arrival's outbox write and its PUBACK
    states = [b.source_state for b in beats]
    assert set(states[:-1]) == {"connected"} and states[-1] in ("connected", "ended")
    depths = [b.outbox_depth for b in beats]
    assert max(depths) <= 2 and depths.count(0) >= len(beats) - 2
    assert all(20 <= b.fps <= 30 for b in beats[1:-1])  # the clip's own rate: 25 fps
    assert sum(b.arrivals for b in beats) <= 2
    latencies = [b.arrival_latency_ms for b in beats if b.arrival_latency_ms is not None]
    assert latencies and all(0 < ms < 5000 for ms in latencies)
    assert len(stats.arrival_latency_ms) == 2 and max(stats.arrival_latency_ms) < 5000
    assert beats[-1].uptime_s > beats[0].uptime_s


def test_docs_examples_of_status_and_heartbeat_validate() -> None:
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.DOTALL)]
    kinds = {b.get("kind"): b for b in blocks}
    EdgeStatus.model_validate(kinds["status"])
    EdgeHeartbeat.model_validate(kinds["heartbeat"])
