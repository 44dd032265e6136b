"""Arrivals in: the MQTT subscriber and the per-event pipeline (store → match → build → push).

The pipeline (`ArrivalProcessor`) knows nothing about MQTT, so tests and tools can feed it
events directly; `MqttIngest` only adds the broker connection: a persistent session with a
fixed client id (arrivals published while the server was down are delivered when it returns)
and an acknowledgement sent only after the arrival is stored.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dealergate.contract import ARRIVAL_SUBSCRIPTION, ArrivalEvent
from dealergate.plates import mask_plate
from server.alerts import Alerts, build_alerts
from server.config import ServerSettings
from server.db import local_today, session_scope
from server.logs import log_event
from server.matching import match_vehicle, normalize_plate
from server.models import Arrival
from server.push import Audience, PushHub
from server.tasks import open_arrival_task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArrivalOutcome:
    """What became of one event: a new alert, a repeat within the dwell window, or a duplicate."""

    status: Literal["alerted", "repeat", "duplicate"]
    event_id: str
    matched: bool
    alerts: Alerts | None = None


class ArrivalProcessor:
    """Stores, matches and announces arrivals; safe to call from any thread."""

    def __init__(self, engine: Engine, settings: ServerSettings, hub: PushHub | None = None) -> None:
        self._engine = engine
        self._settings = settings
        self._hub = hub

    def handle_payload(self, payload: bytes, topic: str | None = None) -> ArrivalOutcome | None:
        """Validate a raw MQTT payload and handle it; None when it is malformed (logged, dropped)."""
        try:
            event = ArrivalEvent.from_payload(payload)
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
            )
            log_event(
                log,
                "arrival.malformed",
                level=logging.WARNING,
                topic=topic,
                bytes=len(payload),
                errors=errors,
            )
            return None
        if topic is not None and topic != event.topic():
            log_event(
                log,
                "arrival.topic_mismatch",
                level=logging.WARNING,
                topic=topic,
                expected=event.topic(),
                event_id=event.event_id,
            )
            return None
        return self.handle_arrival(event)

    def handle_arrival(self, event: ArrivalEvent) -> ArrivalOutcome:
        """Store the event once, decide whether it is a new visit, match the plate, push the alerts."""
        event_id = str(event.event_id)
        plate = normalize_plate(event.plate)
        captured = event.captured_at
        window = timedelta(seconds=self._settings.dwell_window_s)
        tz = self._settings.tz
        try:
            with session_scope(self._engine) as session:
                if session.exec(select(Arrival.id).where(Arrival.event_id == event_id)).first() is not None:
                    return self._duplicate(event_id, plate)
                repeat = self._seen_within(session, plate, captured, window)
                found = match_vehicle(session, plate)
                vehicle = found.vehicle
                arrival = Arrival(
                    event_id=event_id,
                    site=event.site,
                    camera=event.camera,
                    plate=plate,
                    confidence=event.confidence,
                    plate_color=event.plate_color.value,
                    plate_type=event.plate_type.value,
                    captured_at=captured,
                    vehicle_id=vehicle.id if vehicle else None,
                    match=found.kind,
                    alerted=not repeat,
                    crop_jpeg_b64=event.crop_jpeg_b64,
                )
                session.add(arrival)
                session.flush()
                today = local_today(tz)
                alerts = None if repeat else build_alerts(session, arrival, today, tz)
                if alerts is not None and alerts.file is not None and alerts.assessment is not None:
                    open_arrival_task(session, arrival, alerts.file, alerts.assessment, today)
        except IntegrityError:  # the same event stored concurrently (redelivery race)
            return self._duplicate(event_id, plate)
        matched = vehicle is not None
        log_event(
            log,
            "arrival.stored",
            event_id=event_id,
            plate=mask_plate(plate),
            camera=event.camera,
            match=found.kind,
            new_visit=not repeat,
            latency_ms=int(
                (datetime.now(event.captured_at.tzinfo) - event.captured_at).total_seconds() * 1000
            ),
        )
        if alerts is None:
            return ArrivalOutcome("repeat", event_id, matched)
        if self._hub is not None:
            self._hub.publish_threadsafe(
                {
                    Audience.FRONTDESK: {"type": "arrival", "data": alerts.frontdesk},
                    Audience.ADVISOR: {"type": "arrival", "data": alerts.advisor},
                    Audience.KIOSK: {"type": "arrival", "data": alerts.kiosk},
                }
            )
        return ArrivalOutcome("alerted", event_id, matched, alerts)

    @staticmethod
    def _seen_within(session: Session, plate: str, captured: datetime, window: timedelta) -> bool:
        """True when the plate was already seen within ± the dwell window (a queueing or returning car)."""
        if window.total_seconds() <= 0:
            return False
        hit = session.exec(
            select(Arrival.id).where(
                Arrival.plate == plate,
                col(Arrival.captured_at) >= captured - window,
                col(Arrival.captured_at) <= captured + window,
            )
        ).first()
        return hit is not None

    @staticmethod
    def _duplicate(event_id: str, plate: str) -> ArrivalOutcome:
        log_event(log, "arrival.duplicate", event_id=event_id, plate=mask_plate(plate))
        return ArrivalOutcome("duplicate", event_id, matched=False)


def handle_arrival(
    event: ArrivalEvent, *, engine: Engine, settings: ServerSettings, hub: PushHub | None = None
) -> ArrivalOutcome:
    """One-shot form of `ArrivalProcessor.handle_arrival` for scripts and tests."""
    return ArrivalProcessor(engine, settings, hub).handle_arrival(event)


class MqttIngest:
    """paho-mqtt subscriber on its own thread, reconnecting forever with back-off (1 s to 10 s)."""

    def __init__(self, settings: ServerSettings, processor: ArrivalProcessor) -> None:
        self._settings = settings
        self._processor = processor
        self._connected = threading.Event()
        self._stopping = False
        self._failures = 0
        target = settings.mqtt_target()
        self._target = target
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=False,  # persistent session: the broker queues QoS 1 arrivals while we are away
            protocol=mqtt.MQTTv311,
            manual_ack=True,  # acknowledge only once the arrival is in the database
        )
        if target.username:
            client.username_pw_set(target.username, target.password)
        if target.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> None:
        """Begin connecting in the background; never raises when the broker is down (it keeps retrying)."""
        log_event(
            log,
            "mqtt.starting",
            url=self._settings.mqtt_url_redacted(),
            client_id=self._settings.client_id,
            topic=ARRIVAL_SUBSCRIPTION,
        )
        self._client.connect_async(self._target.host, self._target.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        log_event(log, "mqtt.stopped")

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: mqtt.ReasonCode,
        _properties: object,
    ) -> None:
        if reason_code.is_failure:
            log_event(log, "mqtt.refused", level=logging.ERROR, reason=str(reason_code))
            return
        self._failures = 0
        # Subscribing again is harmless with a resumed session and needed with a fresh one.
        client.subscribe(ARRIVAL_SUBSCRIPTION, qos=1)
        self._connected.set()
        log_event(
            log,
            "mqtt.connected",
            url=self._settings.mqtt_url_redacted(),
            session_present=bool(flags.session_present),
        )

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        self._failures += 1
        if self._failures == 1 or self._failures % 10 == 0:
            log_event(
                log,
                "mqtt.unreachable",
                level=logging.WARNING,
                url=self._settings.mqtt_url_redacted(),
                attempts=self._failures,
                retrying=True,
            )

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason_code: mqtt.ReasonCode,
        _properties: object,
    ) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._stopping:
            log_event(log, "mqtt.disconnected", level=logging.WARNING, reason=str(reason_code), retrying=True)

    def _on_message(self, client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            self._processor.handle_payload(msg.payload, msg.topic)
        except Exception:  # noqa: BLE001 - left unacknowledged, so the broker delivers it again
            log_event(log, "arrival.failed", level=logging.ERROR, exc_info=True, topic=msg.topic, mid=msg.mid)
            return
        client.ack(msg.mid, msg.qos)
