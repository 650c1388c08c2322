"""Administrative-division codes (行政区划代码, GB/T 2260): every province, prefecture and county.

The table (`data/gb2260.csv`, 3,511 codes) is the one the `cpca` package ships (MIT licence), taken as
data rather than as a dependency (cpca is an address parser that pulls in pandas). It is the edition
of about 2018: 京津冀 has not changed since, but elsewhere a district created later is missing, so a
code that is not in the table outside 京津冀 is accepted when its structure and province are right.
Directory filters, profiles and contract registration read from here.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

_TABLE = Path(__file__).with_name("data") / "gb2260.csv"

#: the platform's coarse region (Organization.region) for a province prefix
COARSE_REGION: dict[str, str] = {"12": "天津", "11": "北京", "13": "河北"}
#: provinces whose every code is checked against the table (the 京津冀 market)
_STRICT = ("11", "12", "13")
_MUNICIPALITIES = ("11", "12", "31", "50")
#: county-level placeholders that are codes but not places of their own
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@cache
def codes() -> dict[str, str]:
    """Code → name of every division in the table."""
    with _TABLE.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


#: province-level codes (the first two digits of a six-digit code)
PROVINCES: dict[str, str] = {code[:2]: name for code, name in codes().items() if code.endswith("0000")}

#: 京津冀 below the province, as the directory's select offers them: 天津、北京 districts, 河北
#: prefecture-level cities
SUBDIVISIONS: dict[str, str] = {
    code: name
    for code, name in codes().items()
    if (code[:2] in ("11", "12") and code[4:] != "00")
    or (code[:2] == "13" and code[4:] == "00" and code[2:4] != "00" and name not in _PLACEHOLDERS)
}


def is_region_code(code: str | None) -> bool:
    """A code of the table (a province, a prefecture or a county)."""
    return bool(code) and code in codes()


def region_name(code: str | None) -> str:
    """The full name: “天津市南开区” for 120104, “河北省石家庄市长安区” for 130102, “河北省” for 130000;
    the province's name for a code newer than the table; the code itself when nothing is known."""
    code = (code or "").strip()
    table = codes()
    if code[:2] not in PROVINCES:
        return code
    parts = [PROVINCES[code[:2]]]
    for level in (f"{code[:4]}00", code):
        name = table.get(level)
        if name and name not in _PLACEHOLDERS and name not in parts:
            parts.append(name)
    return "".join(parts)


def problem(value: str | None, label: str) -> str | None:
    """Why `value` is not a GB/T 2260 code, naming the party (“卖方”), or None."""
    code = (value or "").strip()
    if not code:
        return f"请填写{label}的行政区划代码（GB/T 2260，六位数字，如天津市南开区 120104）"
    if len(code) != 6 or not code.isdigit():
        return f"{label}的行政区划代码应为六位数字（GB/T 2260）"
    province = code[:2]
    if province not in PROVINCES:
        return f"{label}的行政区划代码前两位 {province} 不是省级代码（GB/T 2260）"
    if code in codes():
        return None
    if province in _STRICT:
        level = "区级" if province in ("11", "12") else "行政区划"
        return f"{label}的行政区划代码 {code} 不是{PROVINCES[province]}的{level}代码（GB/T 2260）"
    if (code[2:4] == "00" and code[4:] != "00") or (
        province in _MUNICIPALITIES and code[2:4] not in ("01", "02")
    ):
        return f"{label}的行政区划代码 {code} 结构不正确（GB/T 2260）"
    return None


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
