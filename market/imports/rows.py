"""Importing one spreadsheet row: reading its cells, finding its organisation and any listing it updates,
validating it through the listing schema, and writing it inside its own SAVEPOINT.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from market.accounts.models import Organization, User
from market.accounts.service import get_or_create_org
from market.errors import DomainError
from market.imports import cells
from market.imports.report import IMPORTED, REJECTED, UNCHANGED, UPDATED, ImportReport, RowResult
from market.listings import service as listings
from market.listings.fields import classifier as field_classifier
from market.listings.labels import LABELS
from market.listings.models import KINDS, Listing
from market.listings.permissions import OWNER_ROLE
from market.listings.schemas import (
    SCHEMAS,
    NeedIn,
    ResultIn,
    shorter_than_usual,
    split_multi,
    validate_listing,
)
from matching.fields import listing_text
from vocab.taxonomy import ROLE_ORG_KINDS, ListingStatus, OrgKind

#: the kind of organisation created for a name the file introduces
NEW_ORG_KIND = {"result": OrgKind.UNIVERSITY, "need": OrgKind.ENTERPRISE}
PUBLISH_REASON = "批量导入直接发布"
#: the text the field is inferred from, besides title and keywords
BODY_FIELDS = {
    "result": ("summary", "problem", "advantage"),
    "need": ("description", "requirements", "target_metrics"),
}


class _Rejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _FieldCell:
    """What the 技术领域 cell said: a recognised field, nothing, or something unrecognised."""

    value: str | None = None
    top: str | None = None  # a first-level field named instead of a second-level one


def _same_name(a: str, b: str) -> bool:
    def fold(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).split())

    return fold(a) == fold(b)


def _name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


class _OrgListings:
    """An organisation's listings of one kind, by 编号 and by title (loaded once per import)."""

    def __init__(self, items: list[Listing]) -> None:
        self.by_ext: dict[str, Listing] = {}
        self.by_title: dict[str, Listing] = {}
        for item in items:
            self.add(item)

    def add(self, item: Listing) -> None:
        if item.external_id:
            self.by_ext.setdefault(item.external_id, item)
        self.by_title.setdefault(item.title, item)

    def find(self, external_id: str | None, title: str) -> Listing | None:
        if external_id:
            found = self.by_ext.get(external_id)
            if found is not None:
                return found
            # imported before without a 编号: the same title now gets one
            found = self.by_title.get(title)
            return found if found is not None and not found.external_id else None
        return self.by_title.get(title)


class RowImporter:
    """Imports rows one at a time, keeping the organisations and listings it has seen."""

    def __init__(
        self,
        session: Session,
        *,
        kind: str,
        layout: dict[str, int],
        actor: User | None,
        default_org: Organization | str | None,
        publish: bool,
        restrict_org_id: int | None,
        report: ImportReport,
    ) -> None:
        self.session = session
        self.kind = kind
        self.model = KINDS[kind]
        self.schema = SCHEMAS[kind]
        self.layout = layout
        self.actor = actor
        self.publish = publish
        self.report = report
        self.restrict: Organization | None = (
            session.get(Organization, restrict_org_id) if restrict_org_id is not None else None
        )
        if restrict_org_id is not None and self.restrict is None:
            raise ValueError("restrict_org_id names no organisation")
        self.default: Organization | str | None = self.restrict or default_org
        self.orgs: dict[str, Organization] = {}
        self.listings: dict[int, _OrgListings] = {}
        self.seen: dict[tuple[str, str, str], int] = {}
        self.allowed_org_kinds = ROLE_ORG_KINDS[OWNER_ROLE[kind]]
        self.limits = {
            c.name: c.type.length
            for c in self.model.__table__.columns
            if isinstance(c.type, sa.String) and c.type.length
        }

    # one row -------------------------------------------------------------------------------------

    def run(self, number: int, row: list[Any]) -> RowResult | None:
        raw = {key: (row[pos] if pos < len(row) else None) for key, pos in self.layout.items()}
        if all(cells.text(v) is None for v in raw.values()):
            return None  # only unknown columns are filled: nothing to import
        notes: list[str] = []
        title = " ".join((cells.text(raw.get("title")) or "").split())
        try:
            values, field_cell = self._read(raw, notes)
            return self._save(number, values, field_cell, raw, notes)
        except _Rejected as exc:
            return RowResult(number, REJECTED, exc.message, title=title or None)
        except cells.CellError as exc:
            return RowResult(number, REJECTED, str(exc), title=title or None)
        except DomainError as exc:
            return RowResult(number, REJECTED, exc.message, title=title or None)
        except SQLAlchemyError as exc:
            reason = f"数据库拒绝写入该行（{type(exc).__name__}），该行未导入，其他行不受影响"
            return RowResult(number, REJECTED, reason, title=title or None)

    def _read(self, raw: dict[str, Any], notes: list[str]) -> tuple[dict[str, Any], _FieldCell]:
        """Schema values for the columns present in the file (blank cells included), and the field cell."""
        values: dict[str, Any] = {}
        field_cell = _FieldCell()
        for key, cell in raw.items():
            if key == "organization":
                continue
            if key == "field":
                text = cells.text(cell)
                if text:
                    field_cell.value, field_cell.top = cells.read_field(text)
                    if field_cell.value is None:
                        notes.append(f"技术领域“{text[:30]}”不在分类中")
            elif key in ("maturity", "ip_type", "rights_note"):
                text = cells.text(cell)
                value = cells.enum_value(key, text) if text else None
                if text and value is None:
                    notes.append(f"{LABELS[key]}“{text[:30]}”无法识别，已忽略")
                values[key] = value
            elif key in ("transfer_modes", "cooperation_modes"):
                kept: list[str] = []
                for item in _split(cell):
                    value = cells.enum_value(key, item)
                    if value is None:
                        notes.append(f"{LABELS[key]}“{item[:30]}”无法识别，已忽略")
                    elif value not in kept:
                        kept.append(value)
                values[key] = kept
            elif key == "price":
                values["price_negotiable"], values["price_wan"] = cells.price(cell)
            elif key == "budget":
                values["budget_min_wan"], values["budget_max_wan"] = cells.budget(cell)
            elif key == "deadline":
                values["deadline"] = cells.deadline(cell)
            elif key == "is_challenge":
                try:
                    flag = cells.yes_no(cell)
                except cells.CellError as exc:
                    notes.append(str(exc))
                    flag = None
                values["is_challenge"] = bool(flag)
            elif key in ("reward_wan", "appraised_wan"):
                values[key] = cells.money(cell, LABELS[key])
            elif key == "trl":
                try:
                    values["trl"] = cells.integer(cell, LABELS["trl"])
                except cells.CellError as exc:
                    notes.append(str(exc))
                    values["trl"] = None
            else:
                values[key] = cells.text(cell)
        if self.kind == "need":
            values["no_secret_confirmed"] = True  # uploading confirms it (said on the upload page)
        return values, field_cell

    def _org_name(self, raw: dict[str, Any]) -> str:
        named = cells.text(raw.get("organization"))
        if self.restrict is not None:
            if named and not _same_name(named, self.restrict.name):
                raise _Rejected(f"只能导入本机构（{self.restrict.name}）的内容，该行的单位是“{named[:60]}”")
            return self.restrict.name
        if named:
            return " ".join(named.split())
        if isinstance(self.default, Organization):
            return self.default.name
        if self.default:
            return " ".join(self.default.split())
        column = "所属单位" if self.kind == "result" else "需求单位"
        raise _Rejected(f"未填写{column}，也未指定默认机构")

    def _find_org(self, name: str) -> Organization | None:
        key = _name_key(name)
        org = self.orgs.get(key)
        if org is None:
            if self.restrict is not None:
                org = self.restrict
            elif isinstance(self.default, Organization) and _same_name(self.default.name, name):
                org = self.default
            else:
                org = self.session.exec(select(Organization).where(Organization.name == name)).first()
            if org is not None:
                self.orgs[key] = org
        if org is not None and org.kind not in self.allowed_org_kinds:
            raise _Rejected(f"机构“{org.name}”是{org.kind}，不能发布{self.model.label}")
        return org

    def _listings_of(self, org: Organization) -> _OrgListings:
        found = self.listings.get(org.id)
        if found is None:
            model = self.model
            items = self.session.exec(
                select(model).where(model.organization_id == org.id).order_by(model.id)
            ).all()
            found = self.listings[org.id] = _OrgListings(list(items))
        return found

    def _save(
        self,
        number: int,
        values: dict[str, Any],
        field_cell: _FieldCell,
        raw: dict[str, Any],
        notes: list[str],
    ) -> RowResult:
        name = self._org_name(raw)
        title = " ".join((values.get("title") or "").split())
        external_id = values.get("external_id")
        key = (_name_key(name), "编号" if external_id else "名称", external_id or title)
        if title and key in self.seen:
            raise _Rejected(f"与第 {self.seen[key]} 行重复（同一机构的{key[1]}相同），本行未导入")

        org = self._find_org(name)
        existing = self._listings_of(org).find(external_id, title) if org is not None and title else None
        if existing is not None and existing.status in (ListingStatus.PENDING, ListingStatus.CLOSED):
            why = "正在审核中" if existing.status == ListingStatus.PENDING else "已成交"
            raise _Rejected(f"平台上的同名记录（编号 {existing.id}）{why}，不能通过导入修改")

        data = self._merge(existing, values)
        self.confidence = existing.field_confidence if existing is not None else None
        field_inferred = self._field(data, existing, field_cell, notes)
        checked = validate_listing(self.kind, data)
        self._check_lengths(checked)
        notes.extend(shorter_than_usual(self.kind, checked))
        if title:
            self.seen[key] = number

        unchanged = existing is not None and not self._differs(existing, checked, field_inferred)
        if unchanged and not (self.publish and existing.status == ListingStatus.DRAFT):
            if self.publish and existing.status == ListingStatus.WITHDRAWN:
                notes.append("该记录已下架，未重新发布")
            return self._result(number, UNCHANGED, existing, notes)

        created_org = False
        with self.session.begin_nested():
            if org is None:
                org, created_org = get_or_create_org(
                    self.session, name=name, kind=NEW_ORG_KIND[self.kind], verified=self.publish
                )
            if existing is None:
                listing = listings.create_listing(
                    self.session,
                    actor=self.actor,
                    kind=self.kind,
                    data=checked,
                    organization=org,
                    field_inferred=field_inferred,
                )
                status = IMPORTED
            else:
                listing = existing
                status = UNCHANGED
                if self._differs(existing, checked, field_inferred):
                    listings.update_listing(
                        self.session,
                        actor=self.actor,
                        listing=existing,
                        data=checked,
                        expected_version=None,
                        field_inferred=field_inferred,
                        check_permission=False,
                    )
                    status = UPDATED
            if field_inferred:
                listing.field_confidence = self.confidence
                self.session.add(listing)
            published = False
            if self.publish and listing.status == ListingStatus.DRAFT:
                listings.publish_directly(self.session, actor=None, listing=listing, reason=PUBLISH_REASON)
                published = True
            elif self.publish and listing.status == ListingStatus.WITHDRAWN:
                notes.append("该记录已下架，未重新发布")
        # the savepoint is released: remember what now exists
        self.orgs[_name_key(name)] = org
        if created_org:
            self.report.orgs_created.append(org.name)
            notes.append(f"新建机构“{org.name}”")
        if existing is None:
            self._listings_of(org).add(listing)
        if published:
            self.report.published += 1
            notes.append("已直接发布")
            if status == UNCHANGED:
                status = UPDATED
        return self._result(number, status, listing, notes)

    def _merge(self, existing: Listing | None, values: dict[str, Any]) -> dict[str, Any]:
        """Columns in the file win (a blank cell clears); fields the file lacks keep their saved value."""
        if existing is None:
            return dict(values)
        data = {name: getattr(existing, name) for name in self.schema.model_fields}
        data.update(values)
        if not values.get("external_id"):
            data["external_id"] = existing.external_id  # matched by title: keep its 编号
        return data

    def _field(
        self, data: dict[str, Any], existing: Listing | None, cell: _FieldCell, notes: list[str]
    ) -> bool:
        """Set data["field"]; True when it was inferred from the text rather than given."""
        if cell.value:
            data["field"] = cell.value
            return False
        if existing is not None and existing.field:
            data["field"] = existing.field  # an import never clears a field (a guess is not redone)
            return bool(existing.field_inferred)
        body_keys = BODY_FIELDS[self.kind]
        body = "\n".join(str(data.get(k) or "") for k in body_keys)
        keywords = _split(data.get("keywords"))
        model = field_classifier(self.session)
        text = listing_text(str(data.get("title") or ""), keywords, body)
        ranked = model.suggest(text, k=len(model.classes))
        if cell.top:  # the row names the first level only: the likeliest field under it
            ranked = [s for s in ranked if s.field_top == cell.top]
            total = sum(s.probability for s in ranked) or 1.0
            ranked = [dataclasses.replace(s, probability=s.probability / total) for s in ranked]
        best = ranked[0] if ranked else None
        backed = best is not None and bool(model.evidence_for(text, best.field))
        if best is not None and best.probability >= model.threshold and backed:
            data["field"] = best.field
            self.confidence = best.probability
            notes.append(
                f"技术领域由系统推断为“{best.field}”（系统推断，置信度 {best.probability:.0%}），请确认"
            )
            return True
        data["field"] = None
        if best is None:
            notes.append("未能确定技术领域，请在平台上补充")
        else:
            why = (
                f"低于 {model.threshold:.0%}"
                if best.probability < model.threshold
                else "但文字中没有支持它的词"
            )
            notes.append(
                f"技术领域未能可靠推断（最可能是“{best.field}”，置信度 {best.probability:.0%}，{why}），"
                "已留空，请在平台上补充"
            )
        return False

    def _check_lengths(self, checked: ResultIn | NeedIn) -> None:
        for name, limit in self.limits.items():
            value = getattr(checked, name, None)
            if isinstance(value, str) and len(value) > limit:
                raise DomainError((name, f"{LABELS.get(name, name)}不能超过 {limit} 个字"))

    @staticmethod
    def _differs(existing: Listing, checked: ResultIn | NeedIn, field_inferred: bool) -> bool:
        if bool(existing.field_inferred) != (field_inferred and bool(checked.field)):
            return True
        return any(not _same(getattr(existing, name), value) for name, value in checked.model_dump().items())

    @staticmethod
    def _result(number: int, status: str, listing: Listing, notes: list[str]) -> RowResult:
        return RowResult(number, status, "；".join(notes), listing_id=listing.id, title=listing.title)


def _split(value: Any) -> list[str]:
    return split_multi(value if isinstance(value, list | tuple) else cells.text(value))


_EMPTY = (None, "", [])


def _same(saved: Any, new: Any) -> bool:
    """Equal for the purpose of “did the row change anything” (money to the cent, blank equals blank)."""
    if saved in _EMPTY and new in _EMPTY:
        return True
    numbers = (int, float)
    if isinstance(saved, numbers) and isinstance(new, numbers) and not isinstance(new, bool):
        return abs(float(saved) - float(new)) < 0.005
    return saved == new
