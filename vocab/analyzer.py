"""The one Chinese analyzer shared by search and matching.

jieba with a domain dictionary (the taxonomy, domain terms and any listing keywords added at run time)
and a synonym list that folds variants onto one canonical term, so 锂电 and 锂离子电池, AI and 人工智能
mean the same thing in the search index and in the matcher.

Before segmenting, text is folded: full width to half width and lower case (NFKC), and traditional
characters to simplified ones (OpenCC's character table), so 電池 and 电池, ＰＣＲ and PCR are the same
term everywhere. The traditional→simplified fold is one character for one character, never a phrase
rewrite: search highlights rely on offsets staying put, and a context-free fold gives a two-character
query the same characters as the long text it must be found in.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable

import jieba
import opencc

from vocab.taxonomy import FIELDS, SUBFIELDS, IPType, Maturity, TransferMode, values

jieba.setLogLevel(logging.WARNING)

#: variant -> canonical term. Keys are matched after normalisation (NFKC, lower case).
SYNONYMS: dict[str, str] = {
    "ai": "人工智能",
    "a.i.": "人工智能",
    "机器学习": "机器学习",
    "深度学习": "深度学习",
    "锂电": "锂离子电池",
    "锂电池": "锂离子电池",
    "锂离子电池": "锂离子电池",
    "新能源车": "新能源汽车",
    "电动汽车": "新能源汽车",
    "电动车": "新能源汽车",
    "ev": "新能源汽车",
    "无人驾驶": "自动驾驶",
    "自动驾驶": "自动驾驶",
    "芯片": "集成电路",
    "ic": "集成电路",
    "光伏电池": "太阳能电池",
    "太阳电池": "太阳能电池",
    "太阳能电池": "太阳能电池",
    "pv": "光伏",
    "无人机": "无人机",
    "uav": "无人机",
    "机器视觉": "机器视觉",
    "计算机视觉": "机器视觉",
    "cv": "机器视觉",
    "nlp": "自然语言处理",
    "物联网": "物联网",
    "iot": "物联网",
    "5g": "5g",
    "区块链": "区块链",
    "plc": "可编程控制器",
    "数控机床": "数控机床",
    "cnc": "数控机床",
    "储能电池": "储能电池",
    "燃料电池": "燃料电池",
    "氢燃料电池": "燃料电池",
    "碳中和": "碳达峰碳中和",
    "双碳": "碳达峰碳中和",
    "污水处理": "污水处理",
    "废水处理": "污水处理",
    "中医药": "中医药",
    "中药材": "中药",
    "crispr": "基因编辑",
    "基因编辑": "基因编辑",
    "mri": "磁共振成像",
    "核磁共振": "磁共振成像",
    "3d打印": "增材制造",
    "增材制造": "增材制造",
}

#: terms that must never be cut apart by jieba (in addition to the taxonomy itself)
DOMAIN_TERMS: tuple[str, ...] = (
    "锂离子电池",
    "固态电池",
    "钠离子电池",
    "燃料电池",
    "太阳能电池",
    "钙钛矿",
    "质子交换膜",
    "电解水制氢",
    "储能电池",
    "液流电池",
    "动力电池",
    "电池管理系统",
    "机器视觉",
    "自然语言处理",
    "大语言模型",
    "知识图谱",
    "边缘计算",
    "联邦学习",
    "数字孪生",
    "工业互联网",
    "物联网",
    "自动驾驶",
    "车路协同",
    "激光雷达",
    "毫米波雷达",
    "碳化硅",
    "氮化镓",
    "光刻胶",
    "封装测试",
    "增材制造",
    "复合材料",
    "碳纤维",
    "石墨烯",
    "高分子材料",
    "可降解塑料",
    "生物基材料",
    "基因编辑",
    "细胞治疗",
    "干细胞",
    "单克隆抗体",
    "疫苗",
    "体外诊断",
    "医学影像",
    "磁共振成像",
    "中药饮片",
    "中药提取",
    "污水处理",
    "膜分离",
    "土壤修复",
    "重金属",
    "固废资源化",
    "脱硫脱硝",
    "挥发性有机物",
    "碳捕集",
    "海水淡化",
    "智能电网",
    "综合能源",
    "工业机器人",
    "协作机器人",
    "数控机床",
    "伺服电机",
    "减速器",
    "智能传感器",
    "无人机",
    "卫星遥感",
    "北斗导航",
    "智慧农业",
    "精准灌溉",
    "植物工厂",
    "冷链物流",
    "保鲜技术",
    "育种",
    "分子育种",
    "食品检测",
    "农药残留",
    "智能建造",
    "装配式建筑",
    "建筑节能",
    "应急管理",
    "安全监测",
    "隐患排查",
    "区块链",
    "量子通信",
    "量子计算",
    "网络安全",
    "数据安全",
    "隐私计算",
    "操作系统",
    "数据库",
    "云计算",
    "高性能计算",
    "工业软件",
    "CAD",
    "CAE",
    "MES",
    "PLC",
    "5G",
    "6G",
    "AI",
)

_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "在",
        "是",
        "为",
        "对",
        "于",
        "以",
        "将",
        "可",
        "可以",
        "能",
        "能够",
        "并",
        "其",
        "该",
        "这",
        "那",
        "一种",
        "一个",
        "通过",
        "进行",
        "实现",
        "采用",
        "基于",
        "具有",
        "用于",
        "使",
        "使得",
        "提高",
        "提升",
        "降低",
        "以及",
        "我们",
        "本",
        "本项目",
        "项目",
        "技术",
        "方法",
        "系统",
        "装置",
        "研究",
        "开发",
        "应用",
        "需要",
        "需求",
        "要求",
        "企业",
        "公司",
        "解决",
        "问题",
        "主要",
        "相关",
        "方面",
        "上",
        "中",
        "下",
        "有",
        "无",
        "不",
        "也",
        "都",
        "而",
        "但",
        "如",
        "如何",
        "从",
        "到",
        "由",
        "被",
        "把",
        "给",
        "让",
        "向",
        "个",
        "种",
        "后",
        "前",
        "时",
        "已",
        "已经",
        "目前",
        "现有",
        "达到",
        "以上",
        "以下",
        "左右",
        "约",
        "多",
        "少",
        "大",
        "小",
        "高",
        "低",
        "新",
        "好",
        "更",
        "最",
        "较",
        "很",
    ]
)

_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_SPLIT_ASCII = re.compile(r"[a-z]+[0-9]*|[0-9]+(?:\.[0-9]+)?[a-z%]*")
#: the ideograph blocks whose traditional forms OpenCC folds (basic, extension A, compatibility)
_IDEOGRAPH_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@functools.cache
def _t2s_table() -> tuple[dict[int, str], re.Pattern[str]]:
    """Traditional character -> simplified character, from OpenCC's ``t2s`` conversion of every
    ideograph on its own (one call on the characters joined by line breaks, which no phrase spans),
    and a pattern that finds any of them."""
    chars = [chr(c) for start, end in _IDEOGRAPH_BLOCKS for c in range(start, end)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a conversion across a line break: never seen, but be safe
        converted = [opencc.OpenCC("t2s").convert(c) for c in chars]
    table = {ord(a): b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}
    pattern = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(table)) + "]")
    return table, pattern


def to_simplified(text: str) -> str:
    """`text` with traditional characters replaced by simplified ones, one for one (same length)."""
    if not text or text.isascii():
        return text
    table, pattern = _t2s_table()
    # Most text is simplified already: one regex scan (in C) decides, translate only when needed.
    return text.translate(table) if pattern.search(text) else text


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), traditional to simplified, lower case, whitespace collapsed."""
    return " ".join(to_simplified(unicodedata.normalize("NFKC", text or "")).lower().split())


def is_stopword(token: str) -> bool:
    """True for a token the analyzer drops (的, 技术, 如何 …) unless asked to keep it."""
    return token in _STOPWORDS


def canonical(term: str) -> str:
    """The canonical form of a term (its synonym target, or itself)."""
    return SYNONYMS.get(term, term)


class ChineseAnalyzer:
    """Segments mixed Chinese / English / number text into normalised, synonym-folded terms.

    One instance per process is enough (`default_analyzer()`); it is thread-safe for reading.
    """

    def __init__(self, extra_words: Iterable[str] = ()) -> None:
        self._tokenizer = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._initialised = False
        self._pending: set[str] = set(extra_words)
        self.words: set[str] = set()

    def _ensure(self) -> None:
        if self._initialised and not self._pending:
            return
        with self._lock:
            if not self._initialised:
                self._tokenizer.initialize()
                base = [*SUBFIELDS, *FIELDS, *DOMAIN_TERMS, *SYNONYMS, *set(SYNONYMS.values())]
                base += [*values(IPType), *values(Maturity), *values(TransferMode)]
                self._pending.update(base)
                self._initialised = True
            for word in self._pending:
                word = normalize(word)
                if len(word) >= 2 and word not in self.words:
                    # A high frequency makes jieba keep the term whole.
                    self._tokenizer.add_word(word, freq=20000)
                    self.words.add(word)
            self._pending.clear()

    def vocabulary_size(self) -> int:
        """How many words the dictionary holds, words added but not yet loaded included: memos of
        segmentations key on it, since a new word can change how text is segmented."""
        self._ensure()
        return len(self.words)

    def frequencies(self) -> dict[str, int]:
        """jieba's word frequencies (its dictionary with the domain words); read-only."""
        self._ensure()
        return self._tokenizer.FREQ

    def add_words(self, words: Iterable[str]) -> None:
        """Teach the analyzer new domain words (e.g. listing keywords); idempotent."""
        fresh = {w for w in (normalize(w) for w in words) if len(w) >= 2 and w not in self.words}
        if fresh:
            with self._lock:
                self._pending.update(fresh)

    def tokens(self, text: str, *, search_mode: bool = False, keep_stopwords: bool = False) -> list[str]:
        """Terms of `text`, in order, stopwords and punctuation dropped, synonyms folded.

        `search_mode` also emits the shorter words inside long ones (jieba's search mode), which suits
        indexing; the matcher uses the precise mode. `keep_stopwords` keeps the stop-listed words
        (a search query decides itself which of them to drop: see `search.text.query_terms`).
        """
        self._ensure()
        norm = normalize(text)
        if not norm:
            return []
        cut = self._tokenizer.cut_for_search(norm) if search_mode else self._tokenizer.cut(norm)
        out: list[str] = []
        for raw in cut:
            tok = raw.strip()
            if not tok or not _TOKEN_OK.search(tok):
                continue
            if tok.isascii() and not tok.isalnum():
                # "a.i." and "3d打印"-like tokens survive; other ASCII punctuation runs are split
                if tok in SYNONYMS:
                    out.append(canonical(tok))
                    continue
                out.extend(canonical(t) for t in _SPLIT_ASCII.findall(tok))
                continue
            if (tok in _STOPWORDS and not keep_stopwords) or (len(tok) == 1 and not tok.isalnum()):
                continue
            out.append(canonical(tok))
        return out

    def terms(self, text: str) -> list[str]:
        """Distinct content terms of at least two characters (or alphanumeric), in first-seen order."""
        seen: dict[str, None] = {}
        for tok in self.tokens(text):
            if len(tok) >= 2 or tok.isdigit():
                seen.setdefault(tok, None)
        return list(seen)


_default: ChineseAnalyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> ChineseAnalyzer:
    """The process-wide analyzer."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ChineseAnalyzer()
    return _default


def tokenize(text: str, *, search_mode: bool = False) -> list[str]:
    """Shortcut for `default_analyzer().tokens(text)`."""
    return default_analyzer().tokens(text, search_mode=search_mode)
