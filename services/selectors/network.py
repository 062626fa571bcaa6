"""The network view's read model: services, capacities and waiting times by type of service and area (ORP).

Counts only — no child data, no case, no person. A service that serves several ORPs counts in each of them; one
that names no area counts under "area not stated". Three statements whatever the directory's size (the services'
numbers, and the ORPs each serves through its two area lists); the grouping is done here, not in SQL, because a
service's area is the union of two many-to-many lists.

Referral figures (:func:`referral_counts_by_type_and_area`, from ``services.referrals``) count each referral once,
in the row of its service's type and its case's ORP, so the totals row adds them up; the template shows the referral
columns only when some referral exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from casework.models import Municipality
from services.models import Service, ServiceType

#: (service type id, ORP id or None for "area not stated")
GroupKey = tuple[int, int | None]


@dataclass(frozen=True)
class ReferralCounts:
    """Referral figures of one group (each referral in exactly one group: its service's type, its case's ORP)."""

    sent: int = 0
    accepted: int = 0
    waiting: int = 0
    declined: int = 0
    declined_no_capacity: int = 0
    #: Mean days from sending to acceptance over the accepted referrals (None when none was accepted).
    days_to_accept: float | None = None
    #: The accepted referrals' days to acceptance, summed, and how many they are: what adds up across groups.
    accept_days_sum: float = 0.0
    accept_days_count: int = 0

    @classmethod
    def added(cls, groups: Collection[ReferralCounts]) -> ReferralCounts:
        """The figures of several groups together (the mean recomputed from the sums, not averaged)."""
        days_sum = sum(g.accept_days_sum for g in groups)
        days_count = sum(g.accept_days_count for g in groups)
        return cls(
            sent=sum(g.sent for g in groups),
            accepted=sum(g.accepted for g in groups),
            waiting=sum(g.waiting for g in groups),
            declined=sum(g.declined for g in groups),
            declined_no_capacity=sum(g.declined_no_capacity for g in groups),
            days_to_accept=round(days_sum / days_count, 1) if days_count else None,
            accept_days_sum=days_sum,
            accept_days_count=days_count,
        )


@dataclass(frozen=True)
class NetworkRow:
    type_id: int
    type_code: str
    type_name: str
    orp_id: int | None
    orp_name: str
    services: int
    capacity_total: int
    free_places: int
    #: Services with a stated capacity and no free place.
    without_free_places: int
    #: Services that state a waiting time, and its average and longest (days).
    waiting_stated: int
    waiting_avg_days: float | None
    waiting_max_days: int | None
    referrals: ReferralCounts = field(default_factory=ReferralCounts)


@dataclass(frozen=True)
class NetworkView:
    rows: list[NetworkRow]
    totals: NetworkRow | None
    has_referrals: bool


def referral_counts_by_type_and_area(*, keys: Collection[GroupKey]) -> Mapping[GroupKey, ReferralCounts]:
    """Referral figures per (service type, ORP) for the network view: counts only, no child data. The ORP is the
    case's (where the child lives); a referral counts in the row of its service's type and that ORP. Two statements
    whatever the number of referrals: one aggregate, one list of the accepted ones' waits (days from sending to the
    provider's acceptance) — docs/adr/0029-referrals.md."""
    from services.referrals.selectors import referral_counts_by_group

    wanted = set(keys)
    return {key: counts for key, counts in referral_counts_by_group().items() if key in wanted}


def network_view(*, orp_id: int | None = None, type_code: str = "") -> NetworkView:
    """The network by type and ORP (optionally one ORP's or one type's rows only)."""
    services = Service.objects.filter(is_active=True, provider__is_active=True)
    if type_code:
        services = services.filter(service_type__code=type_code)
    columns = ("service_type_id", "capacity_total", "free_places", "waiting_days")
    numbers: dict[int, Mapping[str, int | None]] = {
        pk: dict(zip(columns, values, strict=True)) for pk, *values in services.values_list("pk", *columns)
    }
    orps_of: dict[int, set[int]] = defaultdict(set)
    through_orps = Service.area_orps.through.objects.filter(service_id__in=services.values("pk"))
    for service_id, municipality_id in through_orps.values_list("service_id", "municipality_id"):
        orps_of[service_id].add(municipality_id)
    through_municipalities = Service.area_municipalities.through.objects.filter(service_id__in=services.values("pk"))
    for service_id, its_orp in through_municipalities.values_list("service_id", "residencemunicipality__orp_id"):
        orps_of[service_id].add(its_orp)

    groups: dict[GroupKey, list[Mapping[str, int | None]]] = defaultdict(list)
    for pk, row in numbers.items():
        orps: set[int | None] = {*orps_of.get(pk, ())} or {None}
        if orp_id is not None:
            orps &= {orp_id}
        for orp in orps:
            groups[(int(row["service_type_id"] or 0), orp)].append(row)

    types = {t.pk: t for t in ServiceType.objects.filter(pk__in={key[0] for key in groups})}
    orp_names = dict(
        Municipality.objects.filter(Q(pk__in={key[1] for key in groups if key[1] is not None})).values_list(
            "pk", "name"
        )
    )
    referrals = referral_counts_by_type_and_area(keys=list(groups))
    rows = [
        _row(key, members, types[key[0]], orp_names.get(key[1]) if key[1] else None, referrals.get(key))
        for key, members in groups.items()
    ]
    rows.sort(key=lambda r: (types[r.type_id].position, r.type_name, r.orp_name))
    everything = [row for members in groups.values() for row in members]
    unique = list({id(row): row for row in everything}.values())
    totals = _totals(unique, rows) if rows else None
    return NetworkView(rows=rows, totals=totals, has_referrals=bool(referrals))


def _row(
    key: GroupKey,
    members: list[Mapping[str, int | None]],
    kind: ServiceType,
    orp_name: str | None,
    referrals: ReferralCounts | None,
) -> NetworkRow:
    waits = [int(m["waiting_days"]) for m in members if m["waiting_days"] is not None]
    return NetworkRow(
        type_id=kind.pk,
        type_code=kind.code,
        type_name=kind.name,
        orp_id=key[1],
        orp_name=orp_name or _("area not stated"),
        services=len(members),
        capacity_total=sum(int(m["capacity_total"] or 0) for m in members),
        free_places=sum(int(m["free_places"] or 0) for m in members),
        without_free_places=sum(1 for m in members if m["capacity_total"] is not None and not m["free_places"]),
        waiting_stated=len(waits),
        waiting_avg_days=round(sum(waits) / len(waits), 1) if waits else None,
        waiting_max_days=max(waits) if waits else None,
        referrals=referrals or ReferralCounts(),
    )


def _totals(unique: list[Mapping[str, int | None]], rows: list[NetworkRow]) -> NetworkRow:
    """The region's totals: each service once, however many ORPs it serves."""
    waits = [int(m["waiting_days"]) for m in unique if m["waiting_days"] is not None]
    return NetworkRow(
        type_id=0,
        type_code="",
        type_name=_("All types"),
        orp_id=None,
        orp_name=_("the whole region"),
        services=len(unique),
        capacity_total=sum(int(m["capacity_total"] or 0) for m in unique),
        free_places=sum(int(m["free_places"] or 0) for m in unique),
        without_free_places=sum(1 for m in unique if m["capacity_total"] is not None and not m["free_places"]),
        waiting_stated=len(waits),
        waiting_avg_days=round(sum(waits) / len(waits), 1) if waits else None,
        waiting_max_days=max(waits) if waits else None,
        referrals=ReferralCounts.added([row.referrals for row in rows]),
    )
