"""`flask match rebuild | export-labels`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from market.db import db, the_app
from market.matches import engine, labels

match_cli = AppGroup("match", help="供需匹配")


@match_cli.command("rebuild")
def rebuild_command() -> None:
    """Refit the matcher and recompute every match (agents' states are kept)."""
    engine.rebuild(the_app(), progress=click.echo)


@match_cli.command("learn")
def learn_command() -> None:
    """Learn the ranker's weights from decisions; used only while cross-validation says not worse."""
    ranker = engine.learn(the_app(), progress=click.echo)
    click.echo("现在使用：" + ("学习得到的排序" if ranker.live else "首轮排序（默认权重）"))


@match_cli.command("export-labels")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--listings",
    "listings_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="同时导出 results.jsonl / needs.jsonl，供 python -m matching evaluate 使用",
)
def export_labels(out: Path, listings_dir: Path | None) -> None:
    """Write agents' and owners' decisions as {"need_id", "result_id", "grade"} lines."""
    count = labels.export(db(), out, listings_dir)
    click.echo(f"已导出 {count} 条标注到 {out}")
