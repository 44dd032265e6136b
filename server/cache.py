"""Small per-database caches for what every arrival reads but seldom changes (site names, kiosk cards,
claim statistics).

A value is kept per engine (a test's database and the server's never share one) for `max_age_s`, and,
when the cache watches a table, read again as soon as a session of this process commits a write to
that table. A write by another process (an import, a second server) is seen within `max_age_s`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from itertools import chain
from typing import Generic, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

T = TypeVar("T")


class DatabaseCache(Generic[T]):
    """`load(session)` run at most once per `max_age_s` per database, and again after a committed write
    to `watch`. Thread-safe; two threads that miss together may both load (the later one is kept)."""

    def __init__(
        self, load: Callable[[Session], T], max_age_s: float, watch: type[SQLModel] | None = None
    ) -> None:
        self.max_age_s = max_age_s
        self.load = load
        self._lock = threading.Lock()
        self._values: weakref.WeakKeyDictionary[Engine, tuple[float, int, T]] = weakref.WeakKeyDictionary()
        self._generation = 0
        """Bumped by every commit that wrote `watch`: values of an older generation are loaded again."""
        if watch is not None:
            self._watch_writes(watch)

    def get(self, session: Session) -> T:
        """The cached value for the session's database, loaded with `session` when missing or stale."""
        engine = session.get_bind()
        now = time.monotonic()
        with self._lock:
            generation = self._generation
            cached = self._values.get(engine)  # type: ignore[call-overload]
        if cached is not None and cached[1] == generation and now - cached[0] < self.max_age_s:
            return cached[2]
        value = self.load(session)
        with self._lock:
            self._values[engine] = (now, generation, value)  # type: ignore[index]
        return value

    def _watch_writes(self, model: type[SQLModel]) -> None:
        """Session hooks: note a flush that wrote `model`, bump the generation when it commits, forget
        the note when it rolls back (nothing changed then)."""
        written = f"cache-{id(self)}-written"

        def note(session: OrmSession, _context: object) -> None:
            if any(isinstance(o, model) for o in chain(session.new, session.dirty, session.deleted)):
                session.info[written] = True

        def committed(session: OrmSession) -> None:
            if session.info.pop(written, False):
                with self._lock:
                    self._generation += 1

        def rolled_back(session: OrmSession) -> None:
            session.info.pop(written, None)

        event.listen(OrmSession, "after_flush", note)
        event.listen(OrmSession, "after_commit", committed)
        event.listen(OrmSession, "after_rollback", rolled_back)
