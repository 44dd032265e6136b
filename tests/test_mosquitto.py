"""The production broker: Mosquitto started from systemd/mosquitto/dealergate.conf.

Checks what the sample promises: no anonymous clients, a persistent subscriber (the server) gets
QoS 1 arrivals published while it was away, even across a broker restart (persistence).
"""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dealergate.broker import free_port, port_open

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "systemd" / "mosquitto" / "dealergate.conf"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
pytestmark = pytest.mark.skipif(
    not Path(MOSQUITTO).exists(), reason="mosquitto is not installed (scripts/setup-system.sh installs it)"
)
USER, PASSWORD = "dealergate-edge", "s3cret-gate"


class Mosquitto:
    """A mosquitto process running the sample config, rewritten to a temp dir and a free port."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        passwd = tmp / "passwd"
        passwd.write_text("")
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), USER, PASSWORD], check=True)
        passwd.chmod(0o600)
        text = SAMPLE.read_text(encoding="utf-8")
        text = text.replace("/etc/mosquitto/dealergate.passwd", str(passwd))
        text = text.replace("/var/lib/mosquitto/", f"{tmp}/")
        text = re.sub(r"^listener 1883 0\.0\.0\.0$", f"listener {self.port} 127.0.0.1", text, flags=re.M)
        # started as root, mosquitto drops to the `mosquitto` user, who cannot read pytest's private
        # temp dir: keep the test broker running as whoever runs the tests
        text += f"\nuser {getpass.getuser()}\n"
        self.conf = tmp / "mosquitto.conf"
        self.conf.write_text(text, encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto did not start: {err}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file on the way out
            self.proc.wait(10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path).start()
    yield b
    b.stop()


def client(
    port: int, client_id: str, password: str = PASSWORD, clean: bool = True, on_message: object = None
) -> tuple[mqtt.Client, int]:
    """A connected client and its CONNACK code; `on_message` is set before connecting, because a
    persistent session's queued messages arrive right after CONNACK."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    c.username_pw_set(USER, password)
    if on_message is not None:
        c.on_message = on_message
    result: list[int] = []
    connected = threading.Event()

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        result.append(int(getattr(reason, "value", reason)))
        connected.set()

    c.on_connect = on_connect
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert connected.wait(5)
    return c, result[0]


def publish_arrival(port: int, payload: str) -> None:
    pub, rc = client(port, "edge-gate-1")
    assert rc == 0
    pub.publish("dealergate/demo/gate-1/arrival", payload, qos=1).wait_for_publish(5)
    pub.disconnect()
    pub.loop_stop()


def collecting_subscriber(port: int, received: list[bytes], got: threading.Event) -> mqtt.Client:
    sub, rc = client(
        port, "dealergate-server", clean=False, on_message=lambda _c, _u, msg: (received.append(msg.payload), got.set())
    )
    assert rc == 0
    sub.subscribe("dealergate/+/+/arrival", qos=1)
    time.sleep(0.3)
    return sub


def test_anonymous_and_wrong_passwords_are_refused(broker: Mosquitto) -> None:
    anonymous = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="anon")
    refused = threading.Event()
    anonymous.on_connect = lambda _c, _u, _f, reason, _p: refused.set() if reason.is_failure else None
    anonymous.connect("127.0.0.1", broker.port)
    anonymous.loop_start()
    assert refused.wait(5)
    anonymous.loop_stop()
    wrong, rc = client(broker.port, "intruder", password="guess")
    wrong.loop_stop()
    assert rc != 0


def test_arrivals_queued_for_the_server_survive_a_broker_restart(broker: Mosquitto) -> None:
    received: list[bytes] = []
    got = threading.Event()
    sub = collecting_subscriber(broker.port, received, got)
    sub.disconnect()  # the server goes away; its persistent session stays
    sub.loop_stop()

    publish_arrival(broker.port, '{"plate": "粤A3K7F2"}')
    broker.stop()
    broker.start()  # same config, same persistence file

    sub = collecting_subscriber(broker.port, received, got)
    assert got.wait(5), "the queued arrival was lost in the restart"
    time.sleep(0.3)
    sub.disconnect()
    sub.loop_stop()
    assert received == ['{"plate": "粤A3K7F2"}'.encode()]
