"""Which child a task is about, at a glance (issue 17), in the browser: the paediatrician of the demo has two tasks in
two cases — an input to the assessment of one child, a plan action for another. Her inbox names each child beside the
case number; her notification list does too; the notification of the new task opens the task itself (not the case
page), and the task page names the child under its heading. Every page visited has no serious accessibility
violation.

Served by the product's own stack (``tests.stack``: migrate, seed_demo and ``manage.py serve_demo`` on a database of
its own, SQLite or PostgreSQL as the CI pass gives). The test talks to it only as browsers do and makes no ORM call.
Every name is the demo's, fictional.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.stack import running_stack

from .conftest import NewPage
from .test_lifecycle_journey import _task_row
from .test_shell_journey import _describe, _log_in, _serious_violations

pytestmark = [pytest.mark.browser]

PAEDIATRICIAN = "pediatr"
MY_TASKS = "Moje úkoly"
# The demo's cases where she has work, and their children (seed_demo's DEMO_CHILDREN).
INPUT_TASK, INPUT_CASE, INPUT_CHILD = "Podklad k vyhodnocení", "OM 2026/0004", "Šimon Dostál"
ACTION_TASK, ACTION_CASE, ACTION_CHILD = "Úkol z plánu", "OM 2026/0007", "Adéla Vlčková"


def _accessible(page: Page) -> None:
    violations = _serious_violations(page)
    assert violations == [], f"{page.url}\n{_describe(violations)}"


def test_the_paediatricians_inbox_names_each_child_and_a_notification_opens_the_task(
    tmp_path: Path, new_page: NewPage
) -> None:
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url
        page = new_page()
        _log_in(page, url, PAEDIATRICIAN)

        # The inbox: two tasks in two cases, each with its child beside the case number.
        page.goto(f"{url}/inbox/")
        input_row = _task_row(page, MY_TASKS, INPUT_TASK, INPUT_CASE)
        action_row = _task_row(page, MY_TASKS, ACTION_TASK, ACTION_CASE)
        expect(input_row).to_have_count(1)
        expect(action_row).to_have_count(1)
        expect(input_row.locator("[data-child-label]")).to_contain_text(INPUT_CHILD)
        expect(action_row.locator("[data-child-label]")).to_contain_text(ACTION_CHILD)
        expect(input_row).not_to_contain_text(ACTION_CHILD)
        expect(input_row.locator("[data-child-label]")).to_contain_text(re.compile(r"\d+ (let|roky|rok)"))
        _accessible(page)

        # The notification list names the child too; the new task's notification opens the task itself.
        page.goto(f"{url}/notifications/")
        item = page.locator("[data-notification-id]").filter(has_text=f"Máte nový úkol v případu {INPUT_CASE}")
        expect(item).to_have_count(1)
        expect(item.locator("[data-child-label]")).to_contain_text(INPUT_CHILD)
        _accessible(page)
        item.get_by_role("link").click()
        expect(page).to_have_url(re.compile(r"/inbox/tasks/\d+/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{INPUT_TASK}: {INPUT_CASE}")
        expect(page.locator("[data-child-label]")).to_contain_text(INPUT_CHILD)
        _accessible(page)
