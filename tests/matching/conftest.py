"""Small hand-made listings for the matcher tests (pure library: no app, no database).

Needs speak the enterprise's language, results the lab's; each need has one clearly best result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from matching import Matcher, NeedRecord, ResultRecord, load_needs, load_org_regions, load_pairs, load_results
from matching.records import read_lines

RESULTS: tuple[ResultRecord, ...] = (
    ResultRecord(
        id="R-battery",
        title="退役动力锂电池梯次利用与健康状态快速评估技术",
        summary="基于充放电曲线和内阻的健康状态（SOH）快速评估，10分钟完成单包检测，筛选可梯次利用的电池模组用于储能。",
        keywords=("锂电池", "梯次利用", "健康状态评估", "储能"),
        field="储能",
        maturity="中试",
        transfer_modes=("技术许可", "合作开发"),
        price=80,
        region="天津",
    ),
    ResultRecord(
        id="R-vision",
        title="基于深度学习的注塑件表面缺陷视觉检测系统",
        summary="工业相机加深度学习模型识别划痕、缩痕、缺料等外观缺陷，节拍0.8秒/件，可与PLC联动自动剔除。",
        keywords=("机器视觉", "缺陷检测", "注塑件", "质检"),
        field="人工智能",
        maturity="产业化",
        transfer_modes=("技术许可", "技术服务"),
        price=60,
        region="北京",
    ),
    ResultRecord(
        id="R-water",
        title="高盐工业废水膜分离与蒸发结晶零排放工艺",
        summary="纳滤分盐加机械蒸汽再压缩蒸发，回收工业盐，吨水处理成本降低30%。",
        keywords=("高盐废水", "膜分离", "零排放"),
        field="水污染防治",
        maturity="产业化",
        transfer_modes=("技术转让",),
        price=None,
        region="河北",
    ),
    ResultRecord(
        id="R-drone",
        title="多旋翼无人机氢燃料电池长航时动力系统",
        summary="燃料电池与锂电池混合供电，续航由40分钟提升到2小时以上，可替换现有电池仓。",
        keywords=("无人机", "燃料电池", "长航时"),
        field="无人机与直升机",
        maturity="中试",
        transfer_modes=("作价投资", "合作开发"),
        price=500,
        region="天津",
    ),
    ResultRecord(
        id="R-tomato",
        title="设施番茄病害早期图像识别与预警系统",
        summary="温室内摄像头每天巡检，识别晚疫病、灰霉病早期症状并推送手机预警。",
        keywords=("番茄", "病害识别", "温室"),
        field="智慧农业",
        maturity="小试",
        transfer_modes=("技术服务",),
        price=20,
        region="其他",
    ),
    ResultRecord(
        id="R-nofield",
        title="柔性钙钛矿太阳能电池低温制备工艺",
        summary="低温溶液法制备柔性钙钛矿电池，效率21%。",
        keywords=(),
        field=None,
        maturity=None,
        transfer_modes=(),
        price=None,
        region=None,
    ),
)

NEEDS: tuple[NeedRecord, ...] = (
    NeedRecord(
        id="N-battery",
        title="回收来的旧电池包想挑出还能用的做储能",
        description="公司回收新能源车退役电池包，现在靠人工逐个充放电测试，一包要一天，想快速判断电池还剩多少寿命、能不能梯次利用。",
        keywords=("旧电池", "寿命检测", "储能"),
        field="储能",
        cooperation_modes=("技术许可",),
        budget_min=50,
        budget_max=120,
        region="天津",
    ),
    NeedRecord(
        id="N-vision",
        title="注塑外壳外观不良人工挑拣替代",
        description="注塑外壳的划痕、缩痕靠人眼在灯箱下挑，夜班漏检多，希望上自动检测设备，能和PLC联动剔除。",
        keywords=("外观检查", "注塑", "漏检"),
        field="人工智能",
        cooperation_modes=("委托开发", "技术许可"),
        budget_min=30,
        budget_max=100,
        region="天津",
    ),
    NeedRecord(
        id="N-water",
        title="化工园区高盐废水处理成本太高",
        description="园区企业排放高盐废水，蒸发处理能耗高，希望回收盐并实现零排放。",
        keywords=("高盐废水", "零排放"),
        field="水污染防治",
        cooperation_modes=("揭榜挂帅",),
        is_challenge=True,
        region="河北",
    ),
    NeedRecord(
        id="N-drone",
        title="送货无人机载重后续航太短",
        description="挂10公斤货物只能飞半小时，希望把动力换成燃料电池，续航达到2小时。",
        keywords=("无人机", "续航"),
        field="无人机与直升机",
        cooperation_modes=("合作开发",),
        budget_min=100,
        budget_max=300,
    ),
)

#: the clearly best result of each need
BEST = {"N-battery": "R-battery", "N-vision": "R-vision", "N-water": "R-water", "N-drone": "R-drone"}


@pytest.fixture(scope="session")
def fitted() -> Matcher:
    """A matcher fitted on the fixture (shared: tests must not mutate it)."""
    return Matcher().fit(RESULTS, NEEDS)


@pytest.fixture
def fresh() -> Matcher:
    """A matcher of its own, free to mutate."""
    return Matcher().fit(RESULTS, NEEDS)


SEED = Path(__file__).resolve().parents[2] / "seed" / "data"


@pytest.fixture(scope="session")
def demo() -> tuple[list[ResultRecord], list[NeedRecord], list]:
    """The demo results, needs and labelled pairs (seed/data), as the CLI reads them."""
    orgs = load_org_regions(read_lines(str(SEED / "organizations.jsonl")))
    results = load_results(read_lines(str(SEED / "results.jsonl")), orgs=orgs).records
    needs = load_needs(read_lines(str(SEED / "needs.jsonl")), orgs=orgs).records
    pairs = load_pairs(read_lines(str(SEED / "pairs.jsonl"))).records
    return results, needs, pairs


@pytest.fixture(scope="session")
def demo_matcher(demo) -> Matcher:
    """A matcher fitted on the demo listings (shared: tests must not mutate it)."""
    results, needs, _ = demo
    return Matcher().fit(results, needs)
