"""Sections other features add to the brokers' queue (e.g. 请经纪人 requests), so that matches does not
import them: each gives a title, a template and a loader of its items for the signed-in broker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app


@dataclass(frozen=True)
class QueueSection:
    title: str
    template: str
    load: Callable[[Any, Any], list]


def register_queue_section(app: Flask, section: QueueSection) -> None:
    app.extensions.setdefault("matches.queue_sections", []).append(section)


def queue_sections(session, user) -> list[tuple[QueueSection, list]]:
    """(section, items) for each registered section, in registration order."""
    return [(s, s.load(session, user)) for s in current_app.extensions.get("matches.queue_sections", [])]
