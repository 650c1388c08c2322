"""URL converters shared by every feature: bounded integers and listing kinds."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

MAX_DB_ID = 2**31 - 1  # PostgreSQL integer primary keys

#: the URL segment of each listing kind ("results" in the URL, "result" in the view)
KIND_SEGMENT = {"result": "results", "need": "needs"}
KIND_OF_SEGMENT = {segment: kind for kind, segment in KIND_SEGMENT.items()}
#: what each kind is called on pages
NOUN = {"result": "科技成果", "need": "技术需求"}


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that never matches a number the database cannot hold (404, not a 500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(url_map, *args, **kwargs)


class KindConverter(BaseConverter):
    """`<kind:kind>`: "results" / "needs" in the URL, "result" / "need" in the view; anything else 404s."""

    regex = "results|needs"
    part_isolating = True

    def to_python(self, value: str) -> str:
        try:
            return KIND_OF_SEGMENT[value]
        except KeyError:
            raise ValidationError() from None

    def to_url(self, value: str) -> str:
        return KIND_SEGMENT[value]


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["kind"] = KindConverter
