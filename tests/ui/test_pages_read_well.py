"""Pages read well: skip link, one h1, navbar groups, required marks, the field select, the import
page's answers to an oversized or empty file, copy without doubled words, API docs and favicon."""

from __future__ import annotations

import io
import re

from market.main.context import user_label
from tests.factories import NEED, login, make_listing, publish


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_layout_has_skip_link_favicon_and_api_docs(client):
    page = _text(client.get("/"))
    assert 'class="skip-link" href="#main"' in page and 'id="main"' in page
    assert "favicon.svg" in page
    assert "/api/v1/docs" in page  # the footer links the API docs
    assert client.get("/static/favicon.svg").status_code == 200
    assert len(re.findall(r"<h1\b", page)) == 1


def test_every_main_page_has_one_h1(app, client, session, people):
    need = make_listing(session, kind="need")
    session.commit()
    login(client, people["admin"])
    for path in ("/", "/results", "/needs", "/search", "/search?q=电池", f"/needs/{need.id}", "/stats",
                 "/stats/public", "/admin/stale", "/admin/review"):  # fmt: skip
        page = _text(client.get(path))
        assert len(re.findall(r"<h1\b", page)) == 1, path


def test_navbar_groups_menus_for_every_role(app, session, people):
    for who in ("admin", "agent", "uni", "ent"):
        client = app.test_client()
        login(client, people[who])
        page = _text(client.get("/"))
        nav = page[page.index("<nav") : page.index("</nav>")]
        top_level = re.findall(r'<li class="nav-item(?: dropdown)?">', nav)
        assert len(top_level) <= 9, (who, len(top_level))  # brand + few links + groups + account
        assert "dropdown-menu" in nav, who


def test_role_is_not_repeated_after_a_name_that_says_it(session, people):
    agent = people["agent"]
    agent.display_name = "技术经纪人 周航"
    assert user_label(agent) == "技术经纪人 周航"
    agent.display_name = "周航"
    assert user_label(agent) == "周航（技术经纪人）"


def test_need_form_marks_required_fields_and_has_no_silent_field(app, client, session, people):
    login(client, people["ent"])
    page = _text(client.get("/needs/new"))
    select = page[page.index('name="field"') - 200 : page.index("</select>", page.index('name="field"'))]
    assert "form-select" in select
    first = re.search(r"<option[^>]*>([^<]*)</option>", select)
    assert first.group(1) == "请选择技术领域"
    assert 'selected value=""' in select or "selected" not in select.split("</option>")[0] or True
    assert (
        re.search(r'<option selected value="">|<option value="" selected>', select)
        or "selected" not in select
    )
    for name in ("title", "description"):
        tag = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', page).group(0)
        assert "required" in tag, name
    assert "必填项" in page
    # leaving the field unchosen is allowed (it can be given later); it is not set to the first one
    data = {**NEED, "field": ""}
    assert client.post("/needs/new", data=data).status_code == 302


def test_need_budget_is_not_said_twice(app, session, people):
    need = publish(app, session, people, kinds="needs", data=NEED, owner="ent")
    page = _text(app.test_client().get(f"/needs/{need.id}"))
    assert "预算 预算" not in re.sub(r"<[^>]+>|\s+", " ", page).replace("  ", " ")
    assert "50–150 万元" in page


def test_import_says_a_header_only_csv_has_no_rows(client, people):
    login(client, people["uni"])
    data = "成果名称,成果简介\n".encode()
    page = client.post(
        "/import", data={"file": (io.BytesIO(data), "r.csv")}, content_type="multipart/form-data"
    )
    assert page.status_code == 400
    assert "只有表头，没有数据行" in _text(page)


def test_import_answers_an_oversized_upload_on_its_page_with_the_limit(app, client, people):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    login(client, people["uni"])
    big = b"x" * (100 * 1024)
    page = client.post(
        "/import", data={"file": (io.BytesIO(big), "r.csv")}, content_type="multipart/form-data"
    )
    assert page.status_code == 413
    text = _text(page)
    assert "上传的文件过大" in text and "MB" in text
    assert "批量导入" in text  # the import page itself, ready for another try
