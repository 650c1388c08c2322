"""What the benchmarks share: the synthetic corpus, process and database helpers, percentiles.

The corpus (`synthetic`) is deterministic (seeded): Chinese results and needs made from the taxonomy,
the analyser's domain terms and technical morphemes, clustered by field the way real listings are.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from datetime import UTC, datetime  # noqa: E402

from matching.records import NeedRecord, ResultRecord  # noqa: E402
from tests.live_site import postgres_database  # noqa: E402
from vocab.analyzer import DOMAIN_TERMS  # noqa: E402
from vocab.taxonomy import FIELD_PARENT, MATURITY_ORDER, TransferMode  # noqa: E402


def log(message: str, *, prefix: str = "bench") -> None:
    print(f"[{prefix}] {message}", file=sys.stderr, flush=True)


def percentile(samples: Sequence[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of `samples`, or None when there are none."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary_ms(samples: Sequence[float]) -> dict[str, Any]:
    """p50 / p95 / p99 / max of durations in seconds, reported in milliseconds."""
    return {
        "n": len(samples),
        **{
            f"p{p}_ms": None if not samples else round(percentile(samples, p) * 1000, 1) for p in (50, 95, 99)
        },
        "max_ms": round(max(samples) * 1000, 1) if samples else None,
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    """A child in its own process group, output to `logfile`."""
    with logfile.open("ab") as out:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen, grace: float = 15.0) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def processes() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds used so far), from Linux's /proc ({} elsewhere)."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = entry.read_text(encoding="ascii", errors="replace")
            name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
            out[int(entry.parent.name)] = (int(rest[1]), name, (int(rest[11]) + int(rest[12])) / tick)
        except (OSError, ValueError, IndexError):  # the process ended meanwhile
            continue
    return out


def descendants(root: int, table: dict[int, tuple[int, str, float]] | None = None) -> list[int]:
    """The processes below `root` (children, theirs, …), from `table` or a fresh read of /proc."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in (processes() if table is None else table).items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def pg_database(server_url: str) -> contextlib.AbstractContextManager[str]:
    """A throwaway database on the server of `server_url`, dropped afterwards."""
    return postgres_database(server_url, prefix="bench")


def create_pg_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """`pg_database` for scripts that cannot use a with-block: (url, drop)."""
    manager = pg_database(server_url)
    url = manager.__enter__()
    return url, lambda: manager.__exit__(None, None, None)


def site_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """Environment for the site's processes on a data folder of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "FLASK_"))}
    env.pop("TEST_DATABASE_URL", None)
    env.update(
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(tmp),
        SEARCH_PATH=str(tmp / "search.sqlite3"),
        MATCH_STORE_PATH=str(tmp / "matching.sqlite3"),
        UPLOAD_DIR=str(tmp / "uploads"),
        MARKET_ENV="development",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def wait_until(check: Callable[[], Any], timeout: float, every: float = 0.001) -> float | None:
    """Seconds until `check()` is true (polling every `every` s), None on timeout."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():
            return time.perf_counter() - start
        time.sleep(every)
    return None


# -- the synthetic corpus --------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MORPHEMES = _words(
    "材料 电池 传感 检测 控制 算法 模型 芯片 涂层 催化 纤维 薄膜 合金 陶瓷 树脂 "
    "电极 电解 光学 激光 雷达 导航 通信 网络 协议 加密 存储 计算 调度 优化 识别 "
    "预测 诊断 成像 显微 光谱 色谱 质谱 分离 提纯 萃取 发酵 酶解 育种 栽培 灌溉 "
    "施肥 养殖 饲料 疫苗 抗体 靶点 制剂 缓释 纳米 微球 支架 植入 导管 监护 康复 "
    "机器人 减速 伺服 电机 驱动 轴承 齿轮 焊接 铸造 锻造 切削 磨削 装配 检具 "
    "夹具 模具 注塑 挤出 复合 增强 阻燃 防腐 耐磨 隔热 保温 储热 换热 冷却 压缩 "
    "膨胀 燃烧 气化 热解 吸附 脱附 过滤 沉淀 絮凝 氧化 还原 降解 修复 固化 稳定 "
    "钝化 活化 掺杂 烧结 沉积 刻蚀 封装 键合 互连 晶圆 外延 衬底 功率 射频 天线 "
    "滤波 放大 调制 编码 解码 压缩感知 视觉 语音 语义 知识 图谱 推理 规划 定位 "
    "建图 避障 巡检 监测 预警 评估 溯源 追踪 计量 标定 校准 仿真 建模 设计 验证 "
    "测试 认证 运维 管理 平台 终端 网关 边缘 云端 数据 安全 隐私 信任 共识 合约 "
    "账本 量子 光子 超导 磁性 压电 热电 铁电 柔性 可穿戴 氢气 储氢 制氢 加氢 "
    "光伏 组件 逆变 风机 叶片 塔筒 储能 电网 微网 充电 换电 电驱 热管理 底盘 "
    "车身 轨道 桥梁 隧道 路面 建筑 幕墙 节能 照明 给水 排水 污泥 烟气 粉尘 噪声 "
    "土壤 地下水 海洋 滩涂 湿地 秸秆 畜禽 粪污 果蔬 保鲜 冷链 烘干 灭菌 包装 "
    "检疫 农药 兽药 种苗 品种 基因 细胞 蛋白 代谢 菌株 中药 提取物 饮片 配方 "
    "炮制 指纹 质控 临床 影像 病理 手术 微创 内镜 超声 心电 血糖 呼吸 透析"
)

GENERIC = _words(
    "技术 系统 方法 装置 工艺 设备 平台 方案 产品 效率 成本 性能 质量 寿命 精度 "
    "稳定性 可靠性 一致性 自动化 智能化 规模化 国产化 集成 改进 新型 高效 低成本 "
    "绿色 安全 在线 实时 远程 便携 模块化"
)

TITLE_TEMPLATES = (
    "基于{a}的{b}{g}",
    "{a}{b}关键技术",
    "高性能{a}及其{b}{g}",
    "{a}与{b}一体化{g}",
    "面向{f}的{a}{g}",
    "一种{a}{b}{g}",
)
NEED_TITLE_TEMPLATES = (
    "{a}{b}问题求解",
    "寻求{a}{g}合作",
    "{f}领域{a}{b}需求",
    "{a}{g}升级改造",
    "急需{a}与{b}解决方案",
)
BODY_TEMPLATES = (
    "本成果围绕{a}开展研究，突破{b}等关键环节，{g}显著提升。",
    "采用{a}和{b}相结合的{g}，{m}提高{n}%。",
    "已在{f}领域完成{a}验证，{b}指标达到国内领先水平。",
    "针对{a}存在的{b}难题，提出新的{g}，成本降低{n}%。",
    "形成{a}、{b}两项核心{g}，支持{c}应用。",
)
NEED_BODY_TEMPLATES = (
    "我公司在{a}方面遇到{b}问题，现有{g}无法满足要求。",
    "希望引进{a}{g}，实现{b}的{m}提升{n}%以上。",
    "目前{a}依赖人工，{b}效率低，需要{g}支撑。",
    "产线需要{a}与{b}配套，要求{m}达到{n}%。",
    "拟与高校院所合作开发{a}，重点解决{c}的{g}问题。",
)


class Vocabulary:
    """Field-clustered term pools built from the taxonomy, domain terms and morphemes.

    Real listings draw on thousands of technical words; a pool of a few hundred would make every pair of
    listings share something. So each second-level field gets its own pool: its names, some domain
    terms, morphemes and compounds of them, plus coined two- to four-character terms made from a
    field-specific set of the characters those words use (the long tail of specialist vocabulary).
    """

    def __init__(self, rng: random.Random, pool_size: int = 400) -> None:
        self.fields = list(FIELD_PARENT)
        self.pools: list[list[str]] = []
        domain = list(DOMAIN_TERMS)
        chars = sorted({c for w in (*FIELD_PARENT, *FIELD_PARENT.values(), *domain, *MORPHEMES) for c in w})
        chars = [c for c in chars if "\u4e00" <= c <= "\u9fff"]
        for sub in self.fields:
            morph = rng.sample(MORPHEMES, 24)
            compounds = sorted({"".join(rng.sample(morph, rng.randint(2, 3))) for _ in range(60)})
            alphabet = rng.sample(chars, 80)
            coined = sorted({"".join(rng.choices(alphabet, k=rng.randint(2, 4))) for _ in range(pool_size)})
            pool = [sub, FIELD_PARENT[sub], *rng.sample(domain, 8), *morph, *compounds, *coined][:pool_size]
            self.pools.append(pool)
        # Zipf-like popularity inside each pool: a few terms common, a long tail rare.
        self.cumulative = [
            list(itertools.accumulate(1.0 / (i + 1) ** 0.9 for i in range(len(p)))) for p in self.pools
        ]

    def terms(self, rng: random.Random, field: int, n: int) -> list[str]:
        """`n` terms for a listing of `field`: mostly its own field's, sometimes a neighbour's."""
        pool, cum = self.pools[field], self.cumulative[field]
        out = []
        for _ in range(n):
            if rng.random() < 0.85:
                out.append(pool[min(bisect.bisect(cum, rng.random() * cum[-1]), len(pool) - 1)])
            else:
                other = self.pools[rng.randrange(len(self.pools))]
                out.append(other[rng.randrange(len(other))])
        return out


def _fill(template: str, rng: random.Random, vocab: Vocabulary, field: int) -> str:
    a, b, c = vocab.terms(rng, field, 3)
    return template.format(
        a=a,
        b=b,
        c=c,
        g=rng.choice(GENERIC),
        m=rng.choice(GENERIC),
        f=vocab.fields[field],
        n=rng.randint(5, 89),
    )


CONNECTORS = _words(
    "的 与 和 及 、 结合 用于 基于 实现 提升 降低 替代 改善 优化 配合 兼顾 "
    "面向 针对 通过 采用 解决 满足 支撑 形成 构建 集成 适配 保障"
)


def _sentence(rng: random.Random, vocab: Vocabulary, field: int) -> str:
    """A run of field terms joined by connectors, sometimes with a number: how specs read."""
    terms = vocab.terms(rng, field, rng.randint(3, 5))
    parts = [terms[0]]
    for term in terms[1:]:
        parts.append(rng.choice(CONNECTORS))
        parts.append(term)
    if rng.random() < 0.5:
        parts.append(f"{rng.choice(GENERIC)}提高{rng.randint(5, 89)}%")
    return "".join(parts) + "。"


def _body(rng: random.Random, vocab: Vocabulary, field: int, templates: tuple[str, ...]) -> str:
    # Shorter than a real listing (one template sentence and one run of terms, about 50 characters):
    # segmenting 120,000 full-length listings alone would take most of the time budget.
    first, second = _fill(rng.choice(templates), rng, vocab, field), _sentence(rng, vocab, field)
    return first + second if rng.random() < 0.5 else second + first


def synthetic(n_results: int, n_needs: int, seed: int = 7) -> tuple[list[ResultRecord], list[NeedRecord]]:
    """Deterministic synthetic results and needs."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    maturities = list(MATURITY_ORDER)
    modes = [m.value for m in TransferMode]
    n_fields = len(vocab.fields)
    results = []
    for i in range(n_results):
        f = rng.randrange(n_fields)
        results.append(
            ResultRecord(
                id=f"R{i}",
                title=_fill(rng.choice(TITLE_TEMPLATES), rng, vocab, f),
                summary=_body(rng, vocab, f, BODY_TEMPLATES),
                keywords=tuple(dict.fromkeys(vocab.terms(rng, f, 4))),
                field=vocab.fields[f],
                maturity=rng.choice(maturities),
                transfer_modes=tuple(rng.sample(modes, 2)),
                price=None if rng.random() < 0.4 else float(rng.randint(10, 799)),
            )
        )
    needs = []
    for i in range(n_needs):
        f = rng.randrange(n_fields)
        low = float(rng.randint(10, 299))
        needs.append(
            NeedRecord(
                id=f"N{i}",
                title=_fill(rng.choice(NEED_TITLE_TEMPLATES), rng, vocab, f),
                description=_body(rng, vocab, f, NEED_BODY_TEMPLATES),
                keywords=tuple(dict.fromkeys(vocab.terms(rng, f, 3))),
                field=vocab.fields[f],
                cooperation_modes=tuple(rng.sample(modes, 2)),
                budget_min=low,
                budget_max=low * 2,
            )
        )
    return results, needs


def listing_rows(
    results: Sequence[ResultRecord], needs: Sequence[NeedRecord], *, seller: int, enterprise: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The records as published rows of research_results / tech_needs (Core inserts, every column set).

    The database id is the record's position + 1 (results and needs each), so a record with id "R41"
    is the result row 42; `record_ids` gives the ids the site uses for them."""

    now = datetime.now(UTC)
    common = {
        "external_id": None,
        "created_by_id": None,
        "field_inferred": False,
        "contact_name": "联系人",
        "contact_phone": "022-27400000",
        "contact_email": "contact@example.cn",
        "status": "已发布",
        "review_note": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "published_at": now,
    }
    out_r = [
        {
            **common,
            "id": i + 1,
            "organization_id": seller,
            "title": r.title,
            "field": r.field,
            "keywords": list(r.keywords),
            "summary": r.summary,
            "problem": r.problem or None,
            "advantage": r.advantage or None,
            "maturity": r.maturity,
            "trl": None,
            "ip_type": None,
            "patent_numbers": [],
            "transfer_modes": list(r.transfer_modes),
            "price_negotiable": r.price is None,
            "price_wan": r.price,
            "appraised_wan": None,
            "inventors": [],
            "rights_note": None,
        }
        for i, r in enumerate(results)
    ]
    out_n = [
        {
            **common,
            "id": i + 1,
            "organization_id": enterprise,
            "title": n.title,
            "field": n.field,
            "keywords": list(n.keywords),
            "description": n.description,
            "requirements": n.requirements or None,
            "target_metrics": n.target_metrics or None,
            "cooperation_modes": list(n.cooperation_modes),
            "budget_min_wan": n.budget_min,
            "budget_max_wan": n.budget_max,
            "deadline": None,
            "is_challenge": False,
            "reward_wan": None,
            "eligibility": None,
            "no_secret_confirmed": True,
        }
        for i, n in enumerate(needs)
    ]
    return out_r, out_n
