"""The `dealergate` command line: one entry point for the demo, the edge, the server and tools.

Each subcommand only parses arguments and hands over to the module that owns the work, so the
command line stays a table of contents of the product.
"""

from __future__ import annotations

import datetime
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from dealergate import __version__

if TYPE_CHECKING:
    from server.config import ServerSettings

app = typer.Typer(help="dealergate: 车牌识别到店提醒与续保助手 / plate-triggered renewal assistant", no_args_is_help=True)
edge_app = typer.Typer(help="门岗边缘识别进程 / the gate-camera edge process", no_args_is_help=True)
server_app = typer.Typer(help="门店服务器 / the dealership server", no_args_is_help=True)
contract_app = typer.Typer(help="MQTT 事件契约 / the MQTT event contract", no_args_is_help=True)
bench_app = typer.Typer(help="性能与准确率基准 / benchmarks", no_args_is_help=True)
db_app = typer.Typer(help="门店数据库迁移 / the server database's schema migrations", no_args_is_help=True)
user_app = typer.Typer(help="员工账号 / staff accounts (logins and roles)", no_args_is_help=True)
app.add_typer(edge_app, name="edge")
app.add_typer(server_app, name="server")
app.add_typer(contract_app, name="contract")
app.add_typer(bench_app, name="bench")
app.add_typer(db_app, name="db")
server_app.add_typer(user_app, name="user")


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("amqtt", "transitions", "websockets", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT/SIGTERM so long-running loops can finish their work and exit."""
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        logging.getLogger("dealergate").info("signal %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@app.command()
def version() -> None:
    """打印版本 / print the version."""
    typer.echo(f"dealergate {__version__}")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="server port")] = 8000,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """一键演示：内置 MQTT、SQLite 演示数据、示例门岗视频 / run the whole flow on embedded defaults."""
    from dealergate.demo import run_demo

    _logging(verbose)
    raise typer.Exit(run_demo(port=port))


@edge_app.command("run")
def edge_run(
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config file")] = None,
    source: Annotated[Optional[str], typer.Option(help="file path, rtsp:// or http:// URL, or USB index")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """运行门岗识别 / run the edge: capture → detect → read → publish arrivals (every camera of the config)."""
    from edge.config import EdgeSettings
    from edge.runner import run_cameras

    _logging(verbose)
    try:
        settings = EdgeSettings.from_yaml(config) if config else EdgeSettings()
        if source is not None:
            if settings.cameras:
                raise ValueError("--source applies to a single camera; the config lists cameras: set each one's source")
            settings = settings.model_copy(update={"source": source})
    except Exception as exc:  # pydantic ValidationError, YAML errors, missing file
        typer.echo(f"配置错误 / invalid edge configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    from edge.capture import SourceError

    try:
        runs = run_cameras(settings, stop=_stop_on_signals())
    except (SourceError, FileNotFoundError) as exc:
        typer.echo(f"边缘进程无法启动 / edge cannot start: {exc}", err=True)
        raise typer.Exit(2) from exc
    failed = [r for r in runs if r.error is not None]
    for run in failed:
        typer.echo(f"摄像头失败 / camera {run.camera} failed: {run.error}", err=True)
    if failed:  # every camera failed: a start-up error (2); some: the others ran to their end (1)
        raise typer.Exit(2 if len(failed) == len(runs) else 1)


@server_app.command("run")
def server_run(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """运行门店服务器 / run the server (API, screens, MQTT ingest)."""
    from server.config import ServerSettings
    from server.main import run_server

    _logging(verbose)
    try:
        settings = ServerSettings()
    except Exception as exc:
        typer.echo(f"配置错误 / invalid server configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    run_server(settings)


@app.command()
def read(
    images: Annotated[list[Path], typer.Argument(help="image files")],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON Lines as ../shared/tools/plate_eval.py expects")] = False,
    ocr_only: Annotated[bool, typer.Option("--ocr-only", help="images are plate crops: skip detection")] = False,
    thorough: Annotated[
        bool,
        typer.Option("--thorough", help="run the learned detector on every image too (small plates behind; ~2x time)"),
    ] = False,
) -> None:
    """识别图片中的车牌 / read the plates in still images."""
    from edge.config import EdgeSettings
    from edge.reader import PlateReader, describe_record, read_images_jsonl

    try:
        reader = PlateReader.from_settings(EdgeSettings(), stream=False, thorough=thorough)
    except FileNotFoundError as exc:
        typer.echo(f"无法加载模型 / cannot load models: {exc}", err=True)
        raise typer.Exit(2) from exc
    for record in read_images_jsonl(reader, [str(p) for p in images], ocr_only=ocr_only):
        if jsonl:
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            typer.echo(describe_record(record))


@contract_app.command("schema")
def contract_schema() -> None:
    """打印到店事件的 JSON Schema / print the arrival event's JSON Schema."""
    from dealergate.contract import arrival_json_schema

    typer.echo(json.dumps(arrival_json_schema(), ensure_ascii=False, indent=2))


def _server_settings() -> ServerSettings:
    """The server's settings from the environment, or exit 2 with what is wrong."""
    from server.config import ServerSettings

    try:
        return ServerSettings()
    except Exception as exc:
        typer.echo(f"配置错误 / invalid server configuration: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help=".csv or .xlsx export", exists=True, dir_okay=False)],
    kind: Annotated[str, typer.Option("--kind", "-k", help="customers | vehicles | policies | claims | visits")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check and count, write nothing")] = False,
) -> None:
    """导入客户/车辆/保单/理赔/维修记录 / import a dealer-system export (all rows or none)."""
    from server.admin import run_import

    raise typer.Exit(run_import(_server_settings(), file, kind, dry_run=dry_run, echo=typer.echo))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """迁移到最新版本 / migrate the database to the latest revision (the server does this at start)."""
    from server.admin import run_db

    raise typer.Exit(run_db(_server_settings(), "upgrade", echo=typer.echo))


@db_app.command("check")
def db_check() -> None:
    """检查数据库与模型一致 / exit 1 unless the database is at the latest revision and matches the models."""
    from server.admin import run_db

    raise typer.Exit(run_db(_server_settings(), "check", echo=typer.echo))


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("--message", "-m", help="what the migration does")]) -> None:
    """生成迁移脚本（开发用）/ autogenerate a migration from the models (developers)."""
    from server.admin import run_db

    raise typer.Exit(run_db(_server_settings(), "revision", message=message, echo=typer.echo))


@server_app.command("remind")
def server_remind(
    today: Annotated[
        Optional[datetime.datetime], typer.Option(formats=["%Y-%m-%d"], help="run as if it were this day")
    ] = None,
) -> None:
    """续保提醒任务（每日）/ create today's renewal tasks (90/60/30 tiers, contact timeline); idempotent."""
    from server.daily import run_from_command_line

    report = run_from_command_line(_server_settings(), "remind", today=today.date() if today else None)
    typer.echo(json.dumps(report, ensure_ascii=False))


@server_app.command("purge")
def server_purge() -> None:
    """按保留期限清理车牌截图与到店记录 / apply the retention limits (snapshots, arrivals) now."""
    from server.daily import run_from_command_line

    typer.echo(json.dumps(run_from_command_line(_server_settings(), "purge"), ensure_ascii=False))


ROLES_HELP = "receptionist 前台 | advisor 续保专员 | manager 经理 | admin 管理员"
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin (scripts)")
]


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("新密码 / new password", hide_input=True, confirmation_prompt=True))


def _user(action: str, **fields: str | None) -> None:
    from server.admin import run_user

    raise typer.Exit(run_user(_server_settings(), action, echo=typer.echo, **fields))  # type: ignore[arg-type]


@user_app.command("list")
def user_list() -> None:
    """列出员工账号 / list staff accounts."""
    _user("list")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="login name: 2-32 of a-z 0-9 _ . -")],
    name: Annotated[str, typer.Option("--name", help="显示名 / name shown on the screens, e.g. 前台 王芳")],
    role: Annotated[str, typer.Option("--role", help=ROLES_HELP)],
    site: Annotated[str | None, typer.Option("--site", help="store code (default: this server's)")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """添加员工账号 / add a staff account."""
    password = _new_password(password_stdin)
    _user("add", username=username, display_name=name, role=role, site=site, password=password)


@user_app.command("passwd")
def user_passwd(username: str, password_stdin: PasswordStdin = False) -> None:
    """重设密码（旧登录失效）/ set a new password; the account's open sessions end."""
    _user("passwd", username=username, password=_new_password(password_stdin))


@user_app.command("role")
def user_role(username: str, role: Annotated[str, typer.Argument(help=ROLES_HELP)]) -> None:
    """更改角色（旧登录失效）/ change the role; the account's open sessions end."""
    _user("role", username=username, role=role)


@user_app.command("disable")
def user_disable(username: str) -> None:
    """停用账号（立即退出）/ disable an account; it is logged out at once."""
    _user("disable", username=username)


@user_app.command("enable")
def user_enable(username: str) -> None:
    """重新启用账号 / enable a disabled account."""
    _user("enable", username=username)


@server_app.command("audit")
def server_audit(
    customer: Annotated[int | None, typer.Option("--customer", help="customer id: who opened this file")] = None,
    plate: Annotated[str | None, typer.Option("--plate", help="the owner of this car")] = None,
    who: Annotated[str | None, typer.Option("--who", help="staff login: what this person opened")] = None,
    action: Annotated[str | None, typer.Option("--action", help="e.g. view_customer, list_arrivals, staff.disable")] = None,
    since: Annotated[datetime.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first day")] = None,
    until: Annotated[datetime.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last day")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
) -> None:
    """查看审计记录（谁查看了哪位客户）/ the audit trail: who opened which customer's file, newest first."""
    from server.admin import run_audit
    from server.audit import AuditFilter

    where = AuditFilter(
        customer,
        plate or None,
        who,
        action,
        since.date() if since else None,
        until.date() if until else None,
    )
    raise typer.Exit(run_audit(_server_settings(), where, limit=limit, echo=typer.echo))


@bench_app.command("edge")
def bench_edge(
    as_json: Annotated[bool, typer.Option("--json", help="print only the JSON object")] = False,
    smoke: Annotated[bool, typer.Option("--smoke", help="a few seconds, two cars: checks the bench runs")] = False,
    cache: Annotated[Optional[Path], typer.Option(help="where generated clips are kept")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """边缘识别基准：速度、延迟、空闲占用、准确率 / benchmark the edge on generated gate clips."""
    from edge.bench import BENCH_DIR, BenchPlan, report_lines, run_bench

    _logging(verbose)
    if not verbose:
        for chatty in ("edge", "dealergate", "amqtt"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        result = run_bench(BenchPlan.smoke() if smoke else BenchPlan(), cache or BENCH_DIR)
    except FileNotFoundError as exc:
        typer.echo(f"无法加载模型 / cannot load models: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not as_json:
        for line in report_lines(result):
            typer.echo(line, err=True)
    typer.echo(json.dumps(result, ensure_ascii=False))


@bench_app.command("screens")
def bench_screens(
    arrivals: Annotated[int, typer.Option(min=1, help="arrivals to publish over MQTT")] = 20,
    screens: Annotated[int, typer.Option(min=1, help="front-desk WebSocket clients in all")] = 50,
    pages: Annotated[int, typer.Option(min=1, help="of which chromium pages (the rest: plain clients)")] = 1,
    interval: Annotated[float, typer.Option(min=0.0, help="seconds between arrivals")] = 0.3,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """前台大屏延迟测试 / time from MQTT publish to the card on the front-desk screens."""
    from dealergate.bench import run_screens_bench

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = run_screens_bench(arrivals=arrivals, screens=screens, pages=pages, interval_s=interval)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            typer.echo(f"{key:<28} {value}")


@bench_app.command("server")
def bench_server(
    as_json: Annotated[bool, typer.Option("--json", help="print only the JSON object")] = False,
    smoke: Annotated[bool, typer.Option("--smoke", help="a tiny dataset: checks the bench runs")] = False,
    database_url: Annotated[
        Optional[str], typer.Option(help="PostgreSQL to measure on (seeded when empty); default: a throw-away cluster")
    ] = None,
    no_postgres: Annotated[bool, typer.Option("--no-postgres", help="SQLite only")] = False,
    cache: Annotated[Optional[Path], typer.Option(help="where the seeded SQLite file is kept")] = None,
) -> None:
    """门店服务器基准：到店提醒构建延迟与吞吐 / arrival → pushed alerts on 300k customers, SQLite and PostgreSQL."""
    from server.bench import BENCH_DIR, BenchPlan, run_bench

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for chatty in ("server", "dealergate", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    result = run_bench(
        BenchPlan.smoke() if smoke else BenchPlan(),
        cache=cache or BENCH_DIR,
        database_url=database_url,
        postgres=not no_postgres,
        note=lambda line: typer.echo(line, err=True),
    )
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    app()
