"""The on-disk outbox: every decided arrival is stored here before it is published.

An arrival is a car that will not come back to be read again, so it must survive a broker outage
and an edge restart (power cut, crash, update). The edge writes each event to a small SQLite
database (WAL, synchronous=FULL: a row is on disk before `add` returns) and `edge.delivery` sends
the oldest undelivered rows over MQTT QoS 1, marking a row delivered only on the broker's PUBACK.
Rows still pending at start-up are sent again. A row is one (`event_id`, `revision`): a correction
of a published arrival is a row of its own. A redelivery carries the same `event_id` and
`revision`, which the server ignores, so at-least-once here plus an idempotent consumer is
exactly-once downstream per (`event_id`, `revision`).

Delivered rows are kept for `retention_s` (to answer "did the edge send it?") and then pruned.
The table never grows past `max_rows`: delivered rows go first (oldest first); only when every
row is still pending is the oldest pending arrival dropped, with an error log naming it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dealergate.contract import ArrivalEvent

log = logging.getLogger(__name__)

_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    event_id     TEXT NOT NULL,
    revision     INTEGER NOT NULL DEFAULT 0,
    topic        TEXT NOT NULL,
    payload      BLOB NOT NULL,
    created_at   REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    delivered_at REAL,
    PRIMARY KEY (event_id, revision)
);
"""
_INDEX = "CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, created_at);"
_SCHEMA_VERSION = 2
"""1: one row per event_id; 2: one row per (event_id, revision), so a correction is its own row."""


@dataclass(frozen=True)
class OutboxItem:
    """One stored arrival: where it goes, the exact bytes to send, and how often it was sent."""

    event_id: str
    topic: str
    payload: bytes
    created_at: float
    attempts: int
    revision: int = 0

    @property
    def key(self) -> str:
        """The row's identity as one string: the event id, with `#<revision>` for a correction."""
        return self.event_id if self.revision == 0 else f"{self.event_id}#{self.revision}"


class Outbox:
    """A bounded SQLite queue of arrival events; safe to use from several threads."""

    def __init__(
        self,
        path: Path | str,
        *,
        max_rows: int = 20_000,
        retention_s: float = 3 * 86_400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.path = Path(path)
        self.max_rows = max_rows
        self.retention_s = retention_s
        self.dropped = 0
        """Pending arrivals dropped because the outbox was full of undelivered ones."""
        self._clock = clock
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes effect on a new file
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")  # an arrival a second is cheap to fsync
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._migrate()
        pending = self.depth
        if pending:
            log.info("出站队列有 %d 条待发送 / outbox holds %d undelivered arrival(s): resending", pending, pending)

    def _migrate(self) -> None:
        """Create the table, or rebuild a version-1 file keyed by event_id alone (its rows are
        revision 0) so undelivered arrivals from before the upgrade are still sent."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        exists = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").fetchone()
        with self._transaction():
            if exists and version < 2:
                self._db.execute(_TABLE.format(name="outbox_v2"))
                self._db.execute(
                    "INSERT INTO outbox_v2 (event_id, revision, topic, payload, created_at, attempts, state, "
                    "delivered_at) SELECT event_id, 0, topic, payload, created_at, attempts, state, delivered_at "
                    "FROM outbox"
                )
                self._db.execute("DROP TABLE outbox")
                self._db.execute("ALTER TABLE outbox_v2 RENAME TO outbox")
                log.info("出站队列已升级 / outbox upgraded to schema %d: %s", _SCHEMA_VERSION, self.path)
            self._db.execute(_TABLE.format(name="outbox"))
            self._db.execute(_INDEX)
            self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One thread at a time, all-or-nothing (the connection itself is in autocommit mode)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, event: ArrivalEvent) -> None:
        """Store the event as pending (a second add of the same `event_id` and `revision` changes
        nothing; a higher revision of it is a row of its own, sent after the earlier ones)."""
        with self._transaction():
            self._make_room()
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (event_id, revision, topic, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                (str(event.event_id), event.revision, event.topic(), event.to_payload(), self._clock()),
            )

    def mark_sent(self, event_id: str, revision: int = 0) -> None:
        """Count one more publish attempt of the row."""
        with self._transaction():
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1 WHERE event_id = ? AND revision = ?",
                (event_id, revision),
            )

    def mark_delivered(self, event_id: str, revision: int = 0) -> bool:
        """The broker acknowledged the event; False when it was not pending (already marked)."""
        with self._transaction():
            cur = self._db.execute(
                "UPDATE outbox SET state = 'delivered', delivered_at = ? WHERE event_id = ? AND revision = ? "
                "AND state = 'pending'",
                (self._clock(), event_id, revision),
            )
            return cur.rowcount == 1

    def prune(self) -> int:
        """Delete delivered rows older than the retention period; returns how many went."""
        with self._transaction():
            cur = self._db.execute(
                "DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < ?",
                (self._clock() - self.retention_s,),
            )
        if cur.rowcount:
            with self._lock:
                self._db.execute("PRAGMA incremental_vacuum")  # give the space back to the disk
        return cur.rowcount

    def _make_room(self) -> None:
        """Keep at most `max_rows - 1` rows before an insert (caller holds the lock and a transaction)."""
        (total,) = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        excess = total - self.max_rows + 1
        if excess <= 0:
            return
        cur = self._db.execute(
            "DELETE FROM outbox WHERE rowid IN (SELECT rowid FROM outbox WHERE state = 'delivered' "
            "ORDER BY delivered_at LIMIT ?)",
            (excess,),
        )
        log.warning(
            "出站队列已满 (%d 条) / outbox full (%d rows, limit %d): pruned %d delivered row(s) early",
            total,
            total,
            self.max_rows,
            cur.rowcount,
        )
        excess -= cur.rowcount
        if excess <= 0:
            return
        doomed = self._db.execute(
            "SELECT rowid, event_id, payload FROM outbox WHERE state = 'pending' ORDER BY created_at, rowid LIMIT ?",
            (excess,),
        ).fetchall()
        for _, event_id, payload in doomed:
            plate = json.loads(payload).get("plate", "?")
            log.error(
                "出站队列已满，丢弃最早未发送的到店事件 / outbox full of undelivered arrivals: dropping the "
                "oldest, plate=%s event_id=%s (is the broker reachable?)",
                plate,
                event_id,
            )
        self._db.executemany("DELETE FROM outbox WHERE rowid = ?", [(rowid,) for rowid, _, _ in doomed])
        self.dropped += len(doomed)

    # -- reading ---------------------------------------------------------------------------------

    def pending(self, limit: int, exclude: Collection[str] = ()) -> list[OutboxItem]:
        """Up to `limit` undelivered rows, oldest first, skipping the rows whose `key` is in
        `exclude` (in flight)."""
        if limit <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, topic, payload, created_at, attempts, revision FROM outbox WHERE state = 'pending' "
                "ORDER BY created_at, rowid LIMIT ?",
                (limit + len(exclude),),
            ).fetchall()
        items = [OutboxItem(e, t, bytes(p), c, a, r) for e, t, p, c, a, r in rows]
        return [i for i in items if i.key not in exclude][:limit]

    @property
    def depth(self) -> int:
        """How many arrivals wait for the broker's acknowledgement."""
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()
        return int(n)

    def counts(self) -> dict[str, int]:
        """Rows per state, e.g. {"pending": 2, "delivered": 40}."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        return {"pending": 0, "delivered": 0} | {state: int(n) for state, n in rows}

    def close(self) -> None:
        """Close the database (idempotent); pending rows stay for the next start."""
        with self._lock:
            self._db.close()
