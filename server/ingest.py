"""Arrivals in: the MQTT subscriber and the per-event pipeline (store → match → build → push).

The pipeline (`ArrivalProcessor`) knows nothing about MQTT, so tests and tools can feed it
events directly; `ArrivalWorkers` runs it on worker threads, each plate always on the same one;
`MqttIngest` only adds the broker connection: a persistent session with a fixed client id
(arrivals published while the server was down are delivered when it returns) and an
acknowledgement sent only after the arrival is stored.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError
from sqlalchemy import Engine, and_, bindparam, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dealergate.contract import ARRIVAL_SUBSCRIPTION, ArrivalEvent
from dealergate.plates import mask_plate
from server.alerts import Alerts, build_alerts
from server.config import ServerSettings
from server.db import insert_new, local_today, session_scope
from server.logs import log_event
from server.matching import SURE_READ_FROM, look_alike_classes, match_vehicle, normalize_plate
from server.models import Arrival
from server.push import Audience, PushHub
from server.tasks import open_arrival_task

log = logging.getLogger(__name__)


_STORED = select(Arrival.id, Arrival.event_id).where(Arrival.event_id == bindparam("event_id"))
_STORED_OR_SEEN = select(Arrival.id, Arrival.event_id).where(
    or_(
        Arrival.event_id == bindparam("event_id"),
        and_(
            Arrival.plate == bindparam("plate"),
            col(Arrival.captured_at) >= bindparam("seen_from"),
            col(Arrival.captured_at) <= bindparam("seen_to"),
        ),
    )
)
"""Built once and run on the session's connection, without the ORM (every arrival runs one; see
`server.matching`): this event's row, and its plate's arrivals around its time."""


@dataclass(frozen=True)
class ArrivalOutcome:
    """What became of one event: a new alert, a repeat within the dwell window, a duplicate (or an
    older revision), a correction of a stored arrival, or a departure recorded (or not matched)."""

    status: Literal["alerted", "repeat", "duplicate", "updated", "departed", "unmatched_departure"]
    event_id: str
    matched: bool
    alerts: Alerts | None = None


class ArrivalProcessor:
    """Stores, matches and announces arrivals; safe to call from any thread."""

    def __init__(self, engine: Engine, settings: ServerSettings, hub: PushHub | None = None) -> None:
        self._engine = engine
        self._settings = settings
        self._hub = hub

    @property
    def engine(self) -> Engine:
        return self._engine

    def handle_payload(self, payload: bytes, topic: str | None = None) -> ArrivalOutcome | None:
        """Validate a raw MQTT payload and handle it; None when it is malformed (logged, dropped)."""
        event = self.parse(payload, topic)
        return None if event is None else self.handle_arrival(event)

    def parse(self, payload: bytes, topic: str | None = None) -> ArrivalEvent | None:
        """The event in a raw MQTT payload; None (logged) when it is malformed or came on a topic
        that is not its own."""
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
        return event

    def handle_arrival(self, event: ArrivalEvent) -> ArrivalOutcome:
        """Store the event once, decide whether it is a new visit, match the plate, push the alerts.

        A higher revision of a stored event corrects it in place; a departure only records when
        the car left. Neither is a new visit.
        """
        if event.kind == "departure":
            return self._departure(event)
        try:
            return self._arrival(event)
        except IntegrityError:
            # stored meanwhile by another worker or process: a redelivery, or a correction to a plate
            # another worker handles; handled again, the event is found stored
            with suppress(IntegrityError):
                return self._arrival(event)
        return self._duplicate(str(event.event_id), normalize_plate(event.plate), event.revision, None)

    def _arrival(self, event: ArrivalEvent) -> ArrivalOutcome:
        """`handle_arrival` for an arrival; IntegrityError when the event was stored meanwhile."""
        event_id = str(event.event_id)
        plate = normalize_plate(event.plate)
        captured = event.captured_at
        window = timedelta(seconds=self._settings.dwell_window_s)
        tz = self._settings.tz
        with session_scope(self._engine) as session:
            stored_id, repeat = self._prior(session, event_id, plate, captured, window)
            if stored_id is not None:
                stored = session.get_one(Arrival, stored_id)
                if event.revision <= stored.revision:
                    return self._duplicate(event_id, plate, event.revision, stored.revision)
                return self._correct(session, stored, event)
            found = match_vehicle(session, plate, event.confidence >= SURE_READ_FROM)
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
                revision=event.revision,
            )
            insert_new(session, arrival)
            today = local_today(tz)
            alerts = None if repeat else build_alerts(session, arrival, today, tz, match=found)
            if alerts is not None:
                self._open_task(session, arrival, alerts, today)
        matched = vehicle is not None
        log_event(
            log,
            "arrival.stored",
            event_id=event_id,
            plate=mask_plate(plate),
            camera=event.camera,
            match=found.kind,
            new_visit=not repeat,
            revision=event.revision,
            latency_ms=int(
                (datetime.now(event.captured_at.tzinfo) - event.captured_at).total_seconds() * 1000
            ),
        )
        if alerts is None:
            return ArrivalOutcome("repeat", event_id, matched)
        self._push(alerts)
        return ArrivalOutcome("alerted", event_id, matched, alerts)

    def _correct(self, session: Session, arrival: Arrival, event: ArrivalEvent) -> ArrivalOutcome:
        """Apply a correction to a stored arrival: new plate, new match, and when the arrival was
        alerted, the corrected alert under the same `event_id` (a screen replaces its card). The
        visit stays the one it was; an arrival held back as a repeat is alerted now only when the
        corrected plate was not seen within the dwell window."""
        event_id = str(event.event_id)
        plate = normalize_plate(event.plate)
        old_plate = arrival.plate
        tz = self._settings.tz
        found = match_vehicle(session, plate, event.confidence >= SURE_READ_FROM)
        arrival.plate = plate
        arrival.confidence = event.confidence
        arrival.plate_color = event.plate_color.value
        arrival.plate_type = event.plate_type.value
        arrival.vehicle_id = found.vehicle.id if found.vehicle else None
        arrival.match = found.kind
        arrival.revision = event.revision
        if event.crop_jpeg_b64 is not None:
            arrival.crop_jpeg_b64 = event.crop_jpeg_b64
        if not arrival.alerted:
            window = timedelta(seconds=self._settings.dwell_window_s)
            arrival.alerted = not self._seen_within(session, plate, arrival.captured_at, window, arrival.id)
        session.add(arrival)
        session.flush()
        alerts = None
        if arrival.alerted:
            today = local_today(tz)
            alerts = build_alerts(session, arrival, today, tz, match=found)
            self._open_task(session, arrival, alerts, today)
        session.commit()  # pushed only once stored, as for a first arrival
        log_event(
            log,
            "arrival.corrected",
            event_id=event_id,
            plate=mask_plate(plate),
            was=mask_plate(old_plate),
            match=found.kind,
            revision=event.revision,
            alerted=arrival.alerted,
        )
        if alerts is not None:
            self._push(alerts)
        return ArrivalOutcome("updated", event_id, found.vehicle is not None, alerts)

    def _departure(self, event: ArrivalEvent) -> ArrivalOutcome:
        """Record when the car left on that plate's latest arrival before it (dwell time); the
        screens are not told. A correction of the departure moves it to the corrected plate's
        arrival; a repeated or older revision changes nothing."""
        event_id = str(event.event_id)
        plate = normalize_plate(event.plate)
        with session_scope(self._engine) as session:
            previous = session.exec(select(Arrival).where(Arrival.departure_event_id == event_id)).first()
            if previous is not None and (previous.departure_revision or 0) >= event.revision:
                return self._duplicate(event_id, plate, event.revision, previous.departure_revision)
            target = session.exec(
                select(Arrival)
                .where(Arrival.plate == plate, col(Arrival.captured_at) <= event.captured_at)
                .order_by(col(Arrival.captured_at).desc())
            ).first()
            if previous is not None and previous is not target:
                previous.departed_at = previous.departure_event_id = previous.departure_revision = None
                session.add(previous)
            if target is not None:
                target.departed_at = event.captured_at
                target.departure_event_id = event_id
                target.departure_revision = event.revision
                session.add(target)
                dwell_s = (event.captured_at - target.captured_at).total_seconds()
        if target is None:
            log_event(
                log,
                "departure.unmatched",
                event_id=event_id,
                plate=mask_plate(plate),
                camera=event.camera,
            )
            return ArrivalOutcome("unmatched_departure", event_id, matched=False)
        log_event(
            log,
            "departure.recorded",
            event_id=event_id,
            plate=mask_plate(plate),
            camera=event.camera,
            dwell_s=int(dwell_s),
            revision=event.revision,
        )
        return ArrivalOutcome("departed", event_id, matched=target.vehicle_id is not None)

    @staticmethod
    def _open_task(session: Session, arrival: Arrival, alerts: Alerts, today: date) -> None:
        """A known car's arrival opens (or refreshes) its arrival task for the advisor routed to."""
        if alerts.file is not None and alerts.assessment is not None:
            open_arrival_task(
                session,
                arrival,
                alerts.file,
                alerts.assessment,
                today,
                advisor_id=alerts.advisor_id,
                open_tasks=alerts.open_tasks,
            )

    def _push(self, alerts: Alerts) -> None:
        """The same three messages for a first alert and for its correction: screens key cards by `event_id`."""
        if self._hub is not None:
            self._hub.publish_threadsafe(
                {
                    Audience.FRONTDESK: {"type": "arrival", "data": alerts.frontdesk},
                    Audience.ADVISOR: {"type": "arrival", "data": alerts.advisor},
                    Audience.KIOSK: {"type": "arrival", "data": alerts.kiosk},
                }
            )

    @staticmethod
    def _prior(
        session: Session, event_id: str, plate: str, captured: datetime, window: timedelta
    ) -> tuple[int | None, bool]:
        """Both checks a new event needs, in one query: the row id of this event when it is stored
        already (a redelivery or a correction), and whether its plate was seen within ± the dwell
        window (a queueing or returning car, as `_seen_within` decides for a correction)."""
        if window.total_seconds() > 0:
            params = {
                "event_id": event_id,
                "plate": plate,
                "seen_from": captured - window,
                "seen_to": captured + window,
            }
            rows = session.connection().execute(_STORED_OR_SEEN, params).all()
        else:
            rows = session.connection().execute(_STORED, {"event_id": event_id}).all()
        stored = next((row_id for row_id, row_event in rows if row_event == event_id), None)
        return stored, stored is None and len(rows) > 0

    @staticmethod
    def _seen_within(
        session: Session, plate: str, captured: datetime, window: timedelta, other_than: int | None = None
    ) -> bool:
        """True when the plate was already seen within ± the dwell window (a queueing or returning
        car); `other_than` leaves out the arrival being corrected."""
        if window.total_seconds() <= 0:
            return False
        query = select(Arrival.id).where(
            Arrival.plate == plate,
            col(Arrival.captured_at) >= captured - window,
            col(Arrival.captured_at) <= captured + window,
        )
        if other_than is not None:
            query = query.where(Arrival.id != other_than)
        return session.exec(query).first() is not None

    @staticmethod
    def _duplicate(event_id: str, plate: str, revision: int, stored: int | None) -> ArrivalOutcome:
        """A redelivery, or a revision no newer than the one applied: nothing changes."""
        log_event(
            log,
            "arrival.duplicate",
            event_id=event_id,
            plate=mask_plate(plate),
            revision=revision,
            stored_revision=stored,
        )
        return ArrivalOutcome("duplicate", event_id, matched=False)


def handle_arrival(
    event: ArrivalEvent, *, engine: Engine, settings: ServerSettings, hub: PushHub | None = None
) -> ArrivalOutcome:
    """One-shot form of `ArrivalProcessor.handle_arrival` for scripts and tests."""
    return ArrivalProcessor(engine, settings, hub).handle_arrival(event)


POSTGRES_WORKERS = 2
"""Arrival worker threads on PostgreSQL: while one waits for the database (psycopg lets go of the GIL
then) the other runs its Python, 1.5× the arrivals per second of one thread on an idle 2-core
machine (`dealergate bench server`; a third added nothing). SQLite gets one: it has a single writer,
and a transaction that read before it writes fails at once when another writer committed meanwhile."""
_LOOK_ALIKES = str.maketrans(look_alike_classes())
Done = Callable[[ArrivalOutcome | None], None]
"""Called with the outcome once an event is handled and committed (None: malformed, dropped)."""


def worker_key(plate: str) -> str:
    """The plate without its province and with look-alike characters made one (8 and B ...): a
    plate, its misreads one look-alike or one province away and a correction between them go to the
    same worker, in the order they came."""
    return normalize_plate(plate)[1:].translate(_LOOK_ALIKES)


class ArrivalWorkers:
    """Handles arrivals on worker threads, each plate (`worker_key`) always on the same one: a car's
    events keep their order (the dwell window, corrections, departures), other cars' are handled
    side by side. What MQTT and the bench feed arrivals through.

    Two cars handled at the same moment each see the advisors' load without the other's new task,
    so both may be routed to the same advisor."""

    def __init__(self, processor: ArrivalProcessor, workers: int | None = None) -> None:
        if workers is None:
            workers = POSTGRES_WORKERS if processor.engine.dialect.name == "postgresql" else 1
        self._processor = processor
        self._queues: list[queue.SimpleQueue[tuple[ArrivalEvent, Done] | None]] = [
            queue.SimpleQueue() for _ in range(workers)
        ]
        self._threads = [
            threading.Thread(target=self._work, args=(q,), name=f"arrivals-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def count(self) -> int:
        """How many worker threads there are."""
        return len(self._threads)

    def submit(self, payload: bytes, topic: str | None, done: Done) -> None:
        """Validate a raw MQTT payload here and queue its event for its plate's worker, which calls
        `done` once the event is committed, never when handling it failed (logged). A malformed
        payload is `done` at once: it is dropped, as `ArrivalProcessor.handle_payload` drops it."""
        event = self._processor.parse(payload, topic)
        if event is None:
            done(None)
            return
        self._queues[hash(worker_key(event.plate)) % len(self._queues)].put((event, done))

    def close(self, timeout: float = 10) -> None:
        """Handle what is queued, then stop the threads (an event queued later is never handled)."""
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _work(self, jobs: queue.SimpleQueue[tuple[ArrivalEvent, Done] | None]) -> None:
        while (job := jobs.get()) is not None:
            event, done = job
            try:
                outcome = self._processor.handle_arrival(event)
            except Exception:  # noqa: BLE001 - not done: MQTT leaves it unacknowledged, the broker sends it again
                log_event(
                    log,
                    "arrival.failed",
                    level=logging.ERROR,
                    exc_info=True,
                    event_id=str(event.event_id),
                    plate=mask_plate(normalize_plate(event.plate)),
                )
                continue
            try:
                done(outcome)
            except Exception:  # noqa: BLE001 - the arrival is stored; a lost ack is a redelivery, a duplicate
                log_event(
                    log, "arrival.done_failed", level=logging.ERROR, exc_info=True, event_id=outcome.event_id
                )


class MqttIngest:
    """paho-mqtt subscriber on its own thread, reconnecting forever with back-off (1 s to 10 s)."""

    def __init__(self, settings: ServerSettings, processor: ArrivalProcessor) -> None:
        self._settings = settings
        self._workers = ArrivalWorkers(processor)
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
        self._workers.close()  # what was handed over is stored and acknowledged while still connected
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
        """Hand the message to the workers; it is acknowledged once its arrival is committed."""
        mid, qos = msg.mid, msg.qos
        try:
            self._workers.submit(msg.payload, msg.topic, lambda _outcome: client.ack(mid, qos))
        except Exception:  # noqa: BLE001 - left unacknowledged, so the broker delivers it again
            log_event(log, "arrival.failed", level=logging.ERROR, exc_info=True, topic=msg.topic, mid=mid)
