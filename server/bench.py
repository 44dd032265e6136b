"""`dealergate bench server`: how fast an arrival becomes three pushed payloads on a big dealership.

Seeds a database the size of a large dealer group's file (300,000 customers, 1,000,000 policies by
default) with bulk inserts, then feeds arrivals of known cars the way the MQTT subscriber does
(`ArrivalWorkers.submit` with the payload and topic of a real MQTT message: the same worker threads,
each arrival done when MQTT would acknowledge it) into an in-process push hub with one screen per
audience, and reports:

- `alert_build_p95_ms`: arrival handed over → front desk, advisor and kiosk payloads built, the
  arrival stored and the messages in the screens' queues, 95th percentile of one-at-a-time arrivals;
- `ingest_per_s`: arrivals per second handed over back to back, until every one is stored and on the
  screens (`ingest_workers`: the worker threads, one on SQLite, two on PostgreSQL);
- `indexed`: whether each per-arrival query uses an index (plate lookup, current policy, the
  dwell-window check, the advisors' tasks in progress and of today).

SQLite: the seeded file is kept in `var/bench/` and reused while `GENERATOR_VERSION` and the sizes
are the same (each run measures on a copy, so the cache stays as seeded). PostgreSQL: the database
at `--database-url` (seeded when empty), else a throw-away cluster when Debian's PostgreSQL is
installed (`server.pgcluster`), else skipped with a note.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, text
from sqlmodel import Session, select

from dealergate.contract import ArrivalEvent, now_local
from dealergate.plates import LETTERS
from server.config import ServerSettings
from server.db import make_engine
from server.ingest import ArrivalOutcome, ArrivalProcessor, ArrivalWorkers
from server.migrate import upgrade_database
from server.models import Arrival, Claim, Coverage, Customer, Policy, Role, ServiceVisit, StaffUser, Vehicle
from server.push import Audience, PushHub

GENERATOR_VERSION = 1
"""Bump when the generated data changes: cached SQLite files of another version are not reused."""
BENCH_DIR = Path("var/bench")
CHUNK = 20_000
_AN = LETTERS + "0123456789"
MODELS = [
    ("丰田", m) for m in ("卡罗拉", "凯美瑞", "RAV4荣放", "汉兰达", "雷凌", "亚洲龙")
] + [("本田", m) for m in ("思域", "雅阁", "CR-V", "皓影", "飞度")] + [
    ("大众", m) for m in ("朗逸", "帕萨特", "途观L", "速腾", "迈腾", "宝来")
] + [("比亚迪", m) for m in ("秦PLUS", "宋PLUS", "汉", "元PLUS")] + [
    ("宝马", m) for m in ("3系", "5系", "X3")
] + [("奔驰", m) for m in ("C级", "E级", "GLC")]  # fmt: skip
INSURERS = ("PICC", "平安", "太平洋", "国寿财", "大地")
CHANNELS = ("dealer", "dealer", "dealer", "insurer_direct", "online", "other_agent")
CLAIM_TYPES = ("glass", "collision", "scratch", "rear_end", "flood")
COVER_SETS = (
    ("third_party", "passenger", "no_deductible"),
    ("own_damage", "third_party", "theft", "no_deductible"),
    ("own_damage", "third_party", "theft", "no_deductible", "passenger"),
    ("own_damage", "third_party", "theft", "no_deductible", "passenger", "glass", "scratch"),
)


@dataclass(frozen=True)
class BenchPlan:
    customers: int = 300_000
    policies: int = 1_000_000
    latency_arrivals: int = 300
    rate_arrivals: int = 1_000
    seed: int = 2026

    @classmethod
    def smoke(cls) -> BenchPlan:
        return cls(customers=300, policies=1_000, latency_arrivals=20, rate_arrivals=30)

    @property
    def vehicles(self) -> int:
        return self.customers + self.customers // 10  # one customer in ten has a second car

    @property
    def cache_name(self) -> str:
        return f"server-g{GENERATOR_VERSION}-{self.customers}c-{self.policies}p-s{self.seed}.db"


def bench_plate(i: int) -> str:
    """Distinct valid plate per car index: 粤 + letter + five of letters/digits (up to 24·34⁵ cars)."""
    n, chars = i, []
    for _ in range(5):
        n, r = divmod(n, len(_AN))
        chars.append(_AN[r])
    return "粤" + LETTERS[n % len(LETTERS)] + "".join(reversed(chars))


def _rows(plan: BenchPlan, today: date) -> Iterator[tuple[type, list[dict[str, Any]]]]:
    """The generated dataset in insert order, a chunk at a time (explicit ids: no RETURNING needed)."""
    rng = random.Random(plan.seed)
    created = datetime(2024, 1, 1, tzinfo=UTC)
    chunk: list[dict[str, Any]] = []
    for i in range(1, plan.customers + 1):
        chunk.append({"id": i, "name": f"客户{i}", "phone": f"13{i:09d}", "gender": "MFU"[i % 3],
                      "city": "广州", "consent_greeting": i % 4 == 0, "created_at": created})  # fmt: skip
        if len(chunk) == CHUNK:
            yield Customer, chunk
            chunk = []
    if chunk:
        yield Customer, chunk
    chunk = []
    models: list[tuple[str, str]] = []
    for i in range(1, plan.vehicles + 1):
        brand, model = rng.choice(MODELS)
        models.append((brand, model))
        owner = i if i <= plan.customers else rng.randint(1, plan.customers)
        chunk.append({"id": i, "plate": bench_plate(i), "plate_type": "blue", "vin": f"LBV{i:014d}",
                      "brand": brand, "model": model, "series": "", "price_class": rng.choice(("economy", "mid", "premium")),
                      "purchase_date": today - timedelta(days=rng.randint(200, 3600)), "mileage_km": rng.randint(1000, 200000),
                      "customer_id": owner})  # fmt: skip
        if len(chunk) == CHUNK:
            yield Vehicle, chunk
            chunk = []
    if chunk:
        yield Vehicle, chunk
    per_car, extra = divmod(plan.policies, plan.vehicles)
    policies: list[dict[str, Any]] = []
    covers: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    pid = cov_id = claim_id = 0

    def flush(final: bool = False) -> Iterator[tuple[type, list[dict[str, Any]]]]:
        """All four lists at once, policies first (coverages and claims point at them)."""
        tables = ((Policy, policies), (Coverage, covers), (Claim, claims), (ServiceVisit, visits))
        if final or any(len(rows) >= CHUNK for _, rows in tables):
            for model, rows in tables:
                if rows:
                    yield model, list(rows)
                    rows.clear()

    for v in range(1, plan.vehicles + 1):
        n = per_car + (1 if v <= extra else 0)
        last_end = today + timedelta(days=rng.randint(-120, 365))  # a year of renewals, some lapsed
        premium = rng.uniform(2500, 9000)
        for k in range(n):
            pid += 1
            end = last_end - timedelta(days=365 * (n - 1 - k))
            policies.append({"id": pid, "policy_no": f"B{pid:010d}", "insurer": rng.choice(INSURERS),
                             "start_date": end - timedelta(days=365), "end_date": end, "premium": round(premium, 2),
                             "ncd_factor": rng.choice((0.6, 0.7, 0.8, 1.0, 1.25)), "channel": rng.choice(CHANNELS),
                             "vehicle_id": v})  # fmt: skip
            if k == n - 1:  # coverages of the current policy (what the quote starts from)
                for code in rng.choice(COVER_SETS):
                    cov_id += 1
                    covers.append({"id": cov_id, "policy_id": pid, "code": code,
                                   "sum_insured": 2_000_000.0 if code == "third_party" else None, "premium": None})  # fmt: skip
            if rng.random() < 0.15:
                claim_id += 1
                claims.append({"id": claim_id, "claim_no": f"C{claim_id:010d}", "vehicle_id": v,
                               "date": end - timedelta(days=rng.randint(1, 360)), "amount": round(rng.uniform(300, 20000), 2),
                               "type": rng.choice(CLAIM_TYPES)})  # fmt: skip
        visits.append({"id": v, "vehicle_id": v, "date": today - timedelta(days=rng.randint(1, 500)), "kind": "maintenance",
                       "mileage": None, "order_no": f"RO{v:010d}", "items": "保养", "out_date": None})  # fmt: skip
        yield from flush()
    yield from flush(final=True)


def seed(engine: Engine, plan: BenchPlan, today: date) -> dict[str, int]:
    """Bulk-insert the dataset into a migrated, empty database; returns the row counts."""
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for model, rows in _rows(plan, today):
            conn.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(rows)  # type: ignore[attr-defined]
        conn.execute(
            insert(StaffUser.__table__),  # type: ignore[attr-defined]
            [
                {
                    "username": f"bench-adv{i}",
                    "display_name": f"专员{i}",
                    "role": Role.ADVISOR.value,
                    "password_hash": "!",
                    "active": True,
                }
                for i in range(1, 7)
            ],
        )
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in counts:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))  # fmt: skip
    if engine.dialect.name == "postgresql":
        # as autovacuum would have by now: statistics, and the visibility map index-only scans need
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return counts


# ---- the per-arrival queries and their plans ------------------------------------------------------

PER_ARRIVAL_QUERIES: dict[str, str] = {
    "plate_lookup": "SELECT id FROM vehicle WHERE plate = :plate",
    "current_policy": "SELECT id, end_date FROM policy WHERE vehicle_id = :vid ORDER BY end_date",
    "dwell_window": "SELECT id, event_id FROM arrival WHERE event_id = :event_id "
    "OR (plate = :plate AND captured_at >= :t0 AND captured_at <= :t1)",
    "advisor_busy": "SELECT 1 FROM renewal_task WHERE assigned_to = :staff AND status = 'in_progress'",
    "advisor_load": "SELECT count(*) FROM renewal_task WHERE assigned_to = :staff "
    "AND created_at >= :t0 AND created_at < :t1",
}
"""The model's claim statistics are not among them: every model is counted at once, every 10 minutes
(`server.matching.common_claim_types`), an aggregate over all claims by design."""


def query_plans(engine: Engine) -> dict[str, bool]:
    """For each per-arrival query: True when the database answers it from an index (no table scan)."""
    params = {"plate": bench_plate(1), "vid": 1, "event_id": "0" * 36, "staff": 1,
              "t0": datetime(2026, 1, 1), "t1": datetime(2026, 1, 2)}  # fmt: skip
    out = {}
    with engine.connect() as conn:
        for name, sql in PER_ARRIVAL_QUERIES.items():
            if engine.dialect.name == "sqlite":
                plan = " | ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql), params))
                out[name] = "USING" in plan and not any(
                    step.strip().startswith("SCAN") and "USING" not in step for step in plan.split("|")
                )
            else:
                conn.execute(text("SET enable_seqscan = off"))  # a tiny table may be scanned by choice
                plan = " | ".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + sql), params))
                out[name] = "Index" in plan and "Seq Scan" not in plan
    return out


# ---- feeding arrivals ------------------------------------------------------------------------------


class _Screens:
    """The push hub on its own event loop thread, with one screen per audience reading its queue
    as a real WebSocket handler does (so a burst never overflows a queue)."""

    def __init__(self) -> None:
        self.hub = PushHub()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bench-hub", daemon=True)
        self._thread.start()
        self.hub.bind_loop(self.loop)
        self.received = 0
        self._readers = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> list[asyncio.Task[None]]:
        self._changed = asyncio.Event()
        subs = [self.hub.subscribe(a, "bench") for a in Audience]
        return [asyncio.create_task(self._read(sub)) for sub in subs]

    async def _read(self, sub: Any) -> None:
        while await sub.queue.get() is not None:
            self.received += 1
            self._changed.set()

    async def _until(self, total: int) -> None:
        while self.received < total:
            self._changed.clear()
            await self._changed.wait()

    def wait_for(self, total: int, timeout: float = 30) -> None:
        """Block until the screens have received `total` messages in all."""
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(self._until(total), timeout), self.loop).result()

    def close(self) -> None:
        async def stop() -> None:
            for task in self._readers:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class _Outcomes:
    """The workers' `done` calls: each arrival's outcome status, and a wait for the first n of them."""

    def __init__(self) -> None:
        self.statuses: list[str | None] = []
        self._changed = threading.Condition()

    def done(self, outcome: ArrivalOutcome | None) -> None:
        with self._changed:
            self.statuses.append(outcome.status if outcome is not None else None)
            self._changed.notify_all()

    def wait_for(self, total: int, timeout: float = 30) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.statuses) >= total, timeout):
                raise RuntimeError(f"{total - len(self.statuses)} arrivals not handled (failed: see the log)")


def _payload(plate: str, site: str) -> tuple[bytes, str]:
    event = ArrivalEvent(site=site, camera="gate-1", plate=plate, confidence=0.95, captured_at=now_local())
    return event.model_dump_json().encode("utf-8"), event.topic()


def measure(engine: Engine, plan: BenchPlan, *, site: str = "bench") -> dict[str, Any]:
    """Latency of one-at-a-time arrivals, then the back-to-back rate, all of known cars, each handed to
    the arrival workers as MQTT hands it."""
    with Session(engine) as s:
        n_vehicles = s.exec(select(func.count()).select_from(Vehicle)).one()
        seen = set(s.exec(select(Arrival.plate).distinct()).all())  # a reused database's earlier runs
    rng = random.Random(plan.seed)
    wanted = plan.latency_arrivals + plan.rate_arrivals
    order = rng.sample(range(1, n_vehicles + 1), min(n_vehicles, wanted + len(seen)))
    plates = [p for p in map(bench_plate, order) if p not in seen][:wanted]
    settings = ServerSettings(database_url=engine.url.render_as_string(hide_password=False), site=site)
    screens = _Screens()
    workers = ArrivalWorkers(ArrivalProcessor(engine, settings, screens.hub))
    outcomes = _Outcomes()
    try:
        latencies = []
        screens_n = len(Audience)
        for k, plate in enumerate(plates[: plan.latency_arrivals], 1):
            payload, topic = _payload(plate, site)
            t0 = time.perf_counter()
            workers.submit(payload, topic, outcomes.done)
            outcomes.wait_for(k)
            screens.wait_for(k * screens_n)
            latencies.append((time.perf_counter() - t0) * 1000)
        batch = [_payload(p, site) for p in plates[plan.latency_arrivals :]]
        t0 = time.perf_counter()
        for payload, topic in batch:
            workers.submit(payload, topic, outcomes.done)
        outcomes.wait_for(len(plates))
        screens.wait_for(len(plates) * screens_n)
        elapsed = time.perf_counter() - t0
    finally:
        workers.close()
        screens.close()
    if any(status != "alerted" for status in outcomes.statuses):
        raise RuntimeError(f"not every arrival was alerted: {sorted(set(map(str, outcomes.statuses)))}")
    q = statistics.quantiles(latencies, n=20, method="inclusive") if len(latencies) > 1 else latencies * 19
    return {
        "alert_build_p50_ms": round(statistics.median(latencies), 2),
        "alert_build_p95_ms": round(q[18], 2),
        "alert_build_max_ms": round(max(latencies), 2),
        "ingest_per_s": round(len(batch) / elapsed, 1) if elapsed > 0 else None,
        "ingest_workers": workers.count,
        "arrivals": len(plates),
        "indexed": query_plans(engine),
    }


# ---- the two backends ------------------------------------------------------------------------------


def _sqlite(plan: BenchPlan, cache: Path, today: date, note: Callable[[str], None]) -> dict[str, Any]:
    cache.mkdir(parents=True, exist_ok=True)
    seeded = cache / plan.cache_name
    done = seeded.with_suffix(".done")
    t0 = time.perf_counter()
    reused = seeded.exists() and done.exists()
    if not reused:
        for stale in (seeded, done, Path(f"{seeded}-wal"), Path(f"{seeded}-shm")):
            stale.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{seeded}")
        upgrade_database(engine)
        counts = seed(engine, plan, today)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        done.write_text(json.dumps(counts) + "\n", encoding="utf-8")
        note(f"sqlite: seeded {counts} in {time.perf_counter() - t0:.0f} s → {seeded}")
    work = cache / "server-run.db"
    for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(seeded, work)  # measure on a copy: the cache stays as seeded
    engine = make_engine(f"sqlite:///{work}")
    try:
        upgrade_database(engine)  # a cache from an older schema revision is brought up to date
        result = measure(engine, plan)
    finally:
        engine.dispose()
        for stale in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            stale.unlink(missing_ok=True)
    return {"seed_reused": reused, "seed_s": None if reused else round(time.perf_counter() - t0, 1), **result}


def _postgres_on(url: str, plan: BenchPlan, today: date, note: Callable[[str], None]) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        upgrade_database(engine)
        with Session(engine) as s:
            have = s.exec(select(func.count()).select_from(Customer)).one()
        t0 = time.perf_counter()
        if have == 0:
            counts = seed(engine, plan, today)
            note(f"postgresql: seeded {counts} in {time.perf_counter() - t0:.0f} s")
        elif have != plan.customers:
            note(f"postgresql: database already holds {have} customers; measuring on it as it is")
        seed_s = round(time.perf_counter() - t0, 1) if have == 0 else None
        return {"seed_reused": have != 0, "seed_s": seed_s, **measure(engine, plan)}
    finally:
        engine.dispose()


def _postgres(
    plan: BenchPlan, database_url: str | None, today: date, note: Callable[[str], None]
) -> dict[str, Any] | None:
    if database_url:
        return _postgres_on(ServerSettings(database_url=database_url).database_url, plan, today, note)
    from server.pgcluster import ClusterError, PostgresCluster, postgres_bindir

    bindir = postgres_bindir()
    if bindir is None:
        note("postgresql: skipped (no --database-url and Debian's postgresql is not installed)")
        return None
    try:
        cluster = PostgresCluster(bindir, prefix="dgbench-").start()
    except ClusterError as exc:
        note(f"postgresql: skipped, the throw-away cluster did not start: {exc}")
        return None
    try:
        return _postgres_on(cluster.create_database("dg_bench"), plan, today, note)
    finally:
        cluster.stop()


def run_bench(
    plan: BenchPlan,
    *,
    cache: Path = BENCH_DIR,
    database_url: str | None = None,
    postgres: bool = True,
    note: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Both backends; the JSON object `dealergate bench server --json` prints."""
    today = datetime.now(ServerSettings().tz).date()
    result: dict[str, Any] = {
        "generator_version": GENERATOR_VERSION,
        "customers": plan.customers,
        "policies": plan.policies,
        "vehicles": plan.vehicles,
        "sqlite": _sqlite(plan, cache, today, note),
        "postgresql": _postgres(plan, database_url, today, note) if postgres else None,
    }
    if result["postgresql"] is None:
        result["postgresql_note"] = (
            "skipped: give --database-url or install Debian's postgresql"
            if postgres
            else "skipped (--no-postgres)"
        )
    return result
