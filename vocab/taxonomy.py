"""Technical-field taxonomy (技术领域) and the enumerations of DOMAIN.md, defined once.

Forms, import, API, search facets and the matcher all read from here.
"""

from __future__ import annotations

from enum import StrEnum

# 天津市科技创新"十四五"规划, chapter 2: first level -> second levels.
FIELDS: dict[str, tuple[str, ...]] = {
    "新一代信息技术": (
        "人工智能",
        "集成电路",
        "基础软件",
        "先进计算",
        "先进通信",
        "网络安全",
        "区块链",
        "量子信息",
    ),
    "生物技术与现代医药": (
        "创新药物",
        "中药",
        "医疗器械与智能医疗",
        "合成生物技术",
        "细胞及基因治疗",
        "生物制造",
        "生物安全",
    ),
    "装备制造": (
        "工业机器人",
        "智能终端",
        "先进轨道交通",
        "海洋工程装备",
        "高端数控机床",
        "高端仪器仪表",
        "工业软件",
    ),
    "新能源": ("氢能", "光伏", "风电", "储能", "综合能源利用"),
    "新能源汽车及智能网联车": ("新能源汽车", "智能网联车"),
    "新材料": ("战略性电子材料", "结构与复合材料", "功能与智能材料", "石油与化工材料", "材料基因工程"),
    "航空航天": ("无人机与直升机", "民用航空", "航天技术及应用"),
    "现代服务业": ("设计服务", "检验检测", "科技与文化融合"),
    "现代农业": (
        "现代种业",
        "农产品精深加工及保鲜",
        "食品安全",
        "农业生物制造",
        "智慧农业",
        "绿色生态农业",
    ),
    "资源与环境": (
        "大气污染防治",
        "水污染防治",
        "土壤污染防治及修复",
        "固体废物治理与资源化",
        "海洋环境保护",
        "生态保护和修复",
        "碳达峰碳中和",
    ),
    "城市建设与公共安全": ("绿色节能建筑", "智慧城市", "社会治理", "应急预警", "生产安全"),
    "人口健康": ("重大疾病及传染病防治", "健康与智慧医疗", "中医药传承创新"),
}

#: second-level field -> its first level
FIELD_PARENT: dict[str, str] = {sub: top for top, subs in FIELDS.items() for sub in subs}
SUBFIELDS: tuple[str, ...] = tuple(FIELD_PARENT)


def field_parent(field: str | None) -> str | None:
    """The first-level field of a second-level field (or of itself when already first level)."""
    if not field:
        return None
    if field in FIELDS:
        return field
    return FIELD_PARENT.get(field)


def is_field(value: str | None) -> bool:
    """True for a known second-level field."""
    return bool(value) and value in FIELD_PARENT


class IPType(StrEnum):
    """知识产权类型"""

    INVENTION = "发明专利"
    UTILITY = "实用新型专利"
    DESIGN = "外观设计专利"
    SOFTWARE = "计算机软件著作权"
    IC_LAYOUT = "集成电路布图设计"
    PLANT_VARIETY = "植物新品种"
    BIOMED_VARIETY = "生物医药新品种"
    KNOW_HOW = "技术秘密"
    OTHER = "其他"


class Maturity(StrEnum):
    """成熟度, in order of readiness."""

    LAB = "实验室阶段"
    PILOT_SMALL = "小试"
    PILOT = "中试"
    INDUSTRIAL = "产业化"


MATURITY_ORDER: dict[str, int] = {m.value: i for i, m in enumerate(Maturity)}


class TransferMode(StrEnum):
    """转化方式 / 合作方式"""

    TRANSFER = "技术转让"
    LICENSE = "技术许可"
    EQUITY = "作价投资"
    JOINT_DEV = "合作开发"
    COMMISSIONED_DEV = "委托开发"
    SERVICE = "技术服务"
    CONSULTING = "技术咨询"


#: a need's cooperation modes also admit 揭榜挂帅
CHALLENGE_MODE = "揭榜挂帅"
COOPERATION_MODES: tuple[str, ...] = (*(m.value for m in TransferMode), CHALLENGE_MODE)


class OrgKind(StrEnum):
    """Organisation kind."""

    UNIVERSITY = "高校"
    INSTITUTE = "科研院所"
    NEW_RD = "新型研发机构"
    ENTERPRISE = "企业"
    AGENCY = "技术转移机构"
    INVESTOR = "投资机构"


SELLER_KINDS: tuple[str, ...] = (OrgKind.UNIVERSITY, OrgKind.INSTITUTE, OrgKind.NEW_RD)


class AgencyType(StrEnum):
    """技术转移机构 subtype."""

    REGIONAL = "区域"
    ACADEMIC = "高校院所"
    INDUSTRY = "行业"
    SERVICE = "服务"


class GrowthTier(StrEnum):
    """Enterprise growth tier."""

    EAGLET = "雏鹰"
    GAZELLE = "瞪羚"
    LEADER = "领军"


class Region(StrEnum):
    """Region; 京津冀 is the first three."""

    TIANJIN = "天津"
    BEIJING = "北京"
    HEBEI = "河北"
    OTHER = "其他"


JJJ: frozenset[str] = frozenset({Region.TIANJIN, Region.BEIJING, Region.HEBEI})

TIANJIN_DISTRICTS: tuple[str, ...] = (
    "和平区",
    "河东区",
    "河西区",
    "南开区",
    "河北区",
    "红桥区",
    "东丽区",
    "西青区",
    "津南区",
    "北辰区",
    "武清区",
    "宝坻区",
    "滨海新区",
    "宁河区",
    "静海区",
    "蓟州区",
)


class ListingStatus(StrEnum):
    """Listing lifecycle."""

    DRAFT = "草稿"
    PENDING = "待审核"
    #: returned by the reviewer with a reason, for the owner to fix and submit again
    RETURNED = "已退回"
    PUBLISHED = "已发布"
    WITHDRAWN = "已下架"
    CLOSED = "已成交"


class RightsNote(StrEnum):
    """职务成果赋权"""

    OWNERSHIP = "所有权"
    LONG_TERM_USE = "长期使用权"


class ContractType(StrEnum):
    """技术合同 (四技)."""

    DEV_COMMISSIONED = "技术开发（委托）"
    DEV_JOINT = "技术开发（合作）"
    TRANSFER = "技术转让"
    LICENSE = "技术许可"
    CONSULTING = "技术咨询"
    SERVICE = "技术服务"


class MatchStatus(StrEnum):
    """Match lifecycle."""

    SUGGESTED = "推荐"
    CLAIMED = "已认领"
    INTRODUCED = "已对接"
    NEGOTIATING = "洽谈中"
    SIGNED = "已签约"
    DECLINED = "未成交"


class DeclineReason(StrEnum):
    """Match decline reasons."""

    TECH_MISMATCH = "技术不匹配"
    IMMATURE = "成熟度不足"
    PRICE = "价格与预算不符"
    MODE = "合作方式不符"
    SOLVED = "需求已解决"
    UNREACHABLE = "联系不上"
    OTHER = "其他"


class Role(StrEnum):
    """User roles."""

    UNIVERSITY = "university"
    ENTERPRISE = "enterprise"
    AGENT = "agent"
    ADMIN = "admin"
    INVESTOR = "investor"


ROLE_LABELS: dict[str, str] = {
    Role.UNIVERSITY: "成果方（高校院所）",
    Role.ENTERPRISE: "需求方（企业）",
    Role.AGENT: "技术经纪人",
    Role.ADMIN: "平台运营",
    Role.INVESTOR: "投资机构",
}

#: organisation kinds a member of each role may belong to
ROLE_ORG_KINDS: dict[str, tuple[str, ...]] = {
    Role.UNIVERSITY: (OrgKind.UNIVERSITY, OrgKind.INSTITUTE, OrgKind.NEW_RD),
    Role.ENTERPRISE: (OrgKind.ENTERPRISE,),
    Role.AGENT: (OrgKind.AGENCY,),
    Role.INVESTOR: (OrgKind.INVESTOR,),
}

PLAN_TARGET_2025_YI = 1600  # 全市技术市场交易额目标, 亿元
PLAN_BASELINE_2020_YI = 1113


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The enumeration's values in declared order."""
    return tuple(m.value for m in enum)


class Instrument(StrEnum):
    """融资方式 of a financing request (融资需求)."""

    EQUITY = "股权"
    DEBT = "债权"
    CONVERTIBLE = "可转债"
    OTHER = "其他"


class FinancingStage(StrEnum):
    """融资阶段, in order."""

    SEED = "种子"
    ANGEL = "天使"
    PRE_A = "Pre-A 轮"
    A = "A 轮"
    B = "B 轮"
    C = "C 轮及以后"


class PipelineState(StrEnum):
    """投资机构 pipeline on one financing request; 投资意向 is not binding."""

    WATCHING = "关注"
    DUE_DILIGENCE = "尽调"
    INTENT = "投资意向"
    INVESTED = "已投资"
    DROPPED = "放弃"


class MeetingOutcome(StrEnum):
    """Outcome of a 1:1 meeting at an event (an 意向 is not a deal)."""

    INTEREST = "有意向"
    NONE = "无"
    FOLLOW_UP = "后续对接"
