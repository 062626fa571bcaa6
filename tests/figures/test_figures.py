"""Each figure against the counts worked out by hand from the fixed data set (tests/figures/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from casework.models import Child
from figures import selectors
from figures.selectors import Period, Table
from services.models import ServiceType

from .conftest import NOW, FiguresWorld

Y2025 = Period.year(2025)


def cells(table: Table) -> list[tuple[int | None, ...]]:
    return [row.cells for row in table.rows]


@pytest.fixture
def scope(figures_world: FiguresWorld) -> list[int]:
    return [figures_world.om.pk]


def test_children_get_year_of_birth_and_sex_at_registration(figures_world: FiguresWorld) -> None:
    c3 = Child.objects.get(pk=figures_world.cases["c3"].child_id)
    c4 = Child.objects.get(pk=figures_world.cases["c4"].child_id)
    assert (c3.birth_year, c3.sex) == (2009, "F")
    assert (c4.birth_year, c4.sex) == (2025, "M")


def test_reports_by_source_and_urgency_count_the_year_by_prague_time(scope: list[int]) -> None:
    table = selectors.reports_by_source(scope, Y2025)
    by_label = {str(row.label): row.cells for row in table.rows}
    # columns: urgent, standard, not yet triaged, total
    assert by_label["school or school facility (§ 10(4))"] == (0, 2, 0, 2)  # r1, r5 (received 31 Dec 23:30)
    assert by_label["health-care provider (§ 10(4))"] == (1, 0, 0, 1)
    assert by_label["state body, e.g. the police (§ 10(4))"] == (1, 0, 0, 1)
    assert by_label["another person, e.g. a relative or a neighbour"] == (0, 0, 1, 1)
    assert by_label["anonymous"] == (0, 0, 0, 0)  # r4 came on 31 Dec 2024
    assert table.rows[-1].cells == (2, 2, 1, 5)


def test_triage_times_by_the_authoritys_limits(scope: list[int]) -> None:
    table = selectors.triage_times(scope, Y2025, NOW)
    # urgent: r6 within 4 h, r2 after 25 h; standard: r1 and r5 within 7 days, r3 not yet due on 5 Jan 2026.
    assert cells(table) == [(1, 1, 0, 2), (2, 0, 1, 3), (3, 1, 1, 5)]


def test_cases_opened_and_closed_by_reason(scope: list[int]) -> None:
    opened = {str(row.label): row.cells[0] for row in selectors.cases_opened(scope, Y2025).rows}
    assert opened["report (oznámení) under § 10(4)"] == 2  # c2 (1 Jan 00:30), c5; not c1 (31 Dec 2024 23:30)
    assert opened["OSPOD's own finding"] == 1
    assert opened["court or prosecutor"] == 1  # c4, 31 Dec 2025 23:59
    assert opened["total"] == 4
    closed = {str(row.label): row.cells[0] for row in selectors.cases_closed(scope, Y2025).rows}
    assert closed["the plan's goals were met; the child is no longer at risk"] == 1
    assert closed["the family moved to another authority's area"] == 1
    assert closed["other reason"] == 0  # c4 closed in 2026
    assert closed["total"] == 2


def test_children_in_register_at_the_years_end_by_age_band_and_sex(scope: list[int]) -> None:
    table = selectors.children_in_register(scope, Y2025)
    # c1 girl born 2014 (11: 6-14), c2 boy born 2022 (3: 3-5), c4 boy born 2025 (0: 0-2; closed only in 2026).
    # columns: boys, girls, not known, total
    assert cells(table) == [
        (1, 0, 0, 1),
        (1, 0, 0, 1),
        (0, 1, 0, 1),
        (0, 0, 0, 0),
        (0, 0, 0, 0),
        (0, 0, 0, 0),
        (2, 1, 0, 3),
    ]


def test_conferences_held_in_the_year(scope: list[int]) -> None:
    assert cells(selectors.conferences_held(scope, Y2025)) == [(3, 2)]


def test_ipods_made_and_within_one_month_with_the_working_day_roll(scope: list[int]) -> None:
    table = selectors.ipods(scope, Y2025, NOW)
    # made: c1, c2, c3; within a month: c1, c2 (its due date, a Saturday, rolled to Monday 3 Feb).
    # due in 2025: c1, c2 on time; c3 late, c5 never made (late).
    assert cells(table) == [(3,), (2,), (2,), (2,), (0,)]


def test_reviews_are_later_plan_versions_approved_in_the_year(scope: list[int]) -> None:
    assert cells(selectors.reviews_held(scope, Y2025)) == [(2, 2)]


def test_feedback_within_30_days(scope: list[int]) -> None:
    # r1 sent on day 29, r2 on day 54, r5 (31 Dec) due on 30 Jan 2026.
    assert cells(selectors.feedback(scope, Y2025, NOW)) == [(1,), (1,), (1,), (3,)]


def test_court_petitions_by_kind_and_filer(scope: list[int]) -> None:
    # § 14(1): the authority's (c1) and a parent's (c2); § 16: the authority's (c3); the 2024 one is not counted.
    assert cells(selectors.court_petitions(scope, Y2025)) == [(1, 1, 2), (1, 0, 1), (2, 1, 3)]


def test_open_and_overdue_tasks_by_sector_at_the_years_end(scope: list[int]) -> None:
    table = selectors.tasks_by_sector(scope, Y2025, NOW)
    by_label = {str(row.label): row.cells for row in table.rows}
    # columns: on time, overdue, total
    assert by_label["OSPOD"] == (1, 1, 2)
    assert by_label["School"] == (1, 0, 1)
    assert by_label["Health"] == (0, 0, 0)
    assert by_label["Social service"] == (0, 1, 1)
    assert table.rows[-1].cells == (2, 2, 4)


SAS = "social activation services for families with children"
COUNSELLING = "specialised social counselling"
NZDM = "low-threshold facility for children and youth"


def test_referrals_by_service_type_and_outcome_count_the_year_by_prague_time(scope: list[int]) -> None:
    table = selectors.referrals(scope, Y2025)
    assert [str(c) for c in table.columns] == [
        "accepted",
        "on the waiting list",
        "declined: no capacity",
        "declined: another reason",
        "withdrawn",
        "still pending",
        "sent",
    ]
    assert (table.total_row, table.total_column) == (True, True)
    by_label = {str(row.label): row.cells for row in table.rows}
    # "j" was answered only in 2026 and counts as accepted (where it stands now); "i" was sent on 31 Dec at 23:50.
    assert by_label[SAS] == (2, 1, 1, 0, 0, 0, 4)
    assert by_label[COUNSELLING] == (0, 0, 1, 1, 0, 0, 2)  # "f" waited first, then was declined for no capacity
    assert by_label[NZDM] == (0, 0, 0, 0, 1, 1, 2)
    assert table.rows[-1].cells == (2, 1, 2, 1, 1, 1, 8)
    assert table.rows[-1].is_total
    # Every offered service type has its row, zeros included, in the directory's order.
    offered = list(ServiceType.objects.filter(is_active=True).order_by("position", "name_cs"))
    assert [str(row.label) for row in table.rows[:-1]] == [t.name for t in offered]
    assert all(not any(cells) for label, cells in by_label.items() if label not in (SAS, COUNSELLING, NZDM, "total"))


def test_referrals_either_side_of_the_year_and_of_another_authority(figures_world: FiguresWorld) -> None:
    om, pv = [figures_world.om.pk], [figures_world.pv.pk]

    def counted(scope: list[int], period: Period) -> dict[str, tuple[int | None, ...]]:
        table = selectors.referrals(scope, period)
        return {str(row.label): row.cells for row in table.rows if any(row.cells)}

    # "a" sent on 31 Dec 2024 at 23:40 Prague (22:40 UTC), accepted in 2025.
    assert counted(om, Period.year(2024)) == {SAS: (1, 0, 0, 0, 0, 0, 1), "total": (1, 0, 0, 0, 0, 0, 1)}
    # "h" sent on 1 Jan 2026 at 00:10 Prague (31 Dec 23:10 UTC), not answered.
    assert counted(om, Period.year(2026)) == {NZDM: (0, 0, 0, 0, 0, 1, 1), "total": (0, 0, 0, 0, 0, 1, 1)}
    assert counted(pv, Y2025) == {SAS: (0, 0, 0, 0, 0, 1, 1), "total": (0, 0, 0, 0, 0, 1, 1)}
    assert counted([*om, *pv], Y2025)["total"] == (2, 1, 2, 1, 1, 2, 9)


def test_a_retired_service_type_keeps_its_row_only_while_it_has_referrals(scope: list[int]) -> None:
    ServiceType.objects.filter(code__in=["counselling", "crisis"]).update(is_active=False)
    labels = [str(row.label) for row in selectors.referrals(scope, Y2025).rows]
    assert COUNSELLING in labels
    assert "crisis help" not in labels


def test_referrals_read_one_statement(scope: list[int], django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        selectors.referrals(scope, Y2025)


def test_compliance_kpis(scope: list[int]) -> None:
    # ipod 2 on time / 2 late; feedback 1 / 1 / 1 not yet due; triage 3 / 1 / 1.
    assert cells(selectors.compliance(scope, Y2025, NOW)) == [(2, 2, 0, 50), (1, 1, 1, 50), (3, 1, 1, 75)]


def test_another_authoritys_rows_count_only_in_its_own_scope(figures_world: FiguresWorld) -> None:
    foreign = [figures_world.pv.pk]
    assert selectors.cases_opened(foreign, Y2025).rows[-1].cells == (1,)
    assert selectors.reports_by_source(foreign, Y2025).rows[-1].cells == (0, 0, 1, 1)
    both = [figures_world.om.pk, figures_world.pv.pk]
    assert selectors.conferences_held(both, Y2025).rows[0].cells == (4, 3)


def test_a_quarter_is_its_three_months(scope: list[int]) -> None:
    q1 = Period.quarter(2025, 1)
    assert (q1.start.isoformat(), q1.last_day.isoformat()) == ("2025-01-01", "2025-03-31")
    # Q1: c2, c3, c5 opened.
    assert selectors.cases_opened(scope, q1).rows[-1].cells == (3,)
