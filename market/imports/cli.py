"""`flask import results FILE` / `flask import needs FILE`: bulk import from CSV or XLSX (administrators)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from market.db import db
from market.errors import DomainError
from market.imports.service import REJECTED, REPORT_HEADER, ImportReport, import_listings, limits
from market.imports.tabular import write_csv

import_cli = AppGroup("import", help="从 CSV / XLSX 批量导入科技成果或技术需求")

#: files with more data rows than this show a progress bar
PROGRESS_FROM_ROWS = 200
SHOW_REJECTED = 20


def _options(command):
    command = click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="把逐行结果写入 CSV 文件",
    )(command)
    command = click.option(
        "--publish", is_flag=True, help="以平台运营身份直接发布新增和草稿状态的记录，新建的机构设为已认证"
    )(command)
    command = click.option("--org", "org_name", help="未填写单位的行归属的机构（不存在时新建）")(command)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(command)


def _run(kind: str, file: Path, org_name: str | None, publish: bool, report_path: Path | None) -> None:
    max_bytes, max_rows = limits(current_app.config)
    with file.open("rb") as fh:
        data = fh.read(max_bytes + 1)  # one byte more than allowed is enough to refuse
    session = db()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_FROM_ROWS:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="导入中", file=sys.stderr)
            bar.__enter__()
        bar.update(1)

    try:
        report = import_listings(
            session,
            kind=kind,
            filename=file.name,
            data=data,
            default_org=org_name,
            publish=publish,
            progress=progress,
            max_bytes=max_bytes,
            max_rows=max_rows,
        )
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(f"文件未导入：{exc.message}") from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    session.commit()
    _print(report, publish)
    if publish and report.published:
        # Bulk publishing is left to the relay worker (or `flask search sync`); for thousands of rows a
        # full `flask match rebuild` is faster than refreshing listing by listing.
        click.echo(
            "已发布的内容将由同步 worker 写入搜索与匹配；也可运行 flask search sync 或 flask match rebuild。"
        )
    if report_path is not None:
        report_path.write_bytes(write_csv(report.table(), REPORT_HEADER))
        click.echo(f"逐行结果已写入 {report_path}")


def _print(report: ImportReport, publish: bool) -> None:
    for warning in report.warnings:
        click.echo(f"提示：{warning}", err=True)
    rejected = [r for r in report.rows if r.status == REJECTED]
    for r in rejected[:SHOW_REJECTED]:
        click.echo(f"第 {r.row} 行未导入：{r.message}", err=True)
    if len(rejected) > SHOW_REJECTED:
        click.echo(f"……另有 {len(rejected) - SHOW_REJECTED} 行未导入，详见 --report 输出", err=True)
    if report.orgs_created:
        click.echo(f"新建机构：{'、'.join(report.orgs_created)}")
    counts = report.counts
    click.echo(
        f"imported={counts['imported']} updated={counts['updated']} "
        f"unchanged={counts['unchanged']} rejected={counts['rejected']}"
    )
    click.echo(f"导入完成：{report.summary()}" + (f"；直接发布 {report.published} 条" if publish else ""))


@import_cli.command("results")
@_options
def import_results(file: Path, org_name: str | None, publish: bool, report_path: Path | None) -> None:
    """Import research results (科技成果) from FILE (.csv or .xlsx)."""
    _run("result", file, org_name, publish, report_path)


@import_cli.command("needs")
@_options
def import_needs(file: Path, org_name: str | None, publish: bool, report_path: Path | None) -> None:
    """Import technology needs (技术需求) from FILE (.csv or .xlsx)."""
    _run("need", file, org_name, publish, report_path)
