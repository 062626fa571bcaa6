"""Statistics pages: the dashboard (an authority's or a region's), exports of each table, the drill-down from a
deadline KPI to late references, and the annual return. Who sees what: ``permissions.policy`` ("Statistics")."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from casework.models import Municipality, User
from casework.paging import PAGE_SIZE, cursor_for, parse_cursor
from casework.views import shell_page
from figures import annual_return, exports, selectors
from figures.charts import bar_chart
from figures.selectors import Period, Table
from figures.suppression import suppress
from permissions.access import supervised_authorities
from permissions.policy import (
    Subject,
    figures_suppressed,
    may_export_annual_return,
    may_see_late_items,
    may_see_region_figures,
)

#: The tables drawn as a chart beside their table.
CHARTED = frozenset({"compliance", "reports_by_source", "cases_opened", "children_in_register", "tasks_by_sector"})

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _current_year() -> int:
    """The year the statistics show when none is chosen (Prague time)."""
    return timezone.localdate().year


class PeriodForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        choices=[("", _("whole year")), ("1", "I"), ("2", "II"), ("3", "III"), ("4", "IV")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    since = forms.DateField(label=_("From (custom period)"), required=False)
    until = forms.DateField(label=_("Until, inclusive (custom period)"), required=False)
    orp = forms.TypedChoiceField(label=_("ORP"), coerce=int, empty_value=None, required=False)

    def __init__(self, data: QueryDict | None = None, *, authorities: list[Municipality]) -> None:
        # Without a year (nothing chosen, or only a quarter or an ORP) the page counts the current year: the field
        # shows it, unbound as its initial value, bound as its value. A custom period names no year.
        year = _current_year()
        if data is not None and not data.get("year") and not (data.get("since") and data.get("until")):
            data = data.copy()
            data["year"] = str(year)
        super().__init__(data)
        self.fields["year"].initial = year
        self.fields["orp"].choices = [("", _("all")), *((a.pk, a.name) for a in authorities)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if bool(since) != bool(until):
            self.add_error("until" if since else "since", _("Give both days of a custom period."))
        elif since and until and until < since:
            self.add_error("until", _("The period ends before it starts."))
        elif since and until and (until - since).days > 3 * 366:
            self.add_error("until", _("A custom period is at most three years."))
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        if data.get("since") and data.get("until"):
            return Period(data["since"], data["until"] + datetime.timedelta(days=1))
        year = data.get("year") or _current_year()
        if data.get("quarter"):
            return Period.quarter(year, data["quarter"])
        return Period.year(year)


@dataclass(frozen=True)
class Viewer:
    user: User
    subject: Subject
    authorities: list[Municipality]
    suppressed: bool
    region: str


def _viewer(request: HttpRequest) -> Viewer:
    user = request.user
    assert isinstance(user, User)
    subject = Subject.from_user(user)
    if subject.is_supervisor:
        authorities = list(Municipality.objects.filter(supervised_authorities(subject, "pk")).order_by("name"))
        region = ""
    elif may_see_region_figures(subject):
        region = user.organisation.municipality.region if user.organisation else ""
        authorities = list(Municipality.objects.filter(region=region).exclude(region="").order_by("name"))
    else:
        raise PermissionDenied
    return Viewer(user, subject, authorities, figures_suppressed(subject), region)


def _filters(request: HttpRequest, viewer: Viewer) -> tuple[PeriodForm, Period, list[int]]:
    form = PeriodForm(request.GET or None, authorities=viewer.authorities)
    ids = [a.pk for a in viewer.authorities]
    if form.is_bound and form.is_valid():
        period = form.period()
        orp = form.cleaned_data.get("orp")
        return form, period, [orp] if orp else ids
    return form, Period.year(_current_year()), ids


def _published(table: Table, viewer: Viewer) -> Table:
    return suppress(table) if viewer.suppressed else table


def _query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("after", None)
    params.pop("format", None)
    return params.urlencode()


@shell_page("figures_dashboard")
@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    form, period, scope = _filters(request, viewer)
    nonce = str(getattr(request, "csp_nonce", ""))
    now = timezone.now()
    figures = []
    for table in selectors.all_figures(scope, period, now):
        published = _published(table, viewer)
        chart = bar_chart(published, chart_id=f"chart-{table.key}", nonce=nonce) if table.key in CHARTED else ""
        figures.append({"table": published, "chart": chart})
    return render(
        request,
        "figures/dashboard.html",
        {
            "form": form,
            "period": period,
            "figures": figures,
            "viewer": viewer,
            "query": _query(request),
            "drill_down": not viewer.suppressed,
            "kpi_kinds": selectors.KPI_KINDS,
            "hidden": exports.HIDDEN,
            "single_authority": len(scope) == 1,
            "authority_id": scope[0] if len(scope) == 1 else None,
            "scope_names": [a.name for a in viewer.authorities if a.pk in scope],
        },
    )


@shell_page("figures_dashboard")
@require_http_methods(["GET"])
def export_table(request: HttpRequest, key: str) -> HttpResponse:
    viewer = _viewer(request)
    _form, period, scope = _filters(request, viewer)
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        fmt = "csv"
    try:
        table = _published(selectors.figure(key, scope, period), viewer)
    except KeyError:
        raise Http404 from None
    exports.record_export(viewer.user, object_type="figures.table", key=key, fmt=fmt, period=period, scope=scope)
    body = exports.to_csv([table]) if fmt == "csv" else exports.to_xlsx([table])
    response = HttpResponse(body, content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{key}-{period.start:%Y%m%d}-{period.last_day:%Y%m%d}.{fmt}"'
    )
    return response


@shell_page("figures_dashboard")
@require_http_methods(["GET"])
def late_items(request: HttpRequest, kind: str) -> HttpResponse:
    """The references of the late items of one KPI, for the authority's supervisors only (never the region)."""
    viewer = _viewer(request)
    if kind not in selectors.KPI_KINDS:
        raise Http404
    _form, period, scope = _filters(request, viewer)
    if not all(may_see_late_items(viewer.subject, pk) for pk in scope):
        raise PermissionDenied
    after = parse_cursor(request.GET.get("after"), [datetime.datetime, uuid.UUID])
    key = (after[0], after[1]) if after else None
    references, last = selectors.late_items(kind, scope, period, after=key, size=PAGE_SIZE)  # type: ignore[arg-type]
    next_cursor = cursor_for(list(last)) if last else ""
    return render(
        request,
        "figures/late.html",
        {
            "kind": kind,
            "label": selectors.KPI_KINDS[kind],
            "references": references,
            "period": period,
            "query": _query(request),
            "next_cursor": next_cursor,
        },
    )


@shell_page("figures_dashboard")
@require_http_methods(["GET"])
def annual_return_page(request: HttpRequest) -> HttpResponse:
    """The annual return of one authority for one year; ``?format=xlsx|csv`` downloads it (audited)."""
    viewer = _viewer(request)
    form, period, scope = _filters(request, viewer)
    if len(scope) != 1:
        scope = scope[:1]
    if not scope or not may_export_annual_return(viewer.subject, scope[0]):
        raise PermissionDenied
    authority = next(a for a in viewer.authorities if a.pk == scope[0])
    year = period.start.year
    form_data = annual_return.build(authority.pk, authority.name, year)
    fmt = request.GET.get("format")
    if fmt in EXPORT_TYPES:
        exports.record_export(
            viewer.user,
            object_type="figures.annual_return",
            key=f"v2001-{year}",
            fmt=fmt,
            period=Period.year(year),
            scope=scope,
        )
        body = annual_return.to_csv(form_data) if fmt == "csv" else annual_return.to_xlsx(form_data)
        response = HttpResponse(body, content_type=EXPORT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="v-mpsv-20-01-{authority.code}-{year}.{fmt}"'
        return response
    return render(
        request,
        "figures/annual_return.html",
        {"form": form, "return": form_data, "query": _query(request), "title": annual_return.FORM_TITLE},
    )
