"""The figures: aggregates over non-protected columns only (docs/statistics.md, docs/adr/0030).

Every function takes the authorities in scope (ORP ids) and a :class:`Period` and returns a :class:`Table` — labels
and counts, never a reference, a name or any sealed value. Each reads a fixed number of statements whatever the data
size: counts are grouped in SQL; where a legal deadline decides (a month rolled to a working day, Czech holidays),
the selector reads the few date columns it needs and measures them with ``workflows.deadlines``, the same functions
the flows set their due dates with.
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from casework.models import (
    APPROVED_STATUSES,
    HELD_STATUSES,
    Case,
    Child,
    ChildSex,
    CloseReason,
    Conference,
    CourtPetition,
    Municipality,
    NotifierKind,
    OpenReason,
    PetitionFiler,
    PetitionKind,
    Plan,
    Report,
    Sector,
)
from services.models import ServiceType
from services.referrals.models import DeclineReason, ReferralStatus
from workflows.deadlines import PRAGUE, feedback_due, ipod_due, triage_due
from workflows.models import AuthoritySettings, Deadline

Label = str | Promise


@dataclass(frozen=True)
class Period:
    """A half-open span of Prague calendar days: ``start`` ≤ day < ``end``."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError("a quarter is 1 to 4")
        first = datetime.date(year, 3 * quarter - 2, 1)
        last_month = 3 * quarter
        last = datetime.date(year, last_month, calendar.monthrange(year, last_month)[1])
        return cls(first, last + datetime.timedelta(days=1))

    @property
    def since(self) -> datetime.datetime:
        return datetime.datetime.combine(self.start, datetime.time.min, tzinfo=PRAGUE)

    @property
    def until(self) -> datetime.datetime:
        return datetime.datetime.combine(self.end, datetime.time.min, tzinfo=PRAGUE)

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def q(self, column: str) -> Q:
        """The rows whose ``column`` (a timestamp) falls in the period."""
        return Q(**{f"{column}__gte": self.since, f"{column}__lt": self.until})


@dataclass(frozen=True)
class Row:
    label: Label
    cells: tuple[int | None, ...]
    #: A row that is the sum of the others (kept by suppression as a total, see ``figures.suppression``).
    is_total: bool = False


@dataclass(frozen=True)
class Table:
    """One figure: a title, column headers and rows of counts (``None`` = suppressed, shown as "-")."""

    key: str
    title: Label
    columns: tuple[Label, ...]
    rows: tuple[Row, ...]
    #: The last row sums the rows above it / the last column sums the columns before it (suppression relies on it).
    total_row: bool = False
    total_column: bool = False
    note: Label = ""
    #: Columns that are not counts of children or cases (a median, a share): never suppressed, never summed.
    measure_columns: frozenset[int] = field(default_factory=frozenset)

    def value(self, row: int, column: int) -> int | None:
        return self.rows[row].cells[column]


def _with_totals(
    key: str,
    title: Label,
    columns: Sequence[Label],
    data: Sequence[tuple[Label, Sequence[int]]],
    *,
    note: Label = "",
    total_label: Label | None = None,
) -> Table:
    """A table with a "total" column after ``columns`` (when there are several; headed ``total_label``, by default
    "total") and a "total" row after ``data``."""
    several = len(columns) > 1
    rows = [Row(label, (*cells, sum(cells)) if several else tuple(cells)) for label, cells in data]
    width = len(columns) + 1 if several else len(columns)
    totals = tuple(sum(row.cells[i] or 0 for row in rows) for i in range(width))
    return Table(
        key=key,
        title=title,
        columns=(*columns, total_label or _("total")) if several else tuple(columns),
        rows=(*rows, Row(_("total"), totals, is_total=True)),
        note=note,
        total_row=True,
        total_column=several,
    )


def authorities(ids: Iterable[int]) -> QuerySet[Municipality]:
    return Municipality.objects.filter(pk__in=list(ids)).order_by("name")


# --- Reports and triage ---------------------------------------------------------------------------------------------


def reports_by_source(scope: Sequence[int], period: Period) -> Table:
    """Reports received in the period, by who reported (the source sector) and by the triage's urgency."""
    counts: Counter[tuple[str, bool | None]] = Counter()
    for kind, urgent, n in (
        Report.objects.filter(period.q("received_at"), municipality_id__in=scope)
        .values("notifier_kind", "urgent")
        .annotate(n=Count("pk"))
        .values_list("notifier_kind", "urgent", "n")
    ):
        counts[(kind, urgent)] += n
    data = [
        (kind.label, [counts[(kind.value, True)], counts[(kind.value, False)], counts[(kind.value, None)]])
        for kind in NotifierKind
    ]
    return _with_totals(
        "reports_by_source",
        _("Reports received, by source and urgency"),
        [_("urgent"), _("standard"), _("not yet triaged")],
        data,
    )


@dataclass(frozen=True)
class _Measured:
    """One deadline measured: the row's reference (for the supervisors' drill-down only) and its outcome."""

    reference: str
    key: tuple[datetime.datetime, uuid.UUID]
    on_time: bool | None  # None: not done and not yet due


def _outcome(done: datetime.datetime | None, due: datetime.datetime, now: datetime.datetime) -> bool | None:
    """On time (True), late — done late, or not done and past due — (False), or not yet due (None)."""
    if done is not None:
        return done <= due
    return False if due < now else None


def _triage_rows(scope: Sequence[int], period: Period, now: datetime.datetime) -> list[tuple[bool | None, _Measured]]:
    settings_by_authority = {s.municipality_id: s for s in AuthoritySettings.objects.filter(municipality_id__in=scope)}
    measured = []
    for pk, reference, authority, received, decided, urgent in (
        Report.objects.filter(period.q("received_at"), municipality_id__in=scope)
        .order_by("received_at", "pk")
        .values_list("pk", "reference", "municipality_id", "received_at", "decided_at", "urgent")
    ):
        times = settings_by_authority.get(authority) or AuthoritySettings(municipality_id=authority)
        due = triage_due(received, bool(urgent), times)
        measured.append((urgent, _Measured(reference, (received, pk), _outcome(decided, due, now))))
    return measured


def triage_times(scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> Table:
    """Reports received in the period by the triage's urgency: triaged within the authority's time (urgent: hours,
    standard: days rolled to a working day), late (or still waiting past it), not yet due. An untriaged report is
    counted as standard (its urgency is not decided yet)."""
    now = now or timezone.now()
    rows = _triage_rows(scope, period, now)
    counts: Counter[tuple[bool, bool | None]] = Counter((bool(urgent), m.on_time) for urgent, m in rows)
    data = []
    for urgent, label in ((True, _("urgent")), (False, _("standard"))):
        data.append((label, [counts[(urgent, True)], counts[(urgent, False)], counts[(urgent, None)]]))
    return _with_totals(
        "triage_times",
        _("Urgency triage within the authority's time"),
        [_("within the time"), _("late"), _("not yet due")],
        data,
        note=_("Reports received in the period and triaged; untriaged reports appear once their time has passed."),
    )


# --- Cases ----------------------------------------------------------------------------------------------------------


def cases_opened(scope: Sequence[int], period: Period) -> Table:
    counts = dict(
        Case.objects.filter(period.q("opened_at"), municipality_id__in=scope)
        .values("open_reason")
        .annotate(n=Count("pk"))
        .values_list("open_reason", "n")
    )
    return _with_totals(
        "cases_opened",
        _("Cases opened, by reason"),
        [_("cases")],
        [(reason.label, [counts.get(reason.value, 0)]) for reason in OpenReason],
    )


def cases_closed(scope: Sequence[int], period: Period) -> Table:
    counts = dict(
        Case.objects.filter(period.q("closed_at"), municipality_id__in=scope)
        .values("close_reason")
        .annotate(n=Count("pk"))
        .values_list("close_reason", "n")
    )
    return _with_totals(
        "cases_closed",
        _("Cases closed, by reason"),
        [_("cases")],
        [(reason.label, [counts.get(reason.value, 0)]) for reason in CloseReason],
    )


#: Age bands (the age reached in the period's last calendar year: that year minus the year of birth).
AGE_BANDS: tuple[tuple[int, int, Label], ...] = (
    (0, 2, _("0-2 years")),
    (3, 5, _("3-5 years")),
    (6, 14, _("6-14 years")),
    (15, 17, _("15-17 years")),
    (18, 200, _("18 years and older")),
)


def age_band(birth_year: int | None, year: int) -> int | None:
    """The index of the age band, or None when the year of birth is not known."""
    if not birth_year:
        return None
    age = year - birth_year
    for index, (low, high, _label) in enumerate(AGE_BANDS):
        if low <= age <= high:
            return index
    return None


def children_in_register(scope: Sequence[int], period: Period) -> Table:
    """Children with an open case on the period's last day, by age band and sex (derived at registration)."""
    cutoff = period.until
    counts = Counter(
        (age_band(birth_year, period.last_day.year), sex)
        for birth_year, sex in Child.objects.filter(
            Q(cases__closed_at__isnull=True) | Q(cases__closed_at__gte=cutoff),
            cases__municipality_id__in=scope,
            cases__opened_at__lt=cutoff,
        )
        .distinct()
        .values_list("birth_year", "sex")
    )
    bands: list[tuple[int | None, Label]] = [(i, label) for i, (_l, _h, label) in enumerate(AGE_BANDS)]
    bands.append((None, _("age not known")))
    sexes = (ChildSex.MALE, ChildSex.FEMALE, ChildSex.UNKNOWN)
    return _with_totals(
        "children_in_register",
        _("Children in the register at the end of the period, by age and sex"),
        [_("boys"), _("girls"), _("sex not known")],
        [(label, [counts[(band, sex.value)] for sex in sexes]) for band, label in bands],
        note=_("Age: the year of the period's end minus the year of birth. Sex: from the birth number."),
    )


def conferences_held(scope: Sequence[int], period: Period) -> Table:
    held = Conference.objects.filter(
        period.q("held_at"), case__municipality_id__in=scope, status__in=HELD_STATUSES
    ).aggregate(n=Count("pk"), cases=Count("case", distinct=True))
    return Table(
        key="conferences_held",
        title=_("Case conferences held"),
        columns=(_("conferences"), _("cases")),
        rows=(Row(_("held in the period"), (held["n"], held["cases"])),),
    )


def _first_plans(scope: Sequence[int], period: Period) -> list[tuple[str, datetime.datetime, str, datetime.datetime]]:
    """(case reference, case opened, case id, first approval) for cases whose first IPOD was approved in the period."""
    firsts = (
        Plan.objects.filter(case__municipality_id__in=scope, status__in=APPROVED_STATUSES, approved_at__isnull=False)
        .values("case_id")
        .annotate(first=Min("approved_at"))
        .filter(first__gte=period.since, first__lt=period.until)
        .values_list("case__reference", "case__opened_at", "case_id", "first")
        .order_by("case__opened_at", "case_id")
    )
    return [(ref, opened, str(case_id), first) for ref, opened, case_id, first in firsts]


def ipod_measured(scope: Sequence[int], period: Period, now: datetime.datetime) -> list[_Measured]:
    """Every IPOD due in the period (one month after the case opened): made on time, late, or missing past due."""
    measured = []
    # Cases whose plan fell due in the period: opened within a month before the period and up to its end.
    window = Period(period.start - datetime.timedelta(days=40), period.end)
    rows = (
        Case.objects.filter(window.q("opened_at"), municipality_id__in=scope)
        .annotate(
            first=Min(
                "plans__approved_at",
                filter=Q(plans__status__in=APPROVED_STATUSES),
            )
        )
        .order_by("opened_at", "pk")
        .values_list("pk", "reference", "opened_at", "first", "closed_at")
    )
    for pk, reference, opened, first, closed in rows:
        due = ipod_due(opened)
        if not (period.since <= due < period.until):
            continue
        if first is not None:
            on_time: bool | None = first <= due
        elif closed is not None and closed <= due:
            continue  # closed before a plan was due: nothing was owed
        else:
            on_time = False if due < now else None
        measured.append(_Measured(reference, (opened, pk), on_time))
    return measured


def ipods(scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> Table:
    """IPODs made (first version approved) in the period, and IPODs due in the period by the one-month limit."""
    now = now or timezone.now()
    made = _first_plans(scope, period)
    made_on_time = sum(1 for _r, opened, _c, first in made if first <= ipod_due(opened))
    due = Counter(m.on_time for m in ipod_measured(scope, period, now))
    return Table(
        key="ipods",
        title=_("Protection plans (IPOD)"),
        columns=(_("plans"),),
        rows=(
            Row(_("made in the period (first version approved)"), (len(made),)),
            Row(_("of which within one month of the case opening"), (made_on_time,)),
            Row(_("due in the period: made within one month"), (due[True],)),
            Row(_("due in the period: late or missing"), (due[False],)),
            Row(_("due in the period: not yet due"), (due[None],)),
        ),
    )


def reviews_held(scope: Sequence[int], period: Period) -> Table:
    """Reviews: plan versions after the first, approved in the period (each review makes a new version)."""
    held = Plan.objects.filter(
        period.q("approved_at"), case__municipality_id__in=scope, status__in=APPROVED_STATUSES, version__gt=1
    ).aggregate(n=Count("pk"), cases=Count("case", distinct=True))
    return Table(
        key="reviews_held",
        title=_("Plan reviews held"),
        columns=(_("reviews"), _("cases")),
        rows=(Row(_("approved new versions of a plan"), (held["n"], held["cases"])),),
    )


def feedback_measured(scope: Sequence[int], period: Period, now: datetime.datetime) -> list[_Measured]:
    """Feedback a mandated notifier asked for, for reports received in the period: sent within 30 days or not."""
    measured = []
    for pk, reference, received, sent in (
        Report.objects.filter(period.q("received_at"), municipality_id__in=scope, feedback_requested=True)
        .order_by("received_at", "pk")
        .values_list("pk", "reference", "received_at", "feedback_sent_at")
    ):
        due = feedback_due(received)
        on_time = _outcome(sent, due, now)
        measured.append(_Measured(reference, (received, pk), on_time))
    return measured


def feedback(scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> Table:
    now = now or timezone.now()
    counts = Counter(m.on_time for m in feedback_measured(scope, period, now))
    return Table(
        key="feedback",
        title=_("Feedback to mandated notifiers (§ 10(4))"),
        columns=(_("reports"),),
        rows=(
            Row(_("answered within 30 days"), (counts[True],)),
            Row(_("answered late or not answered past 30 days"), (counts[False],)),
            Row(_("not yet due"), (counts[None],)),
            Row(_("total"), (sum(counts.values()),), is_total=True),
        ),
        total_row=True,
    )


def court_petitions(scope: Sequence[int], period: Period) -> Table:
    """Court petitions recorded on a case in the period (``CourtPetition``), by kind and by who filed them."""
    counts: Counter[tuple[str, bool]] = Counter()
    for kind, filed_by, n in (
        CourtPetition.objects.filter(period.q("recorded_at"), case__municipality_id__in=scope)
        .values("kind", "filed_by")
        .annotate(n=Count("pk"))
        .values_list("kind", "filed_by", "n")
    ):
        counts[(kind, filed_by == PetitionFiler.AUTHORITY)] += n  # parents, prosecutors and others sum into one
    return _with_totals(
        "court_petitions",
        _("Court petitions"),
        [_("filed by the authority"), _("filed by others")],
        [(kind.label, [counts[(kind.value, True)], counts[(kind.value, False)]]) for kind in PetitionKind],
    )


#: The outcome columns of ``referrals``: (label, the referral's status and decline category). Each referral is in
#: exactly one: its status now (the decline category splits the declined).
REFERRAL_OUTCOMES: tuple[tuple[Label, dict[str, object]], ...] = (
    (pgettext_lazy("referral outcome", "accepted"), {"status": ReferralStatus.ACCEPTED}),
    (pgettext_lazy("referral outcome", "on the waiting list"), {"status": ReferralStatus.WAITING}),
    (
        pgettext_lazy("referral outcome", "declined: no capacity"),
        {"status": ReferralStatus.DECLINED, "decline_reason": DeclineReason.NO_CAPACITY},
    ),
    (
        pgettext_lazy("referral outcome", "declined: another reason"),
        {
            "status": ReferralStatus.DECLINED,
            "decline_reason__in": [r for r in DeclineReason.values if r != DeclineReason.NO_CAPACITY],
        },
    ),
    (pgettext_lazy("referral outcome", "withdrawn"), {"status": ReferralStatus.WITHDRAWN}),
    (pgettext_lazy("referral outcome", "still pending"), {"status": ReferralStatus.SENT}),
)


def referrals(scope: Sequence[int], period: Period) -> Table:
    """Referrals to services sent in the period from the authorities' cases, by the service's type and by where each
    stands now: accepted, on the waiting list, declined for lack of capacity or for another reason, withdrawn, still
    pending (sent, not yet answered); the last column ("sent") is their sum. Rows: every offered service type, and a
    retired one only when it has referrals in the period, in the directory's order.

    One statement: the service types left-joined to their services' referrals, counted conditionally in SQL. Only the
    referrals' status, decline category, sending time and case's authority are read — never the sealed letter or
    explanation."""
    sent = period.q("services__referrals__sent_at") & Q(services__referrals__case__municipality_id__in=scope)
    outcomes = {
        f"outcome_{index}": Count(
            "services__referrals",
            filter=sent & Q(**{f"services__referrals__{name}": value for name, value in where.items()}),
        )
        for index, (_label, where) in enumerate(REFERRAL_OUTCOMES)
    }
    rows = (
        ServiceType.objects.annotate(sent=Count("services__referrals", filter=sent), **outcomes)
        .filter(Q(is_active=True) | Q(sent__gt=0))
        .order_by("position", "name_cs", "pk")
    )
    return _with_totals(
        "referrals",
        _("Referrals to services, by service type and outcome"),
        [label for label, _where in REFERRAL_OUTCOMES],
        [(row.name, [getattr(row, key) for key in outcomes]) for row in rows],
        total_label=pgettext_lazy("referral outcome", "sent"),
        note=_(
            "Referrals sent in the period, by where they stand now. Still pending: sent and not yet answered by the "
            "provider; on the waiting list: the provider expects to start later."
        ),
    )


def _sector_of(owner_sector: str | None, organisation_sector: str | None) -> str:
    # An unowned item waits in the authority's queue: OSPOD's.
    return owner_sector or organisation_sector or Sector.OSPOD


def tasks_by_sector(scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> Table:
    """Open tasks (deadlines not done) at the period's end — or now, for a period not over — and of them overdue."""
    now = now or timezone.now()
    at = min(now, period.until)
    counts: Counter[tuple[str, bool]] = Counter()
    for owner_sector, organisation_sector, overdue, n in (
        Deadline.objects.filter(Q(done_at__isnull=True) | Q(done_at__gte=at), municipality_id__in=scope)
        .filter(created_at__lt=at)
        .values("owner__organisation__sector", "owner_organisation__sector")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_at__lt=at)))
        .values_list("owner__organisation__sector", "owner_organisation__sector", "late", "n")
    ):
        sector = _sector_of(owner_sector, organisation_sector)
        counts[(sector, True)] += overdue
        counts[(sector, False)] += n - overdue
    return _with_totals(
        "tasks_by_sector",
        _("Open tasks at the end of the period, by sector"),
        [_("on time"), _("overdue")],
        [(sector.label, [counts[(sector.value, False)], counts[(sector.value, True)]]) for sector in Sector],
    )


# --- Deadline compliance (KPIs) ---------------------------------------------------------------------------------


KPI_KINDS: dict[str, Label] = {
    "ipod": _("IPOD within one month of the case opening"),
    "feedback": _("Feedback within 30 days"),
    "triage": _("Urgency triage within the authority's time"),
}


def measured(kind: str, scope: Sequence[int], period: Period, now: datetime.datetime) -> list[_Measured]:
    if kind == "ipod":
        return ipod_measured(scope, period, now)
    if kind == "feedback":
        return feedback_measured(scope, period, now)
    if kind == "triage":
        return [m for _urgent, m in _triage_rows(scope, period, now)]
    raise KeyError(kind)


def compliance(scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> Table:
    """The legal and standard deadlines as KPIs: items due in the period, on time, late, and the share on time (%)."""
    now = now or timezone.now()
    rows = []
    for kind, label in KPI_KINDS.items():
        counts = Counter(m.on_time for m in measured(kind, scope, period, now))
        decided = counts[True] + counts[False]
        share = round(100 * counts[True] / decided) if decided else None
        rows.append(Row(label, (counts[True], counts[False], counts[None], share)))
    return Table(
        key="compliance",
        title=_("Deadline compliance"),
        columns=(_("on time"), _("late"), _("not yet due"), _("on time (per cent)")),
        rows=tuple(rows),
        measure_columns=frozenset({3}),
    )


def late_items(
    kind: str, scope: Sequence[int], period: Period, *, after: tuple[datetime.datetime, uuid.UUID] | None, size: int
) -> tuple[list[str], tuple[datetime.datetime, uuid.UUID] | None]:
    """The references of the late items of one KPI, in the order received/opened, ``size`` after the key ``after``;
    and the key of the last one when there is a next page. References only: nothing of the file."""
    late = [m for m in measured(kind, scope, period, timezone.now()) if m.on_time is False]
    if after is not None:
        late = [m for m in late if m.key > after]
    page = late[: size + 1]
    more = len(page) > size
    page = page[:size]
    return [m.reference for m in page], (page[-1].key if more and page else None)


#: Every figure of the dashboard, in its order.
FIGURES: tuple[Callable[..., Table], ...] = (
    compliance,
    reports_by_source,
    triage_times,
    cases_opened,
    cases_closed,
    children_in_register,
    conferences_held,
    ipods,
    reviews_held,
    feedback,
    court_petitions,
    referrals,
    tasks_by_sector,
)

#: Figures that take the clock (deadline measured against now).
_TAKES_NOW = frozenset({compliance, triage_times, ipods, feedback, tasks_by_sector})


def all_figures(scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> list[Table]:
    now = now or timezone.now()
    return [fig(scope, period, now) if fig in _TAKES_NOW else fig(scope, period) for fig in FIGURES]


def figure(key: str, scope: Sequence[int], period: Period, now: datetime.datetime | None = None) -> Table:
    now = now or timezone.now()
    for fig in FIGURES:
        if fig.__name__ == key:
            return fig(scope, period, now) if fig in _TAKES_NOW else fig(scope, period)
    raise KeyError(key)
