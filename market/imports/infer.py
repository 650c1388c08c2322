"""Guess a listing's technical field (技术领域) from its text when a spreadsheet row leaves it out.

Each second-level field has a hand-written list of domain terms. A row's title and keywords (weight 2)
and body (weight 1) are segmented with the shared analyzer; a term counts when it is one of the row's
tokens, or, for terms of three characters or more, when it appears in the text (jieba may cut a term we
know whole). Naming a second-level field outright scores more; naming a first-level field nudges its
children. Terms listed under several fields split their weight. Below a threshold, or on a tie, nothing
is guessed: a wrong field hurts matching more than an empty one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from vocab.analyzer import canonical, default_analyzer, normalize
from vocab.taxonomy import FIELD_PARENT, FIELDS, SUBFIELDS

#: second-level field -> its domain terms, space-separated (written by hand; see module docstring)
_TERMS: dict[str, str] = {
    # 新一代信息技术
    "人工智能": (
        "人工智能 机器学习 深度学习 神经网络 大模型 大语言模型 机器视觉 图像识别 目标检测 "
        "语音识别 自然语言处理 知识图谱 强化学习 智能算法 语义分析 人脸识别 推荐算法 "
        "生成式 预训练 图像分割 多模态 智能问答 卷积神经网络 Transformer"
    ),
    "集成电路": (
        "集成电路 芯片 半导体 晶圆 光刻 光刻胶 封装测试 封装 EDA SoC FPGA "
        "MEMS 碳化硅 氮化镓 功率器件 模拟芯片 射频芯片 存储器 晶体管 流片 ASIC "
        "IGBT MOSFET 刻蚀"
    ),
    "基础软件": (
        "操作系统 数据库 中间件 编译器 开源软件 国产化 信创 嵌入式系统 内核 文件系统 "
        "虚拟化 分布式数据库 办公软件 浏览器 开发框架"
    ),
    "先进计算": (
        "高性能计算 云计算 边缘计算 超算 并行计算 算力 异构计算 分布式计算 数据中心 "
        "GPU 类脑计算 存算一体 云原生 容器 大数据 数据挖掘"
    ),
    "先进通信": (
        "5G 6G 通信 无线通信 光通信 光纤 基站 天线 射频 毫米波 卫星通信 物联网 "
        "网络切片 光模块 调制 信道 频谱 可见光通信 太赫兹 组网"
    ),
    "网络安全": (
        "网络安全 信息安全 数据安全 密码 加密 入侵检测 漏洞 防火墙 隐私计算 身份认证 "
        "恶意代码 态势感知 零信任 安全防护 攻击检测 隐私保护 密钥"
    ),
    "区块链": ("区块链 智能合约 分布式账本 共识机制 数字货币 数字身份 溯源 联盟链 可信存证 哈希 去中心化"),
    "量子信息": (
        "量子 量子通信 量子计算 量子密钥 量子传感 量子点 纠缠 量子比特 量子测量 单光子 量子精密测量"
    ),
    # 生物技术与现代医药
    "创新药物": (
        "新药 创新药 小分子 抗体 单克隆抗体 靶点 抑制剂 化合物 制剂 药物递送 临床试验 "
        "药代动力学 原料药 仿制药 抗肿瘤 多肽 ADC 先导化合物 药物筛选 给药 缓释 "
        "靶向药物 mRNA"
    ),
    "中药": (
        "中药 中药饮片 中药提取 中成药 中药材 有效成分 提取物 方剂 药材 道地药材 炮制 "
        "经典名方 天然药物 皂苷 黄酮"
    ),
    "医疗器械与智能医疗": (
        "医疗器械 医学影像 磁共振成像 CT 超声 内窥镜 手术机器人 体外诊断 植入 支架 "
        "康复器械 监护 可穿戴 心电 呼吸机 导管 介入 医用 诊断设备 影像设备 检测试剂 "
        "POCT"
    ),
    "合成生物技术": (
        "合成生物 合成生物学 底盘细胞 代谢工程 基因线路 菌株改造 细胞工厂 人工合成 "
        "生物元件 定向进化 酶工程 蛋白设计"
    ),
    "细胞及基因治疗": (
        "细胞治疗 基因治疗 干细胞 CAR-T 免疫细胞 基因编辑 病毒载体 AAV 外泌体 "
        "再生医学 T细胞 NK细胞 siRNA 基因递送"
    ),
    "生物制造": (
        "生物制造 发酵 酶制剂 生物催化 生物基 生物基材料 微生物 菌种 生物反应器 氨基酸 "
        "维生素 生物转化 蛋白表达 纯化 工业酶"
    ),
    "生物安全": (
        "生物安全 病原体 病原微生物 生物防护 检疫 生物检测 防疫 病毒检测 消毒 "
        "生物安全实验室 溯源检测 外来物种"
    ),
    # 装备制造
    "工业机器人": (
        "工业机器人 机器人 机械臂 协作机器人 伺服电机 减速器 末端执行器 焊接机器人 "
        "搬运机器人 运动控制 轨迹规划 示教 AGV 移动机器人 抓取 视觉引导 自动化产线"
    ),
    "智能终端": (
        "智能终端 智能手机 可穿戴设备 智能家居 智能硬件 显示屏 触控 VR AR 人机交互 "
        "智能音箱 平板 终端设备 智能手表"
    ),
    "先进轨道交通": (
        "轨道交通 高铁 地铁 动车 列车 轨道 铁路 牵引 制动 转向架 城轨 信号系统 接触网 磁悬浮 车辆段"
    ),
    "海洋工程装备": (
        "海洋工程 船舶 海工装备 海洋平台 水下机器人 深海 海底 潜水器 钻井平台 "
        "海上风电安装 系泊 船体 海洋装备 水下"
    ),
    "高端数控机床": (
        "数控机床 机床 数控系统 主轴 五轴 加工中心 车床 磨床 精密加工 刀具 切削 增材制造 激光加工 超精密 铣削"
    ),
    "高端仪器仪表": (
        "仪器 仪表 传感器 智能传感器 检测仪 光谱 质谱 色谱 分析仪 测量 计量 在线监测 "
        "示波器 探测器 精密测量 流量计"
    ),
    "工业软件": (
        "工业软件 CAD CAE MES PLM ERP 仿真 数字孪生 工业互联网 PLC "
        "可编程控制器 组态 SCADA 设计软件 排产 工艺规划"
    ),
    # 新能源
    "氢能": ("氢能 制氢 电解水制氢 储氢 加氢站 燃料电池 质子交换膜 氢气 电解槽 绿氢 氢燃料 催化剂 输氢"),
    "光伏": (
        "光伏 太阳能电池 钙钛矿 硅片 光伏组件 逆变器 异质结 TOPCon 光电转换 太阳能 多晶硅 光伏电站 叠层电池"
    ),
    "风电": "风电 风力发电 风机 叶片 风电机组 海上风电 齿轮箱 变桨 偏航 风场 风能",
    "储能": (
        "储能 锂离子电池 储能电池 钠离子电池 固态电池 液流电池 电解液 正极材料 负极材料 "
        "隔膜 超级电容 电池管理系统 BMS 压缩空气储能 储热 电芯 电池"
    ),
    "综合能源利用": (
        "综合能源 智能电网 微电网 余热回收 节能 能效 能源管理 热泵 分布式能源 虚拟电厂 "
        "需求响应 冷热电联供 地热 生物质能 配电网"
    ),
    # 新能源汽车及智能网联车
    "新能源汽车": (
        "新能源汽车 动力电池 电驱动 电机控制器 整车 充电桩 充电 换电 混合动力 热管理 "
        "续航 电控 轻量化 驱动电机 燃料电池汽车 电池包"
    ),
    "智能网联车": (
        "智能网联 自动驾驶 车路协同 激光雷达 毫米波雷达 车联网 V2X 辅助驾驶 ADAS "
        "高精地图 智能座舱 线控 感知融合 车载 泊车"
    ),
    # 新材料
    "战略性电子材料": (
        "电子材料 半导体材料 电子化学品 靶材 光电材料 显示材料 电子浆料 封装材料 "
        "第三代半导体 衬底 外延 压电材料 磁性材料 介电材料"
    ),
    "结构与复合材料": (
        "复合材料 碳纤维 结构材料 铝合金 钛合金 高温合金 陶瓷 高强钢 镁合金 树脂基 "
        "玻璃纤维 金属材料 焊接 耐腐蚀 轻质高强"
    ),
    "功能与智能材料": (
        "功能材料 智能材料 石墨烯 纳米材料 形状记忆 超材料 涂层 薄膜 吸附材料 自修复 "
        "气凝胶 催化材料 发光材料 膜材料"
    ),
    "石油与化工材料": (
        "石油化工 化工 高分子材料 聚合物 树脂 橡胶 塑料 可降解塑料 聚乙烯 聚丙烯 "
        "精细化工 催化裂化 炼油 润滑油 助剂 乙烯"
    ),
    "材料基因工程": (
        "材料基因 高通量计算 高通量实验 材料计算 第一性原理 材料数据库 材料设计 分子动力学 相图 机器学习材料"
    ),
    # 航空航天
    "无人机与直升机": ("无人机 直升机 旋翼 多旋翼 固定翼 飞控 航拍 植保无人机 垂直起降 倾转旋翼 无人飞行器"),
    "民用航空": ("民用航空 航空 飞机 航空发动机 机场 航电 适航 客机 机载 空管 通航 航空材料 起落架"),
    "航天技术及应用": ("航天 卫星 卫星遥感 北斗导航 遥感 火箭 运载 空间站 星载 导航定位 北斗 在轨 深空探测"),
    # 现代服务业
    "设计服务": (
        "工业设计 设计服务 产品设计 创意设计 外观设计 交互设计 UI 建筑设计 包装设计 视觉设计 服务设计"
    ),
    "检验检测": (
        "检验检测 检测 检验 认证 计量校准 无损检测 理化检测 第三方检测 质量检测 标准物质 检测方法 失效分析"
    ),
    "科技与文化融合": (
        "文化 文创 数字文化 文旅 动漫 游戏 影视 数字内容 文物 博物馆 非遗 虚拟现实 元宇宙 创意产业"
    ),
    # 现代农业
    "现代种业": ("育种 分子育种 种子 品种 种质资源 杂交 转基因 良种 种苗 选育 基因组选择 制种 种畜 种禽"),
    "农产品精深加工及保鲜": (
        "农产品加工 精深加工 保鲜 保鲜技术 冷链物流 冷链 果蔬 贮藏 干燥 速冻 深加工 粮油 肉制品 乳制品 预制菜"
    ),
    "食品安全": (
        "食品安全 食品检测 农药残留 兽药残留 重金属检测 食源性 添加剂 快速检测 真菌毒素 食品溯源 致病菌 食品"
    ),
    "农业生物制造": (
        "生物农药 生物肥料 微生物肥料 饲料 兽用疫苗 饲料添加剂 生物饲料 有机肥 益生菌 植物提取 酶解"
    ),
    "智慧农业": (
        "智慧农业 精准农业 精准灌溉 植物工厂 农业物联网 农机 智能农机 温室 水肥一体化 "
        "农业机器人 病虫害监测 遥感估产 设施农业"
    ),
    "绿色生态农业": (
        "生态农业 绿色农业 有机农业 土壤改良 节水灌溉 秸秆 农业面源 循环农业 化肥减量 "
        "农药减量 盐碱地 耕地质量"
    ),
    # 资源与环境
    "大气污染防治": (
        "大气污染 废气 脱硫 脱硝 脱硫脱硝 除尘 VOCs 挥发性有机物 PM2.5 烟气 空气净化 尾气 臭氧 颗粒物"
    ),
    "水污染防治": (
        "水污染 污水处理 废水 膜分离 水处理 污泥 COD 氨氮 反渗透 海水淡化 饮用水 黑臭水体 中水回用 高盐废水"
    ),
    "土壤污染防治及修复": (
        "土壤修复 土壤污染 重金属 污染场地 修复 淋洗 钝化 植物修复 地下水修复 石油污染土壤 固化稳定化"
    ),
    "固体废物治理与资源化": (
        "固废 固废资源化 固体废物 垃圾 危废 资源化 回收 再生 尾矿 粉煤灰 餐厨垃圾 "
        "建筑垃圾 废旧电池回收 焚烧 填埋"
    ),
    "海洋环境保护": ("海洋环境 海洋污染 赤潮 溢油 海洋生态 近岸海域 海洋监测 微塑料 海水养殖尾水 海岸带"),
    "生态保护和修复": (
        "生态修复 生态保护 湿地 植被恢复 水土保持 生物多样性 矿山修复 荒漠化 河道治理 生态监测"
    ),
    "碳达峰碳中和": (
        "碳达峰碳中和 碳排放 碳捕集 CCUS 碳足迹 减碳 低碳 碳交易 温室气体 碳汇 二氧化碳 碳核算 零碳"
    ),
    # 城市建设与公共安全
    "绿色节能建筑": (
        "绿色建筑 建筑节能 装配式建筑 节能建筑 保温 智能建造 BIM 被动房 建材 外墙 混凝土 暖通 光伏建筑一体化"
    ),
    "智慧城市": (
        "智慧城市 城市大脑 智慧交通 交通信号 城市治理 智慧社区 城市管理 市政 智慧停车 "
        "地下管网 智慧园区 数字政府"
    ),
    "社会治理": "社会治理 基层治理 网格化 政务 舆情 公共服务 社区治理 信用体系 治理",
    "应急预警": ("应急 应急管理 预警 灾害 地震 洪涝 火灾 救援 监测预警 应急通信 气象灾害 消防 防汛"),
    "生产安全": (
        "安全生产 生产安全 安全监测 隐患排查 危化品 矿山安全 瓦斯 事故 安全预警 防爆 特种设备 有限空间"
    ),
    # 人口健康
    "重大疾病及传染病防治": (
        "肿瘤 癌症 心血管 糖尿病 传染病 疫苗 病毒 早筛 早诊 慢性病 阿尔茨海默 脑卒中 "
        "结核 流感 抗病毒 疾病防治"
    ),
    "健康与智慧医疗": (
        "智慧医疗 互联网医疗 远程医疗 健康管理 电子病历 医疗大数据 辅助诊断 养老 康复 "
        "医院信息化 健康监测 慢病管理 医疗AI"
    ),
    "中医药传承创新": ("中医药 中医 针灸 经络 中医诊断 名老中医 中医药传承 推拿 中西医结合 治未病 脉诊 舌诊"),
}
TERMS: dict[str, tuple[str, ...]] = {sub: tuple(words.split()) for sub, words in _TERMS.items()}

TITLE_WEIGHT = 2.0
BODY_WEIGHT = 1.0
SUBFIELD_NAME_BONUS = 3.0
TOP_NAME_BONUS = 0.5
THRESHOLD = 2.0


def _key(term: str) -> str:
    return canonical(normalize(term))


@cache
def _index() -> dict[str, dict[str, float]]:
    """Term -> {subfield: weight}; a term known to n fields weighs 1/n in each."""
    owners: dict[str, set[str]] = defaultdict(set)
    for sub, terms in TERMS.items():
        for term in (*terms, sub):
            owners[_key(term)].add(sub)
    return {term: {sub: 1.0 / len(subs) for sub in subs} for term, subs in owners.items()}


def scores(
    title: str, keywords: Iterable[str] = (), body: str = "", *, within: str | None = None
) -> dict[str, float]:
    """Each second-level field's score for the text (only those under first-level `within`, if given)."""
    index = _index()
    analyzer = default_analyzer()
    out: dict[str, float] = defaultdict(float)
    zones = ((" ".join([title, *keywords]), TITLE_WEIGHT), (body, BODY_WEIGHT))
    for text, weight in zones:
        if not text:
            continue
        norm = normalize(text)
        tokens = {_key(t) for t in analyzer.tokens(text)}
        found = {t for t in tokens if t in index}
        found |= {t for t in index if len(t) >= 3 and t in norm}
        for term in found:
            for sub, share in index[term].items():
                out[sub] += weight * share
        for sub in SUBFIELDS:
            if normalize(sub) in norm:
                out[sub] += weight * SUBFIELD_NAME_BONUS
        for top, subs in FIELDS.items():
            if normalize(top) in norm:
                for sub in subs:
                    out[sub] += weight * TOP_NAME_BONUS
    if within:
        return {sub: s for sub, s in out.items() if FIELD_PARENT[sub] == within}
    return dict(out)


def infer_field(
    title: str, keywords: Iterable[str] = (), body: str = "", *, within: str | None = None
) -> str | None:
    """The most likely second-level field for the text, or None when no field is clearly indicated."""
    ranked = sorted(scores(title, keywords, body, within=within).items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < THRESHOLD:
        return None
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]
