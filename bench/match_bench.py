"""Benchmark the matcher's chunked top-k against a naive full sparse product (not a timed test).

    python bench/match_bench.py --results 100000 --needs 20000 [--n-jobs 2]

Synthetic Chinese listings are built (seeded RNG) from the taxonomy, the analyzer's domain terms and a
list of technical morphemes, clustered by technical field the way real listings are. One fit serves
every method. The compared step is the text candidate step — top-10 results per need by cosine over
the matcher's candidate index — done three ways on the same matrices: the naive full product followed
by a sort of every row, the matcher's chunked top-k in one process, and the chunked top-k over
`--n-jobs` worker processes. Each runs in its own forked child, so no run inherits another's heap;
peak memory is the growth of the resident memory of that child and every process it starts (sampled
every 5 ms, and the child's own kernel high-water mark), over its resident memory at the start.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matching.matcher import Matcher
from matching.records import NeedRecord, ResultRecord
from matching.topk import naive_topk, topk_rows, topk_sets_agree
from vocab.analyzer import DOMAIN_TERMS
from vocab.taxonomy import FIELD_PARENT, MATURITY_ORDER, TransferMode


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


# -- measuring -----------------------------------------------------------------------------------------


def _status_kb(pid: int | str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


class TreeMemory:
    """Peak resident memory of this process plus its descendants, sampled in a thread.

    The process tree is re-read only every 0.25 s (walking /proc is not free); in between only the
    known processes' VmRSS lines are read, so the sampler barely competes with the work it measures.
    """

    def __init__(self, interval: float = 0.01) -> None:
        import threading

        self.interval = interval
        self.peak_kb = 0
        self.start_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        pids: list[int] = []
        refreshed = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - refreshed > 0.25:
                pids, refreshed = _descendants(me), now
            rss = _status_kb(me, "VmRSS") + sum(_status_kb(pid, "VmRSS") for pid in pids)
            self.peak_kb = max(self.peak_kb, rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        me = os.getpid()
        self.start_kb = _status_kb(me, "VmRSS") + sum(_status_kb(pid, "VmRSS") for pid in _descendants(me))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _shutdown_workers() -> None:
    """Stop joblib's reusable worker pool: a forked child must not inherit a live executor."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def _in_child(task: Callable[[], Any]) -> dict:
    """Run `task` in a forked child; its time, peak memory growth and return value."""
    _shutdown_workers()
    ctx = get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)

    def target() -> None:
        gc.collect()
        try:  # reset this process's VmHWM (Linux >= 4.0) so it measures this run only
            with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                handle.write("5")
        except OSError:
            pass
        rss_start = _status_kb("self", "VmRSS")
        with TreeMemory() as tree:
            start = time.perf_counter()
            value = task()
            seconds = time.perf_counter() - start
        own_peak = _status_kb("self", "VmHWM") - rss_start
        peak_kb = max(tree.peak_kb - tree.start_kb, own_peak)
        writer.send({"seconds": seconds, "peak_mb": peak_kb / 1024, "value": value})
        writer.close()
        _shutdown_workers()  # the workers this child started (the parent's were stopped before the fork)
        # Leave without atexit handlers: an inherited joblib / loky state can hang a forked child's exit.
        os._exit(0)

    process = ctx.Process(target=target)
    process.start()
    writer.close()
    try:
        out = reader.recv()
    except EOFError:
        out = {"error": f"child exited with code {process.exitcode} (out of memory?)"}
    process.join()
    return out


def _mem_available_mb() -> float:
    return _status_meminfo("MemAvailable") / 1024


def _status_meminfo(key: str) -> int:
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=20_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=2, help="worker processes for the parallel run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", help="reuse a matcher saved here (fitted and saved on the first run)")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {
        "results": args.results,
        "needs": args.needs,
        "k": args.k,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if args.model and Path(args.model).exists():
        _log(f"loading {args.model} (fit time not measured)")
        matcher = Matcher.load(args.model)
        report["fit_seconds"] = None
    else:
        _log(f"generating {args.results} results and {args.needs} needs")
        start = time.perf_counter()
        results, needs = synthetic(args.results, args.needs, seed=args.seed)
        report["generate_seconds"] = round(time.perf_counter() - start, 2)
        _log("fitting")
        start = time.perf_counter()
        matcher = Matcher(n_jobs=args.n_jobs).fit(results, needs)
        report["fit_seconds"] = round(time.perf_counter() - start, 2)
        del results, needs
        if args.model:
            matcher.save(args.model)
    gc.collect()

    queries = matcher._needs.index_rows
    items = matcher._results.index_rows
    items_t = matcher._results.transposed
    report["index"] = {
        "vocabulary": matcher.text.width,
        "features_per_listing": round(items.nnz / max(1, items.shape[0]), 1),
        "full_features_per_listing": round(matcher._results.rows.nnz / max(1, items.shape[0]), 1),
    }
    # One symbolic pass tells how big the naive product will be, so it is not attempted blind.
    from scipy.sparse import _sparsetools

    product_nnz = int(
        _sparsetools.csr_matmat_maxnnz(
            queries.shape[0],
            items_t.shape[1],
            queries.indptr,
            queries.indices,
            items_t.indptr,
            items_t.indices,
        )
    )
    report["similarity_entries"] = {
        "nonzero": product_nnz,
        "density": round(product_nnz / (queries.shape[0] * items.shape[0]), 4),
        "naive_product_mb": round(product_nnz * 8 / 2**20, 1),
    }
    k = args.k
    runs: dict[str, dict] = {}
    _log(f"top-{k}: chunked")
    runs["chunked"] = _in_child(lambda: topk_rows(queries, items, k, items_t=items_t))
    if args.n_jobs != 1:
        _log(f"top-{k}: chunked over {args.n_jobs} processes")
        runs["chunked_parallel"] = _in_child(
            lambda: topk_rows(queries, items, k, items_t=items_t, n_jobs=args.n_jobs)
        )
    if product_nnz * 8 * 3 < _mem_available_mb() * 2**20:
        _log(f"top-{k}: naive")
        runs["naive"] = _in_child(lambda: naive_topk(queries, items, k))
    else:
        runs["naive"] = {"error": "the full product would not fit in the available memory; not run"}

    out: dict[str, Any] = {}
    for name, run in runs.items():
        out[name] = {key: round(v, 3) for key, v in run.items() if key in ("seconds", "peak_mb")}
        if "error" in run:
            out[name]["error"] = run["error"]
    report["top_k"] = out
    naive = runs["naive"].get("value")
    if naive is not None:
        report["ratios"] = {}
        for name in ("chunked", "chunked_parallel"):
            run = runs.get(name)
            if not run or "value" not in run:
                continue
            agree, bad_rows = topk_sets_agree(run["value"], naive)
            report["ratios"][name] = {
                "speedup_vs_naive": round(runs["naive"]["seconds"] / run["seconds"], 2),
                "peak_memory_fraction_of_naive": round(
                    run["peak_mb"] / max(runs["naive"]["peak_mb"], 1e-9), 4
                ),
                "top_k_sets_identical": agree,
                "rows_differing": bad_rows,
            }

    # The whole matcher step for context: candidates (k × 5), exact cosine, hybrid re-scoring.
    _log("hybrid rank")
    start = time.perf_counter()
    matcher.rank(k, explain=False)
    report["matcher_rank_hybrid_seconds"] = round(time.perf_counter() - start, 2)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
