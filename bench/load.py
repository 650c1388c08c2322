"""Load benchmark: the site under concurrent read traffic, gunicorn against the Flask development server.

    .venv/bin/python bench/load.py             # demo + 20,000 synthetic, 50 clients, 15 s per endpoint
    .venv/bin/python bench/load.py --quick     # smoke run: 2,000 synthetic, 10 clients, 5 s
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Prepares a throwaway data directory under a temp dir (never instance/): `flask db upgrade`, `flask seed
demo`, N synthetic published listings bulk-inserted with SQLAlchemy Core (seeded RNG, vocabulary from
vocab/), then `flask search reindex`. The matcher is not refitted for the synthetic rows (anonymous
read traffic never reads it; `--match-rebuild` runs `flask match rebuild` and times it). With
`--database-url` the bench creates a throwaway database on that PostgreSQL server and drops it
afterwards; the database named in the URL is only used to run CREATE/DROP DATABASE.

Then serves the same data with each server in turn on a free loopback port (gunicorn, 2 sync workers;
gunicorn, 2 gthread workers; `flask run` with threads) and drives each endpoint with C keep-alive
clients (one http.client connection per thread) for a bounded time and request count, after a warm-up
and a one-client pass (service time without queueing). Prints one JSON object: per server × endpoint
requests, requests/s, latency percentiles, errors, server and client CPU; ratios gunicorn/dev; the target
(zero errors and search p95 < 100 ms at 50 clients); and, when the target is missed (or with
`--profile always`), an in-process cProfile of each endpoint in a single request loop.

Every process it starts runs in its own process group and is stopped on exit, Ctrl+C or error; the temp
dir is deleted unless `--keep`.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import itertools
import json
import os
import platform
import pstats
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from market import create_app  # noqa: E402
from market.accounts.models import Organization  # noqa: E402
from market.db import make_engine  # noqa: E402
from market.listings.models import ResearchResult, TechNeed  # noqa: E402
from vocab.taxonomy import (  # noqa: E402
    CHALLENGE_MODE,
    COOPERATION_MODES,
    FIELDS,
    SELLER_KINDS,
    IPType,
    ListingStatus,
    Maturity,
    OrgKind,
    Region,
    RightsNote,
    TransferMode,
    values,
)

BIN = Path(sys.executable).parent
TARGET_P95_MS = 100.0
TARGET_CONCURRENCY = 50
SEARCH_ENDPOINTS = ("search", "api_search")
SERVER_KINDS = ("gunicorn", "gunicorn-gthread", "dev")

# --------------------------------------------------------------------------------------------------
# Vocabulary of the synthetic listings and the queries: each first-level field's own terms (most are
# vocab.analyzer.DOMAIN_TERMS, so the analyser keeps them whole), plus the taxonomy's second levels.
# --------------------------------------------------------------------------------------------------

FIELD_TERMS: dict[str, tuple[str, ...]] = {
    "新一代信息技术": (
        "机器视觉", "自然语言处理", "大语言模型", "知识图谱", "边缘计算", "联邦学习", "工业互联网",
        "物联网", "区块链", "量子通信", "隐私计算", "操作系统", "数据库", "云计算", "高性能计算",
        "芯片设计", "封装测试", "碳化硅", "氮化镓", "图像识别", "网络安全", "数据安全",
    ),
    "生物技术与现代医药": (
        "基因编辑", "细胞治疗", "干细胞", "单克隆抗体", "疫苗", "体外诊断", "医学影像", "中药提取",
        "药物递送", "生物发酵", "酶催化", "靶向药物", "手术机器人", "抗体", "磁共振成像",
    ),
    "装备制造": (
        "工业机器人", "协作机器人", "数控机床", "伺服电机", "减速器", "智能传感器", "增材制造",
        "激光加工", "故障诊断", "数字孪生", "工业软件", "精密测量", "液压系统", "机器视觉",
    ),
    "新能源": (
        "锂离子电池", "固态电池", "钠离子电池", "燃料电池", "太阳能电池", "钙钛矿", "质子交换膜",
        "电解水制氢", "储能电池", "液流电池", "智能电网", "综合能源", "风电叶片", "光伏组件", "储氢材料",
    ),
    "新能源汽车及智能网联车": (
        "动力电池", "电池管理系统", "自动驾驶", "车路协同", "激光雷达", "毫米波雷达", "电机驱动",
        "热管理", "轻量化", "充电桩", "固态电池",
    ),
    "新材料": (
        "复合材料", "碳纤维", "石墨烯", "高分子材料", "可降解塑料", "生物基材料", "光刻胶", "涂层",
        "催化剂", "陶瓷材料", "高温合金", "稀土材料",
    ),
    "航空航天": (
        "无人机", "卫星遥感", "北斗导航", "复合材料", "航空发动机", "飞行控制", "导航定位", "碳纤维",
    ),
    "现代服务业": ("检验检测", "工业设计", "数字孪生", "知识图谱", "文化创意", "标准化", "云计算"),
    "现代农业": (
        "智慧农业", "精准灌溉", "植物工厂", "冷链物流", "保鲜技术", "育种", "分子育种", "食品检测",
        "农药残留", "土壤改良", "生物农药", "水产养殖",
    ),
    "资源与环境": (
        "污水处理", "膜分离", "土壤修复", "重金属", "固废资源化", "脱硫脱硝", "挥发性有机物", "碳捕集",
        "海水淡化", "烟气净化", "废水回用", "生态修复",
    ),
    "城市建设与公共安全": (
        "智能建造", "装配式建筑", "建筑节能", "应急管理", "安全监测", "隐患排查", "桥梁监测",
        "应急通信", "视频分析", "城市管网",
    ),
    "人口健康": (
        "医学影像", "体外诊断", "慢病管理", "中医药", "康复器械", "远程医疗", "疫苗", "传染病监测",
    ),
}  # fmt: skip
ADJECTIVES = ("高效", "低成本", "高性能", "新型", "智能化", "绿色", "长寿命", "高精度", "柔性", "模块化")
RESULT_SUFFIXES = ("制备方法", "关键技术", "系统及装置", "工艺", "平台", "解决方案", "产业化技术", "优化设计")
RESULT_TITLES = (
    "{adj}{t1}{s}",
    "基于{t1}的{t2}{s}",
    "{t1}与{t2}一体化{s}",
    "面向{sub}的{adj}{t1}{s}",
)
NEED_TITLES = (
    "{t1}{ns}",
    "{sub}领域{t1}{ns}",
    "{t1}与{t2}{ns}",
    "产线{t1}{ns}",
)
NEED_SUFFIXES = ("技术攻关", "工艺升级需求", "国产化替代", "降本增效方案征集", "技术合作需求", "难题求解")
RESULT_SENTENCES = (
    "本成果针对{sub}领域的{t1}问题，提出了{adj}{t2}方案。",
    "采用{t1}与{t2}相结合的技术路线，关键指标提升{p}%。",
    "已在{org}完成{stage}验证，运行稳定，具备推广条件。",
    "核心技术包括{t2}、{t3}和{t1}，已申请发明专利{k}项。",
    "可应用于{sub}、{sub2}等场景，市场前景广阔。",
    "与现有{t3}相比，成本降低{p}%，能耗下降{q}%。",
)
PROBLEMS = (
    "现有{t1}依赖进口，价格高、交货周期长。",
    "传统{t2}工艺能耗高、良品率不足{p}%。",
    "{t1}在复杂工况下稳定性差，维护成本高。",
)
ADVANTAGES = (
    "经第三方检测，{t1}关键指标优于国外同类产品{q}%。",
    "在{org}示范应用{k}年，累计节约成本{p}0万元。",
    "单位成本降低{p}%，使用寿命提高{k}倍。",
)
NEED_SENTENCES = (
    "我公司主要从事{sub}相关产品生产，年产值约{k}亿元。",
    "目前{t1}环节依赖人工，效率低、一致性差，希望引入{t2}提升水平。",
    "现有{t3}设备老化，故障率高，每年损失约{p}0万元。",
    "希望与高校院所开展{mode}，共同解决{t1}难题。",
    "拟在{k}个月内完成{t2}中试并实现量产。",
)
REQUIREMENTS = (
    "需具备{t1}相关研发经验和中试条件。",
    "方案需兼容现有{t2}产线，改造周期不超过{k}个月。",
)
METRICS = ("{t1}良品率达到{q}%以上，成本降低{p}%。", "{t2}响应时间小于{k}秒，连续运行无故障。")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超", "霞")
TRL = {"实验室阶段": (1, 3), "小试": (4, 5), "中试": (6, 7), "产业化": (8, 9)}


def _fill(rng: random.Random, top: str, sub: str, orgs: list[str]) -> dict[str, Any]:
    terms = FIELD_TERMS[top]
    t1, t2, t3 = rng.sample(terms, 3)
    return {
        "t1": t1, "t2": t2, "t3": t3, "sub": sub, "sub2": rng.choice(FIELDS[top]),
        "adj": rng.choice(ADJECTIVES), "s": rng.choice(RESULT_SUFFIXES), "ns": rng.choice(NEED_SUFFIXES),
        "p": rng.randint(5, 60), "q": rng.randint(5, 40), "k": rng.randint(1, 9),
        "org": rng.choice(orgs), "stage": rng.choice(("小试", "中试", "示范线")),
        "mode": rng.choice(values(TransferMode)),
    }  # fmt: skip


def _text(rng: random.Random, templates: tuple[str, ...], fill: dict[str, Any], low: int, high: int) -> str:
    return "".join(t.format(**fill) for t in rng.sample(templates, rng.randint(low, high)))


def synthetic_rows(
    n: int, *, sellers: list[int], enterprises: list[int], org_names: list[str], seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` published listings, half research results and half technology needs, as Core insert rows."""
    rng = random.Random(seed)
    pairs = [(top, sub) for top, subs in FIELDS.items() for sub in subs]
    maturities = values(Maturity)
    ip_types = values(IPType)
    now = datetime.now(UTC)
    results: list[dict[str, Any]] = []
    needs: list[dict[str, Any]] = []
    for i in range(n):
        top, sub = rng.choice(pairs)
        fill = _fill(rng, top, sub, org_names)
        published = now - timedelta(seconds=rng.randint(3600, 3 * 365 * 86400))
        created = published - timedelta(days=rng.randint(0, 30))
        common = {
            "organization_id": 0,
            "created_by_id": None,
            "field": sub,
            "field_inferred": False,
            "keywords": list(dict.fromkeys([fill["t1"], fill["t2"], fill["t3"], sub]))[: rng.randint(2, 4)],
            "contact_name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
            "contact_phone": f"022-{rng.randint(20000000, 29999999)}",
            "contact_email": f"contact{i}@example.cn",
            "status": ListingStatus.PUBLISHED.value,
            "review_note": None,
            "version": 1,
            "created_at": created,
            "updated_at": published,
            "published_at": published,
        }
        if i % 2 == 0:
            maturity = rng.choice(maturities)
            ip_type = rng.choices(ip_types, weights=[10, 3, 1, 3, 1, 1, 1, 2, 1])[0]
            negotiable = rng.random() < 0.35
            price = round(rng.uniform(5, 2000), 1)
            results.append(
                {
                    **common,
                    "external_id": f"LR{i:06d}",
                    "organization_id": rng.choice(sellers),
                    "title": rng.choice(RESULT_TITLES).format(**fill),
                    "summary": _text(rng, RESULT_SENTENCES, fill, 3, 5),
                    "problem": rng.choice(PROBLEMS).format(**fill),
                    "advantage": rng.choice(ADVANTAGES).format(**fill),
                    "maturity": maturity,
                    "trl": rng.randint(*TRL[maturity]),
                    "ip_type": ip_type,
                    "patent_numbers": [
                        f"ZL{rng.randint(2015, 2025)}{rng.randint(10**8, 10**9 - 1)}.{rng.randint(0, 9)}"
                        for _ in range(rng.randint(1, 3) if "专利" in ip_type else 0)
                    ],
                    "transfer_modes": rng.sample(values(TransferMode), rng.randint(1, 3)),
                    "price_negotiable": negotiable,
                    "price_wan": None if negotiable else price,
                    "appraised_wan": round(price * rng.uniform(1.0, 1.8), 1) if rng.random() < 0.4 else None,
                    "inventors": [
                        rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)) for _ in range(rng.randint(1, 4))
                    ],
                    "rights_note": rng.choice([None, None, *values(RightsNote)]),
                }
            )
        else:
            modes = rng.sample(COOPERATION_MODES, rng.randint(1, 3))
            challenge = CHALLENGE_MODE in modes
            low = round(rng.uniform(10, 500), 1)
            needs.append(
                {
                    **common,
                    "external_id": f"LN{i:06d}",
                    "organization_id": rng.choice(enterprises),
                    "title": rng.choice(NEED_TITLES).format(**fill),
                    "description": _text(rng, NEED_SENTENCES, fill, 2, 4),
                    "requirements": rng.choice(REQUIREMENTS).format(**fill),
                    "target_metrics": rng.choice(METRICS).format(**fill),
                    "cooperation_modes": modes,
                    "budget_min_wan": low,
                    "budget_max_wan": round(low * rng.uniform(1.2, 3.0), 1),
                    "deadline": date.today() + timedelta(days=rng.randint(30, 720)),
                    "is_challenge": challenge,
                    "reward_wan": round(rng.uniform(50, 1000), 0) if challenge else None,
                    "eligibility": "具有独立法人资格的高校、科研院所或企业" if challenge else None,
                    "no_secret_confirmed": True,
                }
            )
    return results, needs


def query_strings(seed: int, size: int = 400) -> list[str]:
    """Search query strings like users type: 2–3 words of one field (its terms and second levels),
    about a third with a filter (first-level field, kind, region, maturity) or a sort."""
    rng = random.Random(seed)
    tops = list(FIELDS)
    maturities = values(Maturity)
    out: list[str] = []
    for i in range(size):
        top = rng.choice(tops)
        terms, subs = FIELD_TERMS[top], FIELDS[top]
        shape = i % 4
        if shape == 0:
            words = rng.sample(terms, 2)
        elif shape == 1:
            words = [*rng.sample(terms, 2), rng.choice(subs)]
        elif shape == 2:
            words = [rng.choice(terms), rng.choice(subs)]
        else:
            words = [rng.choice(ADJECTIVES), rng.choice(terms)]
        params: dict[str, str] = {"q": " ".join(words)}
        roll = rng.random()
        if roll < 0.15:
            params["field_top"] = top
        elif roll < 0.24:
            params["kind"] = rng.choice(("result", "need"))
        elif roll < 0.31:
            params["region"] = Region.TIANJIN.value
        elif roll < 0.35:
            params["maturity"] = rng.choice(maturities)
        elif roll < 0.38:
            params["sort"] = "newest"
        out.append(urlencode(params))
    return out


# --------------------------------------------------------------------------------------------------
# Processes: every child in its own process group, stopped in `finally`.
# --------------------------------------------------------------------------------------------------

_children: set[subprocess.Popen] = set()


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the child's process group, SIGKILL it after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # workers that outlived their parent keep its group id (== the parent's pid, which stays reserved
    # while the group has members)
    if group_members(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    _children.discard(proc)


def spawn(cmd: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    with logfile.open("ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _children.add(proc)
    return proc


def run(cmd: list[str], env: dict[str, str], logfile: Path, timeout: float = 3600) -> float:
    """Run a preparation command to completion; returns its wall time (raises with the log tail)."""
    t0 = time.perf_counter()
    proc = spawn(cmd, env, logfile)
    try:
        code = proc.wait(timeout)
    finally:
        stop(proc)
    if code != 0:
        tail = logfile.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited with {code}:\n{tail}")
    return time.perf_counter() - t0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> list[list[bytes]]:
    """/proc/PID/stat fields (from the state on) of the live processes of a process group."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                rest = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(rest[2]) == pgid and rest[0] != b"Z":
            out.append(rest)
    return out


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of the live processes of a process group."""
    ticks = sum(int(rest[11]) + int(rest[12]) for rest in group_members(pgid))
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent busy (not idle, not waiting for I/O)."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------
# The data directory
# --------------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    tmp: Path
    env: dict[str, str]
    database: str
    result_ids: list[int] = field(default_factory=list)
    need_ids: list[int] = field(default_factory=list)
    demo: dict[str, int] = field(default_factory=dict)
    prepare_seconds: dict[str, float] = field(default_factory=dict)
    drop_database: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        return self.env["DATABASE_URL"]


def create_pg_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A throwaway database on the server of `server_url`, and a function that drops it."""
    url = sa.make_url(server_url)
    name = f"market_load_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def base_env(tmp: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "FLASK_"))}
    env.update(
        DATABASE_URL=database_url,
        SEARCH_PATH=str(tmp / "search.sqlite3"),
        MATCH_MODEL_PATH=str(tmp / "matcher.joblib"),
        UPLOAD_DIR=str(tmp / "uploads"),
        MARKET_ENV="development",
        RELAY_AFTER_COMMIT="0",  # read-only traffic: nothing to relay
        FLASK_DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def insert_synthetic(url: str, n: int, seed: int) -> dict[str, int]:
    """Bulk INSERT `n` synthetic published listings (SQLAlchemy Core, one transaction)."""

    engine = make_engine(url)  # the site's engine: same JSON serialisation of list columns
    orgs = Organization.__table__
    try:
        with engine.begin() as conn:
            rows = conn.execute(sa.select(orgs.c.id, orgs.c.kind, orgs.c.name)).all()
            sellers = [r.id for r in rows if r.kind in SELLER_KINDS]
            enterprises = [r.id for r in rows if r.kind == OrgKind.ENTERPRISE]
            if not sellers or not enterprises:
                raise RuntimeError("the demo data has no seller or enterprise organisations")
            results, needs = synthetic_rows(
                n, sellers=sellers, enterprises=enterprises, org_names=[r.name for r in rows], seed=seed
            )
            for table, batch in ((ResearchResult.__table__, results), (TechNeed.__table__, needs)):
                for start in range(0, len(batch), 2000):
                    conn.execute(table.insert(), batch[start : start + 2000])
    finally:
        engine.dispose()
    return {"results": len(results), "needs": len(needs)}


def published_ids(url: str) -> tuple[list[int], list[int]]:

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = []
            for model in (ResearchResult, TechNeed):
                t = model.__table__
                out.append(
                    list(
                        conn.execute(sa.select(t.c.id).where(t.c.status == ListingStatus.PUBLISHED)).scalars()
                    )
                )
    finally:
        engine.dispose()
    return out[0], out[1]


def prepare(args: argparse.Namespace, tmp: Path, data: Dataset) -> None:
    flask = [sys.executable, "-m", "flask", "--app", "market"]
    logfile = tmp / "prepare.log"
    log(f"data directory {tmp} ({data.database})")
    data.prepare_seconds["db_upgrade"] = run([*flask, "db", "upgrade"], data.env, logfile)
    log("seeding the demo data (flask seed demo)")
    data.prepare_seconds["seed_demo"] = run([*flask, "seed", "demo"], data.env, logfile)
    demo_results, demo_needs = published_ids(data.url)
    data.demo = {"results": len(demo_results), "needs": len(demo_needs)}
    log(f"inserting {args.synthetic} synthetic listings")
    t0 = time.perf_counter()
    if args.synthetic:
        insert_synthetic(data.url, args.synthetic, args.seed)
    data.prepare_seconds["synthetic_insert"] = time.perf_counter() - t0
    log("rebuilding the search index (flask search reindex)")
    data.prepare_seconds["search_reindex"] = run([*flask, "search", "reindex"], data.env, logfile)
    if args.match_rebuild:
        log("refitting the matcher (flask match rebuild)")
        data.prepare_seconds["match_rebuild"] = run([*flask, "match", "rebuild"], data.env, logfile)
    data.result_ids, data.need_ids = published_ids(data.url)
    data.prepare_seconds = {k: round(v, 2) for k, v in data.prepare_seconds.items()}
    saved = {"database_url": data.url, "database": data.database, "demo": data.demo}
    saved |= {"synthetic": args.synthetic, "prepare_seconds": data.prepare_seconds}
    (tmp / "dataset.json").write_text(json.dumps(saved, ensure_ascii=False, indent=2))


def reuse(tmp: Path, args: argparse.Namespace) -> Dataset:
    """The data directory of an earlier `--keep` run, as it is (nothing is rebuilt or deleted)."""
    saved = json.loads((tmp / "dataset.json").read_text())
    data = Dataset(tmp, base_env(tmp, saved["database_url"]), saved["database"])
    data.demo, data.prepare_seconds = saved["demo"], {}
    args.synthetic = saved["synthetic"]
    data.result_ids, data.need_ids = published_ids(data.url)
    log(f"reusing {tmp} ({data.database}, {len(data.result_ids) + len(data.need_ids)} listings)")
    return data


# --------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------


def server_command(kind: str, port: int, threads: int) -> list[str]:
    if kind == "gunicorn":
        return [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "market:create_app()"]
    if kind == "gunicorn-gthread":
        return [
            str(BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", str(threads),
            "-b", f"127.0.0.1:{port}", "market:create_app()",
        ]  # fmt: skip
    if kind == "dev":
        return [
            sys.executable, "-m", "flask", "--app", "market", "run", "--host", "127.0.0.1",
            "--port", str(port), "--with-threads", "--no-reload", "--no-debugger",
        ]  # fmt: skip
    raise ValueError(kind)


@contextlib.contextmanager
def serving(kind: str, data: Dataset, threads: int) -> Iterator[tuple[subprocess.Popen, int, list[str]]]:
    """Start a server on a free loopback port, wait for /healthz, stop it (whole group) afterwards."""
    port = free_port()
    cmd = server_command(kind, port, threads)
    logfile = data.tmp / f"server-{kind}.log"
    proc = spawn(cmd, data.env, logfile)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                tail = logfile.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{kind} exited with {proc.returncode}:\n{tail}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
                conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} did not answer /healthz within 90 s")
            time.sleep(0.2)
        yield proc, port, cmd
    finally:
        stop(proc)


# --------------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies: list[float]  # seconds, of every request that got a response
    requests: int
    errors: int
    statuses: Counter
    exceptions: Counter
    wall: float
    client_cpu: float
    server_cpu: float
    machine_cpu: float
    connections: int


def drive(
    port: int,
    paths: Callable[[random.Random], str],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    seed: int,
    pgid: int,
    think: float = 0.0,
    timeout: float = 30.0,
) -> Outcome:
    """`concurrency` closed-loop clients, each with its own keep-alive connection (reopened when the
    server closes it), for `duration` seconds or `max_requests` requests in all, whichever comes first;
    each client pauses `think` seconds (exponentially distributed) between requests."""
    budget = itertools.count()  # next() on it is atomic under the GIL
    start_gate = threading.Barrier(concurrency + 1)
    per_thread: list[tuple[list[float], int, int, Counter, Counter, int] | None] = [None] * concurrency
    ends: list[float] = [0.0] * concurrency
    deadline = [0.0]

    def client(idx: int) -> None:
        rng = random.Random(seed * 100_003 + idx)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        lat: list[float] = []
        statuses: Counter = Counter()
        exceptions: Counter = Counter()
        sent = errors = opened = 0
        start_gate.wait()
        try:
            while time.perf_counter() < deadline[0] and next(budget) < max_requests:
                if think:
                    time.sleep(min(rng.expovariate(1 / think), max(0.0, deadline[0] - time.perf_counter())))
                    if time.perf_counter() >= deadline[0]:
                        break
                path = paths(rng)
                sent += 1
                opened += conn.sock is None
                t0 = time.perf_counter()
                try:
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    errors += 1
                    exceptions[type(exc).__name__] += 1
                    time.sleep(0.01)
                    continue
                lat.append(time.perf_counter() - t0)
                statuses[resp.status] += 1
                if not 200 <= resp.status < 300:
                    errors += 1
        finally:
            conn.close()
            ends[idx] = time.perf_counter()
            per_thread[idx] = (lat, sent, errors, statuses, exceptions, opened)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    cpu0, server0, machine0 = time.process_time(), group_cpu_seconds(pgid), machine_busy_seconds()
    t_start = time.perf_counter()
    deadline[0] = t_start + duration
    start_gate.wait()
    for t in threads:
        t.join(duration + timeout + 10)
    wall = max(ends) - t_start if all(ends) else time.perf_counter() - t_start
    client_cpu, server_cpu = time.process_time() - cpu0, group_cpu_seconds(pgid) - server0
    machine_cpu = machine_busy_seconds() - machine0
    latencies: list[float] = []
    statuses: Counter = Counter()
    exceptions: Counter = Counter()
    requests = errors = connections = 0
    for item in per_thread:
        if item is None:  # a client stuck past its timeout: count it as an error
            errors += 1
            continue
        lat, sent, errs, st, ex, opened = item
        connections += opened
        latencies += lat
        requests += sent
        errors += errs
        statuses.update(st)
        exceptions.update(ex)
    return Outcome(
        latencies,
        requests,
        errors,
        statuses,
        exceptions,
        wall,
        client_cpu,
        server_cpu,
        machine_cpu,
        connections,
    )


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


def summary(o: Outcome) -> dict[str, Any]:
    ms = [x * 1000 for x in o.latencies]
    return {
        "requests": o.requests,
        "requests_per_s": round(o.requests / o.wall, 1) if o.wall else 0.0,
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else None,
        "errors": o.errors,
        "statuses": {str(k): v for k, v in sorted(o.statuses.items())},
        **({"exceptions": dict(o.exceptions)} if o.exceptions else {}),
        "connections_opened": o.connections,
        "wall_s": round(o.wall, 2),
        # CPU per request: service cost without queueing (server: every process of its group)
        "server_cpu_ms_per_request": round(o.server_cpu * 1000 / o.requests, 2) if o.requests else None,
        "client_cpu_ms_per_request": round(o.client_cpu * 1000 / o.requests, 2) if o.requests else None,
        # cores busy on average: the server, this client, and everything else on the machine
        "cores_server": round(o.server_cpu / o.wall, 2) if o.wall else None,
        "cores_client": round(o.client_cpu / o.wall, 2) if o.wall else None,
        "cores_other_processes": round(max(0.0, o.machine_cpu - o.server_cpu - o.client_cpu) / o.wall, 2)
        if o.wall
        else None,
    }


def targets(data: Dataset, seed: int) -> dict[str, Callable[[random.Random], str]]:
    queries = query_strings(seed)
    results, needs = data.result_ids, data.need_ids
    return {
        "home": lambda rng: "/",
        "search": lambda rng: "/search?" + rng.choice(queries),
        "result_detail": lambda rng: f"/results/{rng.choice(results)}",
        "need_detail": lambda rng: f"/needs/{rng.choice(needs)}",
        "api_search": lambda rng: "/api/v1/search?" + rng.choice(queries),
    }


def check_queries(port: int, queries: list[str], sample: int = 100) -> dict[str, Any]:
    """How many of the benchmark's queries find something (a stale or empty index makes search look
    fast): the API's totals for the first `sample` queries."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    totals = []
    try:
        for q in queries[:sample]:
            conn.request("GET", "/api/v1/search?" + q)
            resp = conn.getresponse()
            body = resp.read()
            totals.append(json.loads(body).get("total", 0) if resp.status == 200 else -1)
    finally:
        conn.close()
    found = [t for t in totals if t > 0]
    report = {
        "distinct": len(queries),
        "with_filter_or_sort": sum("&" in q for q in queries),
        "sampled": len(totals),
        "share_with_hits": round(len(found) / len(totals), 2) if totals else 0.0,
        "median_total": sorted(totals)[len(totals) // 2] if totals else 0,
        "errors": sum(t < 0 for t in totals),
    }
    if report["share_with_hits"] < 0.5:
        log(
            f"WARNING: only {report['share_with_hits']:.0%} of the queries find anything; is the index stale?"
        )
    return report


def measure_all(data: Dataset, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every server up at once (idle ones cost nothing); endpoint by endpoint, each server in turn, the
    order reversed on every other endpoint, so that a change in the machine's other load hits all
    servers alike and the gunicorn/dev ratios compare like with like."""
    paths = targets(data, args.seed)
    out: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        live: dict[str, tuple[subprocess.Popen, int]] = {}
        for kind in args.servers:
            proc, port, cmd = stack.enter_context(serving(kind, data, args.threads))
            live[kind] = (proc, port)
            out[kind] = {
                "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
                "endpoints": {},
            }
            log(f"{kind} on 127.0.0.1:{port}")
        # warm-up: every worker loads jieba, the index columns and the templates
        for proc, port in live.values():
            for fn in paths.values():
                drive(
                    port, fn, concurrency=min(args.concurrency, 8), duration=args.warmup, seed=1,
                    max_requests=args.max_requests, pgid=proc.pid,
                )  # fmt: skip
        queries = check_queries(next(iter(live.values()))[1], query_strings(args.seed))
        for n, (name, fn) in enumerate(paths.items()):
            order = list(live) if n % 2 == 0 else list(reversed(live))
            for kind in order:
                proc, port = live[kind]
                common = {"max_requests": args.max_requests, "pgid": proc.pid}
                entry: dict[str, Any] = {}
                if args.solo:
                    solo = summary(drive(port, fn, concurrency=1, duration=args.solo, seed=2 + n, **common))
                    entry["one_client"] = {k: solo[k] for k in ("requests", "p50_ms", "p95_ms", "errors")}
                loaded = drive(
                    port, fn, concurrency=args.concurrency, duration=args.duration, think=args.think,
                    seed=100 + n, **common,
                )  # fmt: skip
                entry.update(summary(loaded))
                out[kind]["endpoints"][name] = entry
                log(
                    f"  {name:<14} {kind:<17} {entry['requests_per_s']:>7} req/s  "
                    f"p50 {entry['p50_ms']:>8} ms  p95 {entry['p95_ms']:>8} ms  errors {entry['errors']}  "
                    f"cores server/others {entry['cores_server']}/{entry['cores_other_processes']}"
                )
    return out, queries


# --------------------------------------------------------------------------------------------------
# Profile: where a single request's time goes, in-process (no HTTP, no concurrency)
# --------------------------------------------------------------------------------------------------

_PROJECT = ("/market/", "/search/", "/vocab/", "/matching/", ".html")


def _where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    path = filename
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{line}({name})" if line else name


def profile_endpoints(data: Dataset, args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """cProfile `args.profile_requests` requests of each endpoint through the test client."""

    keys = ("DATABASE_URL", "SEARCH_PATH", "MATCH_MODEL_PATH", "UPLOAD_DIR", "SEARCH_RESULT_CACHE")
    config = {k: data.env[k] for k in keys if k in data.env}
    app = create_app({**config, "RELAY_AFTER_COMMIT": False, "MARKET_ENV": "development"})
    client = app.test_client()
    paths = targets(data, args.seed)
    out: dict[str, Any] = {}
    for name in names:
        rng = random.Random(7)
        batch = [paths[name](rng) for _ in range(args.profile_requests)]
        for path in batch[:20]:
            client.get(path)
        times = []
        cpu0 = time.process_time()
        for path in batch:
            t0 = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        cpu_ms = (time.process_time() - cpu0) * 1000 / len(batch)
        prof = cProfile.Profile()
        prof.enable()
        for path in batch:
            client.get(path)
        prof.disable()
        stats = pstats.Stats(prof)
        raw = stats.stats  # type: ignore[attr-defined]
        n = len(batch)
        total = stats.total_tt  # type: ignore[attr-defined]

        def row(key, value, n=n, total=total) -> dict[str, Any]:
            _cc, calls, tottime, cumtime, _callers = value
            return {
                "function": _where(key),
                "share": round(cumtime / total, 3),  # of the profiled request time
                "cum_ms": round(cumtime * 1000 / n, 2),  # profiled (inflated by the profiler)
                "self_ms": round(tottime * 1000 / n, 2),
                "calls": round(calls / n, 1),
            }

        ours = [(k, v) for k, v in raw.items() if any(m in k[0] for m in _PROJECT)]
        out[name] = {
            "requests": n,
            "unprofiled_p50_ms": round(percentile(times, 50), 2),
            "unprofiled_mean_ms": round(sum(times) / n, 2),
            "unprofiled_cpu_ms": round(cpu_ms, 2),
            "profiled_ms": round(total * 1000 / n, 2),
            "project_by_cumulative": [row(k, v) for k, v in sorted(ours, key=lambda kv: -kv[1][3])[:18]],
            "all_by_self": [row(k, v) for k, v in sorted(raw.items(), key=lambda kv: -kv[1][2])[:12]],
        }
        log(f"profiled {name}: {out[name]['unprofiled_cpu_ms']} ms CPU per request in-process")
    return out


# --------------------------------------------------------------------------------------------------


def git_state() -> dict[str, Any]:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False).stdout

    dirty = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "modified_files": dirty}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--synthetic", type=int, default=20_000, help="synthetic published listings (half needs)")
    p.add_argument("--concurrency", "-c", type=int, default=50, help="concurrent clients")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per server × endpoint")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per endpoint (8 clients)")
    p.add_argument(
        "--solo", type=float, default=3.0, help="seconds of one-client traffic per endpoint; 0: none"
    )
    p.add_argument("--think", type=float, default=0.0, help="mean pause between a client's requests (s)")
    p.add_argument(
        "--search-result-cache",
        type=int,
        metavar="N",
        help="SEARCH_RESULT_CACHE for the servers (result pages kept per process; 0: off, every "
        "search does its full work). Default: the site's default. The query mix has 400 distinct "
        "strings, so a cache that holds them all shows the best case and 0 the worst.",
    )
    p.add_argument("--max-requests", type=int, default=200_000, help="request cap per server × endpoint")
    p.add_argument(
        "--servers",
        default="gunicorn,gunicorn-gthread,dev",
        help=f"comma-separated, in order; of {', '.join(SERVER_KINDS)}",
    )
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn-gthread worker")
    p.add_argument("--database-url", help="PostgreSQL server: a throwaway database is created there")
    p.add_argument("--match-rebuild", action="store_true", help="also refit the matcher (timed)")
    p.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--profile-requests", type=int, default=200)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--keep", action="store_true", help="keep the temp dir (its path is in the JSON)")
    p.add_argument(
        "--reuse",
        type=Path,
        metavar="DIR",
        help="serve a data dir kept by an earlier --keep run (implies --keep)",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: --synthetic 2000 --duration 5 -c 10")
    args = p.parse_args(argv)
    if args.quick:
        args.synthetic, args.duration, args.concurrency = 2000, 5.0, 10
        args.warmup, args.solo, args.profile_requests = 1.0, 1.0, 30
    if args.reuse:
        if not (args.reuse / "dataset.json").is_file():
            p.error(f"{args.reuse} is not a data dir kept by bench/load.py --keep")
        args.keep = True
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.servers) - set(SERVER_KINDS)
    if unknown:
        p.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if args.database_url and not args.database_url.startswith("postgresql"):
        p.error("--database-url must name a PostgreSQL server (SQLite is the default)")
    if args.concurrency < 1 or args.duration <= 0 or args.max_requests < 1:
        p.error("concurrency, duration and max-requests must be positive")
    return args


def target_block(servers: dict[str, Any], concurrency: int, think: float) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    for name, server in servers.items():
        eps = server["endpoints"]
        per = {}
        for ep in SEARCH_ENDPOINTS:
            e = eps[ep]
            per[ep] = {
                "p95_ms": e["p95_ms"],
                "errors": e["errors"],
                "zero_errors": e["errors"] == 0,
                "p95_under_100ms": e["p95_ms"] < TARGET_P95_MS,
                "pass": e["errors"] == 0 and e["p95_ms"] < TARGET_P95_MS,
            }
        checks[name] = {
            **per,
            "zero_errors_all_endpoints": all(e["errors"] == 0 for e in eps.values()),
            "pass": all(v["pass"] for v in per.values()) and all(e["errors"] == 0 for e in eps.values()),
        }
    primary = next((s for s in ("gunicorn", "gunicorn-gthread") if s in checks), None)
    return {
        "definition": f"search page and search API at {TARGET_CONCURRENCY} closed-loop clients without "
        f"think time: zero errors and p95 < {TARGET_P95_MS:g} ms "
        f"(judged on {primary or 'no gunicorn server'}; every server listed)",
        "measured_at_target_load": concurrency == TARGET_CONCURRENCY and not think,
        "servers": checks,
        "pass": bool(primary) and checks[primary]["pass"] and concurrency == TARGET_CONCURRENCY and not think,
        "pass_any_gunicorn": any(checks[s]["pass"] for s in checks if s.startswith("gunicorn")),
    }


def ratios(servers: dict[str, Any]) -> dict[str, Any]:
    if "dev" not in servers:
        return {}
    dev = servers["dev"]["endpoints"]
    out = {}
    for name, server in servers.items():
        if name == "dev":
            continue
        out[f"{name}/dev"] = {
            ep: {
                "requests_per_s": round(e["requests_per_s"] / dev[ep]["requests_per_s"], 2)
                if dev[ep]["requests_per_s"]
                else None,
                "p95": round(e["p95_ms"] / dev[ep]["p95_ms"], 2) if dev[ep]["p95_ms"] else None,
            }
            for ep, e in server["endpoints"].items()
        }
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (and SIGHUP) take the same clean-up path as Ctrl+C
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    tmp = args.reuse or Path(tempfile.mkdtemp(prefix="market-load-"))
    data: Dataset | None = None
    started = time.time()
    load_start = os.getloadavg()
    try:
        if args.reuse:
            data = reuse(tmp, args)
        else:
            url, drop = f"sqlite:///{tmp / 'market.sqlite3'}", None
            if args.database_url:
                url, drop = create_pg_database(args.database_url)
            data = Dataset(tmp, base_env(tmp, url), "postgresql" if args.database_url else "sqlite")
            data.drop_database = drop
            prepare(args, tmp, data)
        if args.search_result_cache is not None:
            data.env["SEARCH_RESULT_CACHE"] = str(args.search_result_cache)
        servers, queries = measure_all(data, args)
        target = target_block(servers, args.concurrency, args.think)
        report: dict[str, Any] = {
            "benchmark": "load",
            "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "dataset": {
                "listings_total": len(data.result_ids) + len(data.need_ids),
                "results": len(data.result_ids),
                "needs": len(data.need_ids),
                "demo": data.demo,
                "synthetic": args.synthetic,
                "database": data.database,
                "search_engine": "fts5",
                "search_result_cache": data.env.get("SEARCH_RESULT_CACHE", "site default"),
                "matcher": "refitted on all listings" if args.match_rebuild else "demo listings only",
                "queries": queries,
            },
            "prepare_seconds": data.prepare_seconds,
            "concurrency": args.concurrency,
            "duration_s_per_endpoint": args.duration,
            "warmup_s_per_endpoint": args.warmup,
            "one_client_s_per_endpoint": args.solo,
            "think_s": args.think,
            "max_requests_per_endpoint": args.max_requests,
            "machine": {
                "nproc": os.cpu_count(),
                "loadavg_before": [round(x, 2) for x in load_start],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
                "platform": platform.platform(),
                "note": "client and servers share these CPUs",
            },
            "git": git_state(),
            "servers": servers,
            "ratios": ratios(servers),
            "target": target,
        }
        if args.profile == "always" or (args.profile == "auto" and not target["pass"]):
            log("profiling the endpoints in-process (single request loop)")
            report["profile"] = profile_endpoints(data, args, list(targets(data, args.seed)))
        report["total_seconds"] = round(time.time() - started, 1)
        if args.keep:
            report["data_dir"] = str(tmp)
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    except KeyboardInterrupt:
        log("interrupted; stopping")
        return 130
    finally:
        for proc in list(_children):
            stop(proc)
        if data is not None and data.drop_database and not args.keep:
            with contextlib.suppress(Exception):
                data.drop_database()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
