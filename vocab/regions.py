"""Administrative-division codes (行政区划代码, GB/T 2260): the provinces, and 京津冀 down to the district
(天津、北京) or prefecture-level city (河北). Directory filters and profiles read from here."""

from __future__ import annotations

#: province-level codes (the first two digits of a six-digit code)
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip

#: 京津冀 below the province: 天津、北京 districts, 河北 prefecture-level cities
SUBDIVISIONS: dict[str, str] = {
    "120101": "和平区", "120102": "河东区", "120103": "河西区", "120104": "南开区", "120105": "河北区",
    "120106": "红桥区", "120110": "东丽区", "120111": "西青区", "120112": "津南区", "120113": "北辰区",
    "120114": "武清区", "120115": "宝坻区", "120116": "滨海新区", "120117": "宁河区", "120118": "静海区",
    "120119": "蓟州区",
    "110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110106": "丰台区", "110107": "石景山区",
    "110108": "海淀区", "110109": "门头沟区", "110111": "房山区", "110112": "通州区", "110113": "顺义区",
    "110114": "昌平区", "110115": "大兴区", "110116": "怀柔区", "110117": "平谷区", "110118": "密云区",
    "110119": "延庆区",
    "130100": "石家庄市", "130200": "唐山市", "130300": "秦皇岛市", "130400": "邯郸市", "130500": "邢台市",
    "130600": "保定市", "130700": "张家口市", "130800": "承德市", "130900": "沧州市", "131000": "廊坊市",
    "131100": "衡水市",
}  # fmt: skip

#: every code this vocabulary knows: provinces (xx0000) and the subdivisions above
CODES: dict[str, str] = {f"{p}0000": name for p, name in PROVINCES.items()} | SUBDIVISIONS

#: the platform's coarse region (Organization.region) for a province prefix
COARSE_REGION: dict[str, str] = {"12": "天津", "11": "北京", "13": "河北"}


def is_region_code(code: str | None) -> bool:
    """A known GB/T 2260 code (a province, or a 京津冀 district / city)."""
    return bool(code) and code in CODES


def region_name(code: str | None) -> str:
    """“天津市南开区” for 120104, “河北省” for 130000; the code itself when unknown."""
    if not code or code not in CODES:
        return code or ""
    province = PROVINCES[code[:2]]
    return province if code.endswith("0000") else province + SUBDIVISIONS[code]


def coarse_region(code: str | None) -> str | None:
    """天津 / 北京 / 河北 / 其他 for a code (None when there is no code)."""
    if not code:
        return None
    return COARSE_REGION.get(code[:2], "其他")


def region_prefix(code: str) -> str:
    """The prefix a code covers: “12” for 天津市 (all its districts), “1301” for 石家庄市, the full code
    for a district."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def choices() -> list[tuple[str, str]]:
    """(code, label) for a select: 京津冀 first with their subdivisions indented, then the other provinces."""
    out: list[tuple[str, str]] = []
    for prefix in ("12", "11", "13"):
        out.append((f"{prefix}0000", PROVINCES[prefix]))
        out += [(c, f"　{n}") for c, n in SUBDIVISIONS.items() if c.startswith(prefix)]
    out += [(f"{p}0000", n) for p, n in PROVINCES.items() if p not in ("11", "12", "13")]
    return out
