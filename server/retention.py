"""Retention limits on plate data (PIPL: recognition is for in-store service, images are not kept).

Two limits, both in days and both in `ServerSettings`: the plate snapshot (the JPEG crop an arrival
carries, stored with the arrival) is dropped after `snapshot_retention_days`; the arrival itself
(plate, time, camera) is deleted after `arrival_retention_days`. Rows pointing at a deleted arrival
(the renewal task it opened, a plate alias it taught) keep their own data and lose only the link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from server.db import session_scope
from server.logs import log_event
from server.models import Arrival, PlateAlias, RenewalTask

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass(frozen=True)
class RetentionReport:
    snapshots_purged: int
    arrivals_deleted: int

    def as_dict(self) -> dict[str, int]:
        return {"snapshots_purged": self.snapshots_purged, "arrivals_deleted": self.arrivals_deleted}


def purge(session: Session, now: datetime, *, snapshot_days: int, arrival_days: int) -> RetentionReport:
    """Drop snapshots captured more than `snapshot_days` ago and arrivals more than `arrival_days` ago."""
    snapshot_cutoff = now - timedelta(days=snapshot_days)
    arrival_cutoff = now - timedelta(days=arrival_days)
    snapshots = session.execute(
        update(Arrival)
        .where(col(Arrival.captured_at) < snapshot_cutoff, col(Arrival.crop_jpeg_b64).is_not(None))
        .values(crop_jpeg_b64=None)
    ).rowcount
    deleted = 0
    while True:  # in batches: a first run on a year of arrivals must not hold one huge statement
        ids = list(
            session.exec(
                select(Arrival.id).where(col(Arrival.captured_at) < arrival_cutoff).limit(BATCH)
            ).all()
        )
        if not ids:
            break
        session.execute(
            update(RenewalTask).where(col(RenewalTask.arrival_id).in_(ids)).values(arrival_id=None)
        )
        session.execute(update(PlateAlias).where(col(PlateAlias.arrival_id).in_(ids)).values(arrival_id=None))
        deleted += session.execute(delete(Arrival).where(col(Arrival.id).in_(ids))).rowcount
    session.flush()
    return RetentionReport(snapshots, deleted)


def run_retention(engine: Engine, now: datetime, *, snapshot_days: int, arrival_days: int) -> RetentionReport:
    with session_scope(engine) as session:
        report = purge(session, now, snapshot_days=snapshot_days, arrival_days=arrival_days)
    log_event(log, "retention.done", **report.as_dict())
    return report
