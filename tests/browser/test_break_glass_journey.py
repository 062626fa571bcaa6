"""Break-glass in the browser (issue 19): a second OSPOD worker on duty needs a case she is not on. She finds it by
its reference, is refused without a real reason, gives one, and reads the file at once (read-only, with a banner);
the coordinator sees the notification; the supervisor sees her reads in the case's access timeline, marked
break-glass, and marks the access justified in the review queue; the DPO downloads her per-user report, which holds
the break-glass rows and no child's name.

Served by the product's own stack (``tests.stack``, SQLite or PostgreSQL as the CI pass gives), so the journey runs
on both databases. The new pages are driven by element names, not by their words: the Czech catalogue of these
strings is merged later. The test talks to the stack only as browsers do and makes no ORM call.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.stack import running_stack
from workflows.management.commands.seed_demo import DEMO_CHILDREN

from .conftest import NewPage
from .test_shell_journey import _log_in

pytestmark = [pytest.mark.browser]

REASON = "Noční služba: volala policie, Anežka je sama doma a matka nebere telefon."


def _case_of(page: Page, url: str, child_name: str) -> tuple[str, str]:
    """(reference, case path) of the coordinator's case of ``child_name``, as his case list shows it."""
    page.goto(f"{url}/cases/")
    row = page.locator("table.data tbody tr").filter(has_text=child_name)
    expect(row).to_have_count(1)
    link = row.locator("a").first
    reference = (link.text_content() or "").strip()
    path = link.get_attribute("href") or ""
    assert re.fullmatch(r"/cases/[0-9a-f-]{36}/", path), path
    return reference, path


def test_on_call_worker_breaks_glass_coordinator_is_told_supervisor_reviews_dpo_exports(
    tmp_path: Path, new_page: NewPage
) -> None:
    child = DEMO_CHILDREN[0]
    child_name = f"{child.given_name} {child.family_name}"
    with running_stack(tmp_path) as stack:
        url = stack.servers[0].url

        # 0. The coordinator's case (the demo's first child); the second worker gets "not found" there.
        coordinator = new_page()
        _log_in(coordinator, url, "koordinator")
        reference, case_path = _case_of(coordinator, url, child_name)
        case_id = case_path.strip("/").split("/")[-1]

        worker = new_page()
        _log_in(worker, url, "koordinatorka2")
        response = worker.goto(url + case_path)
        assert response is not None
        assert response.status == 404

        # 1. She searches her cases by the reference, finds nothing, and follows the break-glass entry.
        worker.goto(f"{url}/cases/?q={reference}")
        worker.locator("[data-break-glass-entry] a").click()
        expect(worker).to_have_url(f"{url}/cases/{case_id}/break-glass/")
        form = worker.locator("form[data-break-glass-request]")
        expect(worker.get_by_role("heading", level=1)).to_contain_text(reference)  # by reference only
        assert child.family_name not in worker.content()

        # No real reason and an absurd duration: field errors, nothing opened.
        form.locator("textarea[name=reason]").fill("rychle")
        form.locator("input[name=duration_minutes]").fill("9999")
        form.locator("button[name=break_glass]").click()
        expect(worker.locator("#id_reason_error")).to_be_visible()
        expect(worker.locator("#id_duration_minutes_error")).to_be_visible()
        assert worker.url.endswith(f"/cases/{case_id}/break-glass/")

        # With a reason: the file opens at once, read-only, with the banner.
        form = worker.locator("form[data-break-glass-request]")
        form.locator("textarea[name=reason]").fill(REASON)
        form.locator("input[name=duration_minutes]").fill("30")
        form.locator("button[name=break_glass]").click()
        expect(worker).to_have_url(url + case_path)
        expect(worker.locator("[data-break-glass-banner]")).to_be_visible()
        expect(worker.get_by_text(child_name).first).to_be_visible()
        expect(worker.get_by_role("link", name="Napsat záznam")).to_have_count(0)

        # 2. The coordinator sees the notification (kind and reference only).
        coordinator.goto(f"{url}/notifications/?kind=break_glass")
        told = coordinator.locator("[data-notifications-list] li").filter(has_text=reference)
        expect(told).to_have_count(1)
        assert REASON not in (told.text_content() or "")

        # 3. The supervisor sees the reads in the case's access timeline, marked break-glass ...
        supervisor = new_page()
        _log_in(supervisor, url, "vedouci")
        supervisor.goto(f"{url}/oversight/cases/{case_id}/")
        rows = supervisor.locator("[data-access-rows] tbody tr").filter(has_text="koordinatorka2")
        expect(rows.filter(has_text="break-glass: case page").first).to_be_visible()
        # ... and marks the access justified in the review queue.
        supervisor.goto(f"{url}/oversight/")
        supervisor.locator("[data-break-glass-queue]").click()
        grant = supervisor.locator("[data-break-glass-rows] tbody tr").filter(has_text=reference)
        expect(grant.filter(has_text="koordinatorka2")).to_have_count(1)
        grant.filter(has_text="koordinatorka2").get_by_role("link", name=reference).click()
        expect(supervisor.locator("[data-reason]")).to_have_text(REASON)
        expect(supervisor.locator("[data-access-rows]")).to_contain_text("break-glass: case page")
        review = supervisor.locator("form[data-review-form]")
        review.locator("input[name=verdict][value=justified]").check()
        review.locator("textarea[name=comment]").fill("Policie volala v noci, koordinátor nebyl k zastižení.")
        review.locator("button[type=submit]").click()
        expect(supervisor.locator("[data-verdict=justified]")).to_be_visible()
        assert child.family_name not in supervisor.content()

        # 4. The DPO downloads the worker's per-user report: the break-glass rows are in it, the child is not.
        dpo = new_page()
        _log_in(dpo, url, "poverenec")
        dpo.goto(f"{url}/oversight/break-glass/?state=all")
        reviewed = dpo.locator("[data-break-glass-rows] tbody tr").filter(has_text=reference)
        reviewed.filter(has_text="koordinatorka2").get_by_role("link", name="koordinatorka2").click()
        expect(dpo).to_have_url(re.compile(r"/oversight/users/\d+/$"))
        with dpo.expect_download() as download_info:
            dpo.locator('[data-export="xlsx"]').click()
        workbook = load_workbook(io.BytesIO(download_info.value.path().read_bytes()), read_only=True)
        cells = [
            "" if cell is None else str(cell)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        ]
        text = "\n".join(cells)
        assert "break-glass: case page" in text
        assert "break-glass: open case" in text
        assert reference in text
        for demo_child in DEMO_CHILDREN:
            assert demo_child.family_name not in text
            assert demo_child.given_name not in text
