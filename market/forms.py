"""Choice lists for select and checkbox fields, in wtforms' `SelectChoice` form (tuples and dicts of
choices are deprecated from wtforms 3.4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wtforms.fields.choices import SelectChoice


def choices(items: Iterable[str | tuple[str, str]], blank: str | None = None) -> list[SelectChoice]:
    """One choice per item (a value shown as itself, or a (value, label) pair); `blank` first when given."""
    out = [SelectChoice("", blank)] if blank is not None else []
    for item in items:
        value, label = item if isinstance(item, tuple) else (item, item)
        out.append(SelectChoice(value, label))
    return out


def grouped(groups: Mapping[str, Iterable[str]]) -> list[SelectChoice]:
    """Choices under optgroups (a field's second-level values under its first-level name)."""
    return [
        SelectChoice(value, value, optgroup=group) for group, values in groups.items() for value in values
    ]
