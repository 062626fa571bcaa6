"""The statistics pages: who sees which figures, suppression for the region, exports that equal the tables, the
annual return, audit of every export, no protected value anywhere, and a fixed number of statements."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from casework.models import Role
from figures import selectors
from figures.selectors import Period
from figures.suppression import suppress
from permissions.models import AuditEvent
from tests.factories.cases import ospod_staff

from .conftest import NOW, FiguresWorld, build_world

DASHBOARD = reverse("figures_dashboard")
YEAR: dict[str, Any] = {"year": "2025"}
DASH = "\u2013"  # how a hidden cell is shown


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _sheet(content: bytes) -> Any:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return sheet


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    client.cookies.load({"django_language": "en"})
    return client


def test_the_supervisor_sees_their_authoritys_figures_unsuppressed_with_charts(figures_world: FiguresWorld) -> None:
    response = client_for(figures_world.supervisor).get(DASHBOARD, YEAR)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Protection plans (IPOD)" in body
    assert '<svg role="img"' in body
    assert "<desc id=" in body
    assert "<script" not in body.split("<svg", 1)[1].split("</svg>", 1)[0]
    # The triage table's totals row (3 on time, 1 late, 1 not yet due, 5) is shown as it is, small numbers included.
    assert (
        '<td class="number">3</td><td class="number">1</td><td class="number">1</td><td class="number">5</td>' in body
    )
    assert reverse("figures_late", args=["ipod"]) in body


def test_the_regional_office_sees_its_orps_with_small_numbers_hidden(figures_world: FiguresWorld) -> None:
    response = client_for(figures_world.regional).get(DASHBOARD, YEAR)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Prostějov" in body or "ORP PV" in body
    # Every count of the data set is below 5: no non-zero count is shown, and no drill-down is offered.
    assert reverse("figures_late", args=["ipod"]) not in body
    assert '<td class="number">3</td>' not in body
    assert DASH in body


def test_the_regional_office_filters_one_orp(figures_world: FiguresWorld) -> None:
    response = client_for(figures_world.regional).get(DASHBOARD, {**YEAR, "orp": figures_world.pv.pk})
    assert response.status_code == 200


def _year_field_value(response: Any) -> str | None:
    field = response.content.decode().split('name="year"', 1)[1].split(">", 1)[0]
    return field.split('value="', 1)[1].split('"', 1)[0] if 'value="' in field else None


def test_the_year_field_shows_the_year_the_page_counts_when_none_was_chosen(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.supervisor)
    unchosen = client.get(DASHBOARD)
    assert unchosen.context["period"] == Period.year(2026)  # the current year, Prague time (NOW is 5 Jan 2026)
    assert _year_field_value(unchosen) == "2026"
    # A quarter or an ORP without a year counts in the current year too, and says so.
    quarter = client.get(DASHBOARD, {"quarter": "1", "orp": str(figures_world.om.pk)})
    assert quarter.context["period"] == Period.quarter(2026, 1)
    assert _year_field_value(quarter) == "2026"
    assert _year_field_value(client.get(DASHBOARD, YEAR)) == "2025"
    # A custom period names no year.
    custom = client.get(DASHBOARD, {"since": "2025-03-01", "until": "2025-03-31"})
    assert custom.context["period"].start.isoformat() == "2025-03-01"
    assert _year_field_value(custom) is None


@pytest.mark.parametrize("role", ["ospod_worker", "partner", "dpo"])
def test_other_roles_have_no_statistics(figures_world: FiguresWorld, role: str) -> None:
    from tests.factories.cases import school_partner

    user = {
        "ospod_worker": figures_world.coordinator,
        "partner": school_partner(municipality=figures_world.om),
        "dpo": ospod_staff(figures_world.supervisor.organisation, username="st-x"),  # type: ignore[arg-type]
    }[role]
    if role == "dpo":
        user.role = Role.DPO
        user.save()
    client = client_for(user)
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(reverse("figures_annual_return")).status_code == 403
    assert client.get(reverse("figures_export", args=["cases_opened"])).status_code == 403


def test_the_region_has_no_drill_down_and_no_annual_return(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.regional)
    assert client.get(reverse("figures_late", args=["ipod"]), YEAR).status_code == 403
    assert client.get(reverse("figures_annual_return"), {**YEAR, "orp": figures_world.om.pk}).status_code == 403


def test_drill_down_lists_the_late_references_only(figures_world: FiguresWorld) -> None:
    response = client_for(figures_world.supervisor).get(reverse("figures_late", args=["ipod"]), YEAR)
    assert response.status_code == 200
    body = response.content.decode()
    assert figures_world.cases["c3"].reference in body
    assert figures_world.cases["c5"].reference in body
    assert figures_world.cases["c1"].reference not in body
    assert "Kanarek" not in body


def test_drill_down_pages_by_key(figures_world: FiguresWorld) -> None:
    scope = [figures_world.om.pk]
    first, after = selectors.late_items("ipod", scope, Period.year(2025), after=None, size=1)
    assert first == [figures_world.cases["c5"].reference]  # opened 1 Feb, before c3 (10 Mar)
    second, last = selectors.late_items("ipod", scope, Period.year(2025), after=after, size=1)
    assert second == [figures_world.cases["c3"].reference]
    assert last is None
    client = client_for(figures_world.supervisor)
    page = client.get(reverse("figures_late", args=["ipod"]), YEAR).content.decode()
    assert "after=" not in page  # two late items fit on one page


def test_a_covering_deputy_sees_the_covered_authority(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.foreign_supervisor)
    response = client.get(DASHBOARD, {**YEAR, "orp": figures_world.om.pk})
    # Not covering: the other authority is not among the choices, so the filter is refused and the own one shown.
    assert figures_world.cases["c1"].reference not in response.content.decode()
    assert client.get(reverse("figures_late", args=["ipod"]), {**YEAR, "orp": figures_world.om.pk}).status_code == 200


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_exports_open_and_equal_the_table_and_are_audited(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.supervisor)
    before = AuditEvent.objects.filter(action="export").count()
    table = selectors.triage_times([figures_world.om.pk], Period.year(2025))
    expected = [[str(row.label), *(str(v) for v in row.cells)] for row in table.rows]
    response = client.get(reverse("figures_export", args=["triage_times"]), {**YEAR, "format": "xlsx"})
    assert response.status_code == 200
    sheet = _sheet(response.content)
    values = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == str(table.title)
    assert values[2:] == expected
    response = client.get(reverse("figures_export", args=["triage_times"]), {**YEAR, "format": "csv"})
    assert _csv_rows(response.content)[2:] == expected
    events = AuditEvent.objects.filter(action="export").order_by("seq")
    assert events.count() == before + 2
    assert events.last().object_type == "figures.table"  # type: ignore[union-attr]


def test_the_regions_exports_are_suppressed_like_its_page(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.regional)
    response = client.get(reverse("figures_export", args=["cases_opened"]), {**YEAR, "format": "csv"})
    rows = _csv_rows(response.content)
    published = suppress(selectors.cases_opened([figures_world.om.pk, figures_world.pv.pk], Period.year(2025)))
    assert rows[2:] == [[str(r.label), *(DASH if v is None else str(v) for v in r.cells)] for r in published.rows]
    assert rows[2][1] == DASH  # cases opened on a report in the region: 3, hidden
    assert rows[-1][1] == "5"  # the total stays


def test_the_referrals_export_equals_the_table_and_holds_no_canary(figures_world: FiguresWorld) -> None:
    """The letters, the reasons, the agreements' names and the decline explanations carry "Kanarek" (sealed): the
    table counts statuses only, so neither file holds any of it, nor a case's reference or a referral's number."""
    client = client_for(figures_world.supervisor)
    table = selectors.referrals([figures_world.om.pk], Period.year(2025))
    expected = [[str(row.label), *(str(v) for v in row.cells)] for row in table.rows]
    url = reverse("figures_export", args=["referrals"])
    csv_body = client.get(url, {**YEAR, "format": "csv"}).content
    xlsx_body = client.get(url, {**YEAR, "format": "xlsx"}).content
    assert _csv_rows(csv_body)[2:] == expected
    sheet_rows = [
        [str(c) if c is not None else "" for c in row] for row in _sheet(xlsx_body).iter_rows(values_only=True)
    ]
    assert sheet_rows[2:] == expected
    assert ["total", "2", "1", "2", "1", "1", "1", "8"] in sheet_rows
    text = csv_body.decode("utf-8-sig") + " ".join(" ".join(row) for row in sheet_rows)
    assert "Kanarek" not in text
    for case in figures_world.cases.values():
        assert case.reference not in text
    for referral in figures_world.referrals.values():
        assert str(referral.pk) not in text
        assert referral.number not in text


def test_the_regions_referrals_are_suppressed(figures_world: FiguresWorld) -> None:
    rows = _csv_rows(
        client_for(figures_world.regional)
        .get(reverse("figures_export", args=["referrals"]), {**YEAR, "format": "csv"})
        .content
    )
    both = [figures_world.om.pk, figures_world.pv.pk]
    published = suppress(selectors.referrals(both, Period.year(2025)))
    assert rows[2:] == [[str(r.label), *(DASH if v is None else str(v) for v in r.cells)] for r in published.rows]
    assert rows[-1][-1] == "9"  # all referrals sent in the region: shown
    # Every outcome of every type is below 5 there: hidden; SAS's 5 referrals sent (4 + the other ORP's 1) stay.
    assert all(cell in ("0", DASH) for row in rows[2:-1] for cell in row[1:-1])
    assert {row[0]: row[-1] for row in rows}["social activation services for families with children"] == "5"


def test_the_annual_return_matches_the_tables_and_opens_with_openpyxl(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.supervisor)
    page = client.get(reverse("figures_annual_return"), {**YEAR, "orp": figures_world.om.pk})
    assert page.status_code == 200
    response = client.get(reverse("figures_annual_return"), {**YEAR, "orp": figures_world.om.pk, "format": "xlsx"})
    assert response.status_code == 200
    rows = {str(row[0]): row[2:] for row in _sheet(response.content).iter_rows(values_only=True) if row and row[0]}
    assert rows["101"][0] == 5  # reports received
    assert rows["207"][:4] == (2, 1, 0, 3)  # children in the register on 31 Dec: boys, girls, unknown, total
    assert rows["301"][0] == 4
    assert rows["302"][0] == 2
    assert rows["401"][0] == 3
    assert rows["403"][0] == 3
    assert rows["404"][0] == 2
    assert rows["405"][0] == 2
    assert rows["501"][:2] == (1, 1)
    assert rows["502"][:2] == (1, 0)
    assert rows["601"][0] == 3
    assert rows["602"][0] == 1
    csv_rows = _csv_rows(
        client.get(reverse("figures_annual_return"), {**YEAR, "orp": figures_world.om.pk, "format": "csv"}).content
    )
    assert ["301", "case files opened", "4"] in csv_rows
    assert AuditEvent.objects.filter(object_type="figures.annual_return").count() == 2


def test_no_protected_value_in_any_page_or_export(figures_world: FiguresWorld) -> None:
    client = client_for(figures_world.supervisor)
    bodies = [client.get(DASHBOARD, YEAR).content]
    for key in [f.__name__ for f in selectors.FIGURES]:
        for fmt in ("csv", "xlsx"):
            bodies.append(client.get(reverse("figures_export", args=[key]), {**YEAR, "format": fmt}).content)
    for fmt in ("csv", "xlsx"):
        bodies.append(
            client.get(reverse("figures_annual_return"), {**YEAR, "orp": figures_world.om.pk, "format": fmt}).content
        )
    workbook_text = []
    for body in bodies:
        if body[:2] == b"PK":
            for row in _sheet(body).iter_rows(values_only=True):
                workbook_text.append(" ".join(str(c) for c in row if c is not None))
    text = b" ".join(bodies).decode("utf-8", "replace") + " ".join(workbook_text)
    assert "Kanarek" not in text
    assert "Nováková" not in text
    assert "Třída Svobody" not in text
    for case in figures_world.cases.values():
        assert case.reference not in text


def _dashboard_statements(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(DASHBOARD, YEAR).status_code == 200
    return len(queries)


def test_the_dashboard_reads_the_same_number_of_statements_at_two_data_sizes(db: None) -> None:
    world = build_world()
    client = client_for(world.supervisor)
    small = _dashboard_statements(client)
    build_more(world)
    assert _dashboard_statements(client) == small
    # 22 before the referrals figure; it adds one statement (its counts grouped in SQL, whatever the data size).
    assert small == 23


def build_more(world: FiguresWorld) -> None:
    """Twice the reports and more cases of the same shapes, with referrals of every outcome."""
    import datetime

    from casework.models import NotifierKind, OpenReason
    from services.referrals.models import DeclineReason

    from .conftest import _open, answer, make_report, refer

    for index in range(4):
        make_report(world, f"2025-0{index + 2}-10 09:00", NotifierKind.SCHOOL, urgent=False)
        _open(
            world,
            f"x{index}",
            f"2025-0{index + 2}-11 09:00",
            born=datetime.date(2016, 1, 1 + index),
            female=bool(index % 2),
            reason=OpenReason.REPORT,
        )
        refer(world, f"x{index}", f"x{index}", "sas1", f"2025-0{index + 2}-12 09:00")
        refer(world, f"y{index}", f"x{index}", "counselling", f"2025-0{index + 2}-12 10:00")
        answer(world, f"y{index}", f"2025-0{index + 2}-13 09:00", "decline", DeclineReason.NO_CAPACITY)
    answer(world, "x0", "2025-06-01 09:00", "accept")
    answer(world, "x1", "2025-06-01 09:00", "waitlist")


def test_the_regional_office_opens_no_case_child_or_report_page(figures_world: FiguresWorld) -> None:
    """Beside the access matrix (every case URL): the register, the reports and the lists are closed to it too."""
    client = client_for(figures_world.regional)
    case = figures_world.cases["c1"]
    report = figures_world.reports["r1"]
    refused = {
        reverse("case_detail", args=[case.pk]): (404,),
        reverse("child_detail", args=[case.child_id]): (403, 404),
        reverse("report_detail", args=[report.pk]): (403, 404),
        reverse("case_list"): (403,),
        reverse("child_search"): (403,),
        reverse("report_list"): (403, 404),
        reverse("report_create"): (403,),
        reverse("inbox"): (403,),
    }
    for url, statuses in refused.items():
        assert client.get(url).status_code in statuses, url
    # Its home is the statistics.
    assert client.get("/").url == DASHBOARD  # type: ignore[attr-defined]
