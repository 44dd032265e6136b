"""`dealergate import`: Chinese and English headers, CSV and .xlsx, all-or-nothing, idempotent, dry run,
customers and cars filed at their store (所属门店)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from dealergate.cli import app as cli
from server.db import make_engine
from server.importer import FileProblem, import_file
from server.migrate import upgrade_database
from server.models import AuditLog, Claim, Coverage, Customer, Policy, ServiceVisit, Site, Vehicle

CUSTOMERS = [
    ["客户姓名", "手机号", "性别", "城市"],
    ["王伟", "138 0013 8000", "男", "广州"],
    ["李娜", "+86 13900139000", "女", "佛山"],
]
VEHICLES = [
    ["车牌号", "车架号/VIN", "品牌", "车型", "购车日期", "手机号", "客户姓名"],
    ["粤A·12345", "LVGBE40K8KG000001", "丰田", "凯美瑞", date(2022, 3, 1), "13800138000", None],
    ["粤BD12345", "LHGRT3830K8000002", "本田", "雅阁", "2023/05/20", "13700137000", "张敏"],
]
POLICIES = [
    ["保单号", "车牌号", "保险公司", "起保日期", "到期日期", "保费", "NCD系数", "渠道", "险种"],
    ["PDAA2025440100000001", "粤A12345", "人保", "2025-03-01", "2026-02-28", "4,800.00", "0.8", "本店",
     "交强险、车损险、三者险(200万)、不计免赔"],
    ["PDAA2025440100000002", "粤BD12345", "平安", "2025-05-20", "2026-05-19", "¥5200", "1.0", "电销", "车损险,三者险100万"],
]  # fmt: skip
CLAIMS = [
    ["Claim No", "Plate", "Claim Date", "Amount", "Claim Type"],
    ["C-1", "粤A12345", "2025-07-02", "1800", "玻璃破碎"],
    ["", "粤BD12345", "2025-08-15", "5600", "追尾"],
]
VISITS = [
    ["工单号", "车架号", "进厂日期", "出厂日期", "维修项目", "进厂里程"],
    ["RO-1", "LVGBE40K8KG000001", "2025-06-01", "2025-06-01", "常规保养 更换机油机滤", "21000"],
    ["RO-2", "LVGBE40K8KG000001", "2025-09-10", "2025-09-22", "前保险杠钣金喷漆", "24500"],
]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["4S店 DMS 导出"])  # a title row above the header, as DMS exports have
    sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture()
def engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def import_all(engine: Engine, tmp_path: Path) -> dict[str, dict[str, int]]:
    files = {
        "customers": write_csv(tmp_path / "customers.csv", CUSTOMERS),
        "vehicles": write_xlsx(tmp_path / "vehicles.xlsx", VEHICLES),
        "policies": write_csv(tmp_path / "policies.csv", POLICIES),
        "claims": write_csv(tmp_path / "claims.csv", CLAIMS),
        "visits": write_xlsx(tmp_path / "visits.xlsx", VISITS),
    }
    out = {}
    for kind, path in files.items():
        report = import_file(engine, path, kind)
        assert report.errors == [] and report.committed, report.errors
        out[kind] = dict(report.counts)
    return out


def test_a_dealer_export_goes_in_and_reimporting_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    first = import_all(engine, tmp_path)
    assert first == {kind: {"created": 2} for kind in first}
    with Session(engine) as s:
        wang = s.exec(select(Customer).where(Customer.phone == "13800138000")).one()
        assert (wang.name, wang.gender, wang.city) == ("王伟", "M", "广州")
        camry = s.exec(select(Vehicle).where(Vehicle.plate == "粤A12345")).one()
        assert camry.customer_id == wang.id and camry.purchase_date == date(2022, 3, 1)
        accord = s.exec(select(Vehicle).where(Vehicle.plate == "粤BD12345")).one()
        zhang = s.get(Customer, accord.customer_id)
        assert zhang.name == "张敏", "an unknown owner phone with a name creates the customer"
        assert accord.plate_type == "new_energy_small"
        policy = s.exec(select(Policy).where(Policy.policy_no == "PDAA2025440100000001")).one()
        assert (policy.premium, policy.ncd_factor, policy.channel) == (4800.0, 0.8, "dealer")
        covers = s.exec(select(Coverage).where(Coverage.policy_id == policy.id).order_by(Coverage.id)).all()
        assert [(c.code, c.sum_insured) for c in covers] == [
            ("compulsory", None),
            ("own_damage", None),
            ("third_party", 2_000_000.0),
            ("no_deductible", None),
        ]
        other = s.exec(select(Policy).where(Policy.policy_no == "PDAA2025440100000002")).one()
        assert other.channel == "insurer_direct"
        assert sorted(c.type for c in s.exec(select(Claim)).all()) == ["glass", "rear_end"]
        visits = s.exec(select(ServiceVisit).order_by(ServiceVisit.date)).all()
        assert [(x.kind, x.mileage, x.vehicle_id) for x in visits] == [
            ("maintenance", 21000, camry.id),
            ("bodywork", 24500, camry.id),
        ]
        assert (visits[1].out_date - visits[1].date).days == 12
        assert len(s.exec(select(AuditLog).where(AuditLog.role == "import")).all()) == 5
    again = import_all(engine, tmp_path)
    assert again == {kind: {"unchanged": 2} for kind in again}
    assert (count(engine, Customer), count(engine, Vehicle), count(engine, Coverage)) == (3, 2, 6)


def test_one_bad_row_imports_nothing_and_names_the_row(engine: Engine, tmp_path: Path) -> None:
    rows = [*CUSTOMERS, ["赵磊", "1380013", "男", "广州"], ["钱芳", "13600136000", "女", "广州"]]
    report = import_file(engine, write_csv(tmp_path / "bad.csv", rows), "customers")
    assert not report.committed and count(engine, Customer) == 0
    assert [(e.line, e.column) for e in report.errors] == [(4, "手机号 phone")]
    assert str(report.errors[0]).startswith("第 4 行 / line 4: 手机号 phone: 手机号应为 11 位")
    assert "nothing imported" in report.summary()


def test_rows_failing_against_the_database_roll_back_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, write_csv(tmp_path / "c.csv", CUSTOMERS), "customers")
    import_file(engine, write_xlsx(tmp_path / "v.xlsx", VEHICLES), "vehicles")
    rows = [*POLICIES, ["P-X", "粤E99999", "太保", "2025-01-01", "2025-12-31", "3000", "1", "本店", "三者险"]]
    report = import_file(engine, write_csv(tmp_path / "p.csv", rows), "policies")
    assert [e.line for e in report.errors] == [4] and "粤E99999" in report.errors[0].message
    assert count(engine, Policy) == 0 and count(engine, Coverage) == 0, "the two good rows were rolled back"


def test_every_bad_value_is_reported_at_once(engine: Engine, tmp_path: Path) -> None:
    rows = [
        POLICIES[0],
        ["P-1", "粤A1234", "人保", "2025-13-01", "2026-01-01", "-5", "1", "本店", "车损险"],
        ["P-2", "粤A12345", "人保", "2025-03-01", "2025-02-01", "100", "1", "月球", "飞行险"],
        ["P-3", "粤A12345", "人保", "2025-03-01", "2025-02-01", "100", "1", "本店", "车损险"],
    ]
    report = import_file(engine, write_csv(tmp_path / "p.csv", rows), "policies")
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "车牌号 plate"),
        (2, "起保日期 start date"),
        (2, "保费 premium"),
        (3, "渠道 channel"),
        (3, "险种 coverages"),
        (4, "到期日期 end date"),
    ]


def test_dry_run_checks_and_counts_but_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "customers.csv", CUSTOMERS)
    report = import_file(engine, path, "customers", dry_run=True)
    assert report.errors == [] and not report.committed and report.counts["created"] == 2
    assert count(engine, Customer) == 0 and count(engine, AuditLog) == 0
    assert "dry run" in report.summary()


def test_a_replated_car_is_found_by_its_vin(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, write_csv(tmp_path / "c.csv", CUSTOMERS), "customers")
    import_file(engine, write_xlsx(tmp_path / "v.xlsx", VEHICLES), "vehicles")
    moved = [
        VEHICLES[0],
        ["粤A88888", "LVGBE40K8KG000001", "丰田", "凯美瑞", date(2022, 3, 1), "13800138000", None],
    ]
    report = import_file(engine, write_xlsx(tmp_path / "v2.xlsx", moved), "vehicles")
    assert dict(report.counts) == {"updated": 1}
    with Session(engine) as s:
        assert s.exec(select(Vehicle.plate).where(Vehicle.vin == "LVGBE40K8KG000001")).one() == "粤A88888"


def _group_sites(engine: Engine) -> None:
    """This store, its sister store and a closed one."""
    with Session(engine) as s:
        s.add(Site(code="panyu", name_zh="粤驰汽车番禺店", name_en="Yuechi Panyu"))
        s.add(Site(code="tianhe", name_zh="粤驰汽车天河店", name_en="Yuechi Tianhe"))
        s.add(Site(code="closed", name_zh="粤驰汽车旧店", active=False))
        s.commit()


def _filed(engine: Engine, model: type, key: str) -> dict[str, str | None]:
    with Session(engine) as s:
        return dict(s.exec(select(getattr(model, key), model.site)).all())


def test_customers_and_cars_are_filed_at_their_store(engine: Engine, tmp_path: Path) -> None:
    _group_sites(engine)
    customers = [
        ["客户姓名", "手机号", "所属门店"],
        ["王伟", "13800138000", "tianhe"],
        ["李娜", "13900139000", "粤驰汽车番禺店"],  # DMS exports name the store
        ["张敏", "13700137000", None],  # no store: this server's
    ]
    report = import_file(engine, write_csv(tmp_path / "c.csv", customers), "customers", site="panyu")
    assert report.committed, report.errors
    assert _filed(engine, Customer, "phone") == {
        "13800138000": "tianhe",
        "13900139000": "panyu",
        "13700137000": "panyu",
    }
    vehicles = [
        ["Plate", "Brand", "Model", "Phone", "Name", "Site"],
        ["粤A12345", "丰田", "凯美瑞", "13800138000", None, "TIANHE"],
        ["粤BD12345", "本田", "雅阁", "13600136000", "赵磊", None],
    ]
    report = import_file(engine, write_xlsx(tmp_path / "v.xlsx", vehicles), "vehicles", site="panyu")
    assert report.committed, report.errors
    assert _filed(engine, Vehicle, "plate") == {"粤A12345": "tianhe", "粤BD12345": "panyu"}
    assert _filed(engine, Customer, "phone")["13600136000"] == "panyu", "a new owner is filed with the car"
    # an export without the column leaves every store as it was
    again = import_file(engine, write_csv(tmp_path / "c2.csv", CUSTOMERS[:2]), "customers", site="panyu")
    assert dict(again.counts) == {"updated": 1}  # gender and city are new, the store is not
    assert _filed(engine, Customer, "phone")["13800138000"] == "tianhe"


def test_an_unknown_store_imports_nothing_and_names_the_line(engine: Engine, tmp_path: Path) -> None:
    _group_sites(engine)
    rows = [
        ["客户姓名", "手机号", "门店"],
        ["王伟", "13800138000", "tianhe"],
        ["李娜", "13900139000", "nansha"],
        ["张敏", "13700137000", "closed"],
    ]
    report = import_file(engine, write_csv(tmp_path / "c.csv", rows), "customers", site="panyu")
    assert not report.committed and count(engine, Customer) == 0
    assert [(e.line, e.column) for e in report.errors] == [(3, "所属门店 site"), (4, "所属门店 site")]
    assert str(report.errors[0]).startswith("第 3 行 / line 3: 所属门店 site: 门店 nansha 未登记或已停用")
    assert "(known: panyu, tianhe)" in report.errors[1].message
    with pytest.raises(FileProblem, match="default store 'nowhere'"):
        import_file(engine, write_csv(tmp_path / "c.csv", CUSTOMERS), "customers", site="nowhere")


def test_file_level_problems(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(FileProblem, match="missing columns: 手机号 phone"):
        import_file(engine, write_csv(tmp_path / "x.csv", [["客户姓名"], ["王伟"]]), "customers")
    with pytest.raises(FileProblem, match="车牌号 plate 或 / or 车架号vin vin"):
        import_file(engine, write_csv(tmp_path / "y.csv", [["出险日期", "赔款金额", "出险类型"]]), "claims")
    with pytest.raises(FileProblem, match="only .csv and .xlsx"):
        import_file(engine, write_csv(tmp_path / "z.txt", CUSTOMERS), "customers")
    with pytest.raises(FileProblem, match="unknown kind"):
        import_file(engine, write_csv(tmp_path / "c.csv", CUSTOMERS), "dealers")
    # what Excel on a Chinese Windows writes when saving as CSV
    report = import_file(engine, write_csv(tmp_path / "gbk.csv", CUSTOMERS, encoding="gb18030"), "customers")
    assert report.committed and report.counts["created"] == 2


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DEALERGATE_SITE", "panyu")
    runner = CliRunner()
    path = write_csv(tmp_path / "customers.csv", CUSTOMERS)
    dry = runner.invoke(cli, ["import", str(path), "--kind", "customers", "--dry-run"])
    assert dry.exit_code == 0 and "created 2" in dry.output and "dry run" in dry.output
    done = runner.invoke(cli, ["import", str(path), "--kind", "customers"])
    assert done.exit_code == 0 and "imported" in done.output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    assert set(_filed(engine, Customer, "phone").values()) == {"panyu"}, "filed at the server's own store"
    engine.dispose()
    bad = write_csv(tmp_path / "bad.csv", [*CUSTOMERS, ["赵磊", "12", "男", ""]])
    failed = runner.invoke(cli, ["import", str(bad), "-k", "customers"])
    assert failed.exit_code == 1 and "第 4 行 / line 4" in failed.output
    assert runner.invoke(cli, ["db", "check"]).exit_code == 0
