"""Manager dashboard figures (经理看板), computed on request from the tables as they are.

Nothing is stored or estimated: every figure is counted from policies, arrivals, vehicles, visits,
renewal tasks and the contact log. Where the data model does not record something, the figure is
derived from what it does record, and `FOOTNOTES` says how (the page prints them):

- a policy is *due* in the week its end date falls in; it is *renewed* when the same car has a later
  policy sold by this dealership (channel dealer) starting no later than `RENEWAL_GRACE_DAYS` after
  the end date. Renewal rate = renewed / due (续保率 = 续保台数 / 到期台数);
- the *advisor* of a due policy is whoever its renewal task is assigned to; without one, unassigned;
- the *segment* is the renewal engine's segment of the car on the day the policy ended;
- *lapse reasons* are the contact log's tags; a lost renewal without a tag is counted as untagged, and
  where it went is read from later policies (insured elsewhere, or no later policy on record);
- one *store* (`SiteScope`): its policies are those of the cars whose file it holds (cars filed before
  sites existed belong to this server's own store), its arrivals those at its gates.

Only counts leave this module: no customer, plate or phone, so an export is never a customer list.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from dealergate.plates import region_of
from server import renewal
from server.db import local_day_bounds
from server.models import (
    Arrival,
    Channel,
    Claim,
    ContactLog,
    Policy,
    RenewalTask,
    ServiceVisit,
    StaffUser,
    Vehicle,
)
from server.renewal import LAPSE_REASON_LABELS, SEGMENT_LABELS, Label, LapseReason, PolicyFacts, Segment

RENEWAL_GRACE_DAYS = 30
"""A dealer policy starting within this many days after the old one ended still counts as a renewal."""
TASK_WINDOW_DAYS = 120
"""A renewal task without a policy id belongs to a policy ending within this many days of its due date."""
TAG_WINDOW_DAYS = 120
"""A lapse-reason tag counts for a lost policy when logged within this many days of its end date."""
REGION_MIN_CLAIMS = 20
"""A province with fewer claims than this says nothing about its roads (and comes close to single cars)."""

CHANNEL_LABELS: dict[str, Label] = {
    Channel.DEALER.value: Label("本店", "This dealership"),
    Channel.INSURER_DIRECT.value: Label("保险公司直销", "Insurer direct"),
    Channel.ONLINE.value: Label("互联网平台", "Online platform"),
    Channel.OTHER_AGENT.value: Label("其他代理", "Other agent"),
}
UNASSIGNED = Label("未分配", "Unassigned")
ALL_ADVISORS = Label("全店", "Whole dealership")
UNTAGGED = Label("未标注原因", "No reason tagged")
NO_LATER_POLICY = Label("无后续保单记录（脱保或未知）", "No later policy on record (lapsed or unknown)")

FOOTNOTES: tuple[Label, ...] = (
    Label(
        f"续保：同一辆车在原保单到期后 {RENEWAL_GRACE_DAYS} 天内起保的本店新保单；续保率 = 续保台数 / 到期台数，"
        "按到期日所在周统计。最近几周的保单仍在宽限期内，数字可能上升。",
        f"Renewal: a newer policy sold by this dealership for the same car, starting within "
        f"{RENEWAL_GRACE_DAYS} days of the old one's end. Renewal rate = renewed / due, by the week the "
        "policy ended. Recent weeks are still within the grace period and may rise.",
    ),
    Label(
        "顾问：该保单续保任务的负责人；没有续保任务的保单计为“未分配”。客户类型为保单到期当天的分类。",
        "Advisor: the person the policy's renewal task is assigned to; policies without one are "
        "'unassigned'. Segment: the car's segment on the day the policy ended.",
    ),
    Label(
        "识别率 = 匹配到档案的到店车辆 / 全部到店车辆（同一车辆在停留窗口内的重复识别不计）。",
        "Capture rate = arrivals matched to a car on file / all arrivals (repeat sightings within the "
        "dwell window are not counted).",
    ),
    Label(
        "流失原因取自联系记录中的原因标签，未标注的单独计数；流失去向由后续保单推断。",
        "Lapse reasons are the tags of the contact log; untagged losses are counted apart. Where lost "
        "renewals went is read from later policies.",
    ),
    Label(
        "按门店查看时：保单按车辆档案所属门店统计（未标门店的老档案算本店），到店按车辆驶入的门店统计。",
        "For one store: policies count for the store holding the car's file (older files without a store "
        "count for this one), arrivals for the store whose gate the car drove through.",
    ),
)

Cell = str | int | float | Label | None


@dataclass(frozen=True)
class SiteScope:
    """The figures of one store instead of the whole group."""

    code: str
    own: bool
    """This server's own store: cars filed before sites existed (no store on file) are its cars."""

    def holds_file(self) -> Any:
        """SQL condition: the car's file is this store's."""
        at = col(Vehicle.site) == self.code
        return or_(at, col(Vehicle.site).is_(None)) if self.own else at


@dataclass(frozen=True)
class BoardScope:
    """What a dashboard shows: the last `weeks` complete weeks of due policies, the last `days` days
    of arrivals, of the whole group or of one store (`site`)."""

    weeks: int = 12
    days: int = 14
    site: SiteScope | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: Label
    kind: str = "text"
    """text / int / rate (0..1) — how the page and the CSV format the cells."""


@dataclass(frozen=True)
class Table:
    """One exportable table of the dashboard (the CSV is exactly this)."""

    key: str
    title: Label
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            **self.title.as_dict(),
            "columns": [{"key": c.key, **c.label.as_dict(), "kind": c.kind} for c in self.columns],
            "rows": [[_json_cell(v) for v in row] for row in self.rows],
        }


@dataclass(frozen=True)
class DueOutcome:
    """What became of one policy that fell due: the unit every renewal figure counts."""

    week: date
    channel: str
    segment: Segment
    model: str
    advisor: str | None
    renewed: bool
    successor_channel: str | None
    """Channel of the next policy started within the grace period, if any."""
    lapse_reason: str | None


def _json_cell(value: Cell) -> Any:
    return value.as_dict() if isinstance(value, Label) else value


def rate(part: int, whole: int) -> float | None:
    """part / whole rounded for display; None when nothing was due (not 0 %: nothing to judge)."""
    return round(part / whole, 4) if whole else None


def week_start(day: date) -> date:
    """Monday of `day`'s week: the dashboard's weeks run Monday to Sunday like the weekly report."""
    return day - timedelta(days=day.weekday())


def report_period(today: date, weeks: int) -> tuple[date, date]:
    """[start, end) of the last `weeks` complete weeks before `today`'s week."""
    end = week_start(today)
    return end - timedelta(weeks=weeks), end


def _by_vehicle(rows: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.vehicle_id].append(row)
    return grouped


def _successor(policy: Policy, history: Sequence[Policy]) -> Policy | None:
    """The next policy of the car started after this one began and at most the grace period after its end."""
    limit = policy.end_date + timedelta(days=RENEWAL_GRACE_DAYS)
    later = [q for q in history if q.id != policy.id and policy.start_date < q.start_date <= limit]
    dealer = [q for q in later if q.channel == Channel.DEALER.value]
    return min(dealer or later, key=lambda q: q.start_date, default=None)


def _advisor(policy: Policy, tasks: Sequence[RenewalTask], names: dict[int, str]) -> str | None:
    window = timedelta(days=TASK_WINDOW_DAYS)
    own = [t for t in tasks if t.policy_id == policy.id] or [
        t for t in tasks if t.policy_id is None and abs(t.due_date - policy.end_date) <= window
    ]
    latest = max(own, key=lambda t: (t.updated_at, t.id or 0), default=None)
    return names.get(latest.assigned_to) if latest is not None and latest.assigned_to is not None else None


def _lapse_reason(policy: Policy, tags: Sequence[ContactLog], tz: ZoneInfo) -> str | None:
    window = timedelta(days=TAG_WINDOW_DAYS)
    near = [t for t in tags if abs(t.at.astimezone(tz).date() - policy.end_date) <= window]
    latest = max(near, key=lambda t: t.at, default=None)
    return latest.lapse_reason if latest is not None else None


def _segment_at_end(
    policy: Policy, vehicle: Vehicle, history: Sequence[Policy], visits: Sequence[date]
) -> Segment:
    """The engine's segment of the car on the day this policy ended, from what was known then."""
    known = [q for q in history if q.start_date <= policy.start_date]
    return renewal.segment(
        purchase_date=vehicle.purchase_date,
        policies=[PolicyFacts(q.start_date, q.end_date, q.channel) for q in known],
        service_dates=[d for d in visits if d <= policy.end_date],
        today=policy.end_date,
    )


def due_outcomes(
    session: Session, start: date, end: date, tz: ZoneInfo, site: SiteScope | None = None
) -> list[DueOutcome]:
    """Every policy ending in [start, end) with its renewal outcome, advisor, segment and tag; of the
    cars whose file `site` holds, when given."""
    query = select(Policy).where(col(Policy.end_date) >= start, col(Policy.end_date) < end)
    if site is not None:
        query = query.join(Vehicle, col(Vehicle.id) == col(Policy.vehicle_id)).where(site.holds_file())
    due = session.exec(query).all()
    vids = sorted({p.vehicle_id for p in due})
    if not vids:
        return []
    in_vids = col(Policy.vehicle_id).in_(vids)
    history = _by_vehicle(session.exec(select(Policy).where(in_vids)).all())
    vehicles = {v.id: v for v in session.exec(select(Vehicle).where(col(Vehicle.id).in_(vids))).all()}
    visits: dict[int, list[date]] = defaultdict(list)
    for vid, day in session.exec(
        select(ServiceVisit.vehicle_id, ServiceVisit.date).where(col(ServiceVisit.vehicle_id).in_(vids))
    ).all():
        visits[vid].append(day)
    tasks = _by_vehicle(
        session.exec(
            select(RenewalTask).where(
                col(RenewalTask.vehicle_id).in_(vids), col(RenewalTask.assigned_to).is_not(None)
            )
        ).all()
    )
    tags = _by_vehicle(
        session.exec(
            select(ContactLog).where(
                col(ContactLog.vehicle_id).in_(vids), col(ContactLog.lapse_reason).is_not(None)
            )
        ).all()
    )
    names = {u.id: u.display_name for u in session.exec(select(StaffUser)).all()}
    outcomes = []
    for p in due:
        vehicle = vehicles[p.vehicle_id]
        nxt = _successor(p, history[p.vehicle_id])
        renewed = nxt is not None and nxt.channel == Channel.DEALER.value
        outcomes.append(
            DueOutcome(
                week=week_start(p.end_date),
                channel=p.channel,
                segment=_segment_at_end(p, vehicle, history[p.vehicle_id], visits[p.vehicle_id]),
                model=f"{vehicle.brand} {vehicle.model}",
                advisor=_advisor(p, tasks[p.vehicle_id], names),
                renewed=renewed,
                successor_channel=nxt.channel if nxt is not None else None,
                lapse_reason=None if renewed else _lapse_reason(p, tags[p.vehicle_id], tz),
            )
        )
    return outcomes


# ---------------------------------------------------------------- tables

_COUNT_COLUMNS = (
    Column("due", Label("到期台数", "Due"), "int"),
    Column("renewed", Label("续保台数", "Renewed"), "int"),
    Column("rate", Label("续保率", "Renewal rate"), "rate"),
)


def _chart(table: Table, *columns: str) -> dict[str, Any]:
    """Chart.js-ready series: the first column as labels, one series per named column."""
    index = {c.key: i for i, c in enumerate(table.columns)}
    return {
        "labels": [_json_cell(r[0]) for r in table.rows],
        "series": [
            {
                "key": k,
                "label": table.columns[index[k]].label.as_dict(),
                "data": [r[index[k]] for r in table.rows],
            }
            for k in columns
        ],
    }


def _tally(outcomes: Iterable[DueOutcome]) -> tuple[int, int, float | None]:
    items = list(outcomes)
    won = sum(1 for o in items if o.renewed)
    return len(items), won, rate(won, len(items))


def renewal_weekly(outcomes: Sequence[DueOutcome], weeks: Sequence[date]) -> tuple[Table, dict[str, Any]]:
    """Weekly renewal rate per advisor (续保率周度通报): the table and its line chart."""
    advisors = sorted({o.advisor for o in outcomes if o.advisor is not None})
    keys: list[str | None] = [*advisors, *([None] if any(o.advisor is None for o in outcomes) else [])]
    label = {k: (UNASSIGNED if k is None else Label(k, k)) for k in keys}  # a name reads the same in both
    rows: list[tuple[Cell, ...]] = []
    series: list[dict[str, Any]] = [{"label": ALL_ADVISORS.as_dict(), "data": []}]
    series += [{"label": _json_cell(label[k]), "data": []} for k in keys]
    for w in weeks:
        week = [o for o in outcomes if o.week == w]
        series[0]["data"].append(_tally(week)[2])
        for i, k in enumerate(keys, start=1):
            due, won, r = _tally(o for o in week if o.advisor == k)
            series[i]["data"].append(r)
            if due:
                rows.append((w.isoformat(), label[k], due, won, r))
        rows.append((w.isoformat(), ALL_ADVISORS, *_tally(week)))
    table = Table(
        "renewal_weekly",
        Label("续保率周度通报（按顾问）", "Weekly renewal rate by advisor"),
        (Column("week", Label("周（周一）", "Week (Monday)")), Column("advisor", Label("顾问", "Advisor")),
         *_COUNT_COLUMNS),
        tuple(rows),
    )  # fmt: skip
    return table, {"labels": [w.isoformat() for w in weeks], "series": series}


def conversion(
    outcomes: Sequence[DueOutcome], key: str, title: Label, dimension: Label, groups: dict[Any, Cell]
) -> tuple[Table, dict[str, Any]]:
    """Renewal conversion grouped by one attribute of the due policy (segment / channel / model)."""
    counted = Counter(getattr(o, key) for o in outcomes)
    others = sorted((g for g in counted if g not in groups), key=lambda g: (-counted[g], g))
    rows = [
        (groups.get(g, g), *_tally(o for o in outcomes if getattr(o, key) == g))
        for g in [*(g for g in groups if counted[g]), *others]
    ]
    table = Table(f"conversion_{key}", title, (Column(key, dimension), *_COUNT_COLUMNS), tuple(rows))
    return table, _chart(table, "rate")


def _share_table(
    key: str, title: Label, dimension: Label, counts: list[tuple[Cell, int]]
) -> tuple[Table, dict]:
    total = sum(n for _, n in counts)
    rows = tuple((name, n, rate(n, total)) for name, n in counts)
    columns = (Column(key, dimension), Column("count", Label("台数", "Cars"), "int"),
               Column("share", Label("占比", "Share"), "rate"))  # fmt: skip
    table = Table(key, title, columns, rows)
    return table, _chart(table, "count")


def lapse_tables(outcomes: Sequence[DueOutcome]) -> list[tuple[Table, dict[str, Any]]]:
    """Lost renewals (战败) by tagged reason, and where they went."""
    lost = [o for o in outcomes if not o.renewed]
    reasons = Counter(o.lapse_reason for o in lost)
    by_reason: list[tuple[Cell, int]] = [(LAPSE_REASON_LABELS[r], reasons[r.value]) for r in LapseReason]
    by_reason.append((UNTAGGED, reasons[None]))
    went = Counter(o.successor_channel for o in lost)
    where: list[tuple[Cell, int]] = [
        (CHANNEL_LABELS.get(c, c), went[c]) for c in CHANNEL_LABELS if c != Channel.DEALER.value and went[c]
    ]
    where.append((NO_LATER_POLICY, went[None]))
    return [
        _share_table("lapse_reasons", Label("流失原因", "Lapse reasons"), Label("原因", "Reason"), by_reason),
        _share_table("lost_destination", Label("流失去向", "Where lost renewals went"),
                     Label("去向", "Went to"), where),
    ]  # fmt: skip


def arrivals_daily(
    session: Session, today: date, days: int, tz: ZoneInfo, site: SiteScope | None = None
) -> tuple[Table, dict[str, Any]]:
    """Arrivals per local day and the recognition capture rate (matched / all) of the last `days` days;
    at the gates of `site`, when given."""
    first = today - timedelta(days=days - 1)
    start, _ = local_day_bounds(first, tz)
    _, end = local_day_bounds(today, tz)
    query = select(Arrival.captured_at, Arrival.vehicle_id).where(
        col(Arrival.captured_at) >= start, col(Arrival.captured_at) < end, col(Arrival.alerted).is_(True)
    )
    if site is not None:
        query = query.where(col(Arrival.site) == site.code)
    seen: list[tuple[datetime, int | None]] = session.exec(query).all()
    total: Counter[date] = Counter()
    matched: Counter[date] = Counter()
    for at, vehicle_id in seen:
        day = at.astimezone(tz).date()
        total[day] += 1
        matched[day] += vehicle_id is not None
    day_list = [first + timedelta(days=i) for i in range(days)]
    rows = tuple(
        (d.isoformat(), total[d], matched[d], total[d] - matched[d], rate(matched[d], total[d]))
        for d in day_list
    )
    table = Table(
        "arrivals_daily",
        Label("每日到店与识别率", "Arrivals per day and capture rate"),
        (Column("date", Label("日期", "Date")), Column("arrivals", Label("到店车辆", "Arrivals"), "int"),
         Column("matched", Label("匹配档案", "Matched"), "int"),
         Column("unmatched", Label("未建档", "Not on file"), "int"),
         Column("capture_rate", Label("识别率", "Capture rate"), "rate")),
        rows,
    )  # fmt: skip
    return table, _chart(table, "matched", "unmatched", "capture_rate")


def dashboard_parts(
    session: Session, today: date, tz: ZoneInfo, scope: BoardScope = BoardScope()
) -> list[tuple[Table, dict[str, Any]]]:
    """Every table of the dashboard with its chart series, in page order."""
    start, end = report_period(today, scope.weeks)
    outcomes = due_outcomes(session, start, end, tz, scope.site)
    return [
        renewal_weekly(outcomes, [start + timedelta(weeks=i) for i in range(scope.weeks)]),
        arrivals_daily(session, today, scope.days, tz, scope.site),
        conversion(outcomes, "segment", Label("按客户类型的续保转化", "Conversion by segment"),
                   Label("客户类型", "Segment"), dict(SEGMENT_LABELS)),
        conversion(outcomes, "channel", Label("按原保单渠道的续保转化", "Conversion by previous channel"),
                   Label("原渠道", "Previous channel"), dict(CHANNEL_LABELS)),
        conversion(outcomes, "model", Label("按车型的续保转化", "Conversion by car model"),
                   Label("车型", "Car model"), {}),
        *lapse_tables(outcomes),
    ]  # fmt: skip


def dashboard(
    session: Session, today: date, tz: ZoneInfo, scope: BoardScope = BoardScope()
) -> dict[str, Any]:
    """Everything the dashboard shows: headline figures, tables (each exportable) and chart series."""
    parts = dashboard_parts(session, today, tz, scope)
    tables = {t.key: t for t, _ in parts}
    weekly = [r for r in tables["renewal_weekly"].rows if r[1] == ALL_ADVISORS]
    due, won = sum(r[2] for r in weekly), sum(r[3] for r in weekly)  # type: ignore[misc]
    arrivals = tables["arrivals_daily"].rows
    seen, matched = sum(r[1] for r in arrivals), sum(r[2] for r in arrivals)  # type: ignore[misc]
    start, end = report_period(today, scope.weeks)
    return {
        "today": today.isoformat(),
        "site": scope.site.code if scope.site is not None else None,
        "period": {
            "start": start.isoformat(),
            "end": (end - timedelta(days=1)).isoformat(),
            "weeks": scope.weeks,
        },
        "days": scope.days,
        "summary": {
            "due": due,
            "renewed": won,
            "renewal_rate": rate(won, due),
            "lost": due - won,
            "arrivals": seen,
            "capture_rate": rate(matched, seen),
        },
        "tables": [t.as_dict() for t in tables.values()],
        "charts": {t.key: chart for t, chart in parts},
        "footnotes": [f.as_dict() for f in FOOTNOTES],
    }


def csv_text(table: Table, lang: str) -> str:
    """The table as CSV in `lang` (zh-CN / en), with a UTF-8 BOM so Excel reads the Chinese right."""
    pick = (lambda x: x.en) if lang == "en" else (lambda x: x.zh)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(pick(c.label) for c in table.columns)
    for row in table.rows:
        writer.writerow(_csv_cell(v, c.kind, pick) for v, c in zip(row, table.columns, strict=True))
    return "\ufeff" + out.getvalue()


def _csv_cell(value: Cell, kind: str, pick: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Label):
        return pick(value)
    if kind == "rate":
        return f"{float(value) * 100:.1f}%"
    return str(value)


def regional_claim_mix(session: Session, today: date, *, days: int = 365, top: int = 4) -> dict[str, Any]:
    """Most common claim types per plate province over the last `days` (区域出险数据, for the kiosk).

    Shares only, and only for provinces with at least `REGION_MIN_CLAIMS` claims: a public screen
    may show how a region's cars get damaged, never anything that points at one car.
    """
    rows = session.exec(
        select(Vehicle.plate, Claim.type)
        .join(Vehicle, col(Vehicle.id) == col(Claim.vehicle_id))
        .where(col(Claim.date) > today - timedelta(days=days), col(Claim.date) <= today)
    ).all()
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    for plate, kind in rows:
        if region := region_of(plate):
            by_region[region][kind] += 1
    return {
        region: {
            "claims": sum(counts.values()),
            "top": [{"type": k, "share": rate(n, sum(counts.values()))} for k, n in counts.most_common(top)],
        }
        for region, counts in sorted(by_region.items())
        if sum(counts.values()) >= REGION_MIN_CLAIMS
    }
