"""Access anomalies: documented, configurable rules over the audit chain that raise flags for review.

``manage.py flag_access_anomalies`` (scheduled in ``settings.PERIODIC_COMMANDS``) calls :func:`flag_anomalies`. Each
rule turns recent audit rows into findings; a finding's ``key`` is derived from the rows alone, so a second run over
the same rows finds the same keys and creates nothing (idempotent). New flags notify the supervisors of the flag's
authority and every DPO — the notification carries the kind and the flag's id, nothing else.

The rules and their settings (``settings.ACCESS_ANOMALY_RULES``, merged over :data:`DEFAULT_RULES`) are documented in
docs/adr/0017-access-oversight.md. A flag holds counts and audit row numbers, never content.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import holidays
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.models import Case, Role, TeamMembership, User
from casework.selectors.accounts import account_watchers
from notifications.models import Kind
from notifications.services import notify_many
from permissions import audit
from permissions.models import AccessAnomaly, AnomalyRule, AuditAction, AuditEvent, AuditOutcome
from permissions.oversight import is_break_glass
from permissions.policy import Subject, may_review_anomaly

#: The defaults; ``settings.ACCESS_ANOMALY_RULES`` overrides any of them, rule by rule, key by key.
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    # How far back each run looks. Longer than the schedule's interval, so nothing falls between two runs.
    "scan": {"lookback_hours": 48},
    AnomalyRule.BREAK_GLASS: {"enabled": True},
    AnomalyRule.DENIED_BURST: {"enabled": True, "denials": 5, "minutes": 10},
    AnomalyRule.OFF_HOURS: {
        "enabled": True,
        "start": "07:00",
        "end": "18:00",
        "weekends_and_holidays": True,
        "roles": [Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER],
    },
    AnomalyRule.MANY_CASES: {"enabled": True, "cases": 10, "roles": [Role.OSPOD_WORKER, Role.SUPERVISOR, Role.PARTNER]},
    AnomalyRule.ACCOUNT_CHANGED: {"enabled": True},
}

#: Audit row fields that, on an ``account`` row about a user, mean their role or organisation changed.
ACCOUNT_FIELDS = frozenset({"role", "organisation"})


def rules_config() -> dict[str, dict[str, Any]]:
    configured = getattr(settings, "ACCESS_ANOMALY_RULES", {}) or {}
    return {name: {**defaults, **configured.get(str(name), {})} for name, defaults in DEFAULT_RULES.items()}


@dataclass
class Finding:
    rule: str
    key: str
    actor_id: int | None
    actor_username: str
    events: list[AuditEvent] = field(default_factory=list)
    case_id: uuid.UUID | None = None


@dataclass(frozen=True)
class FlagResult:
    scanned: int
    created: list[AccessAnomaly]


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment)


def _clock(text: str) -> datetime.time:
    hours, minutes = text.split(":")
    return datetime.time(int(hours), int(minutes))


@cache
def _czech_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("CZ", years=year).keys())


def outside_working_hours(moment: datetime.datetime, config: dict[str, Any]) -> bool:
    """Before ``start`` or from ``end`` on (local time); on weekends and Czech public holidays all day if set."""
    local = _local(moment)
    if config["weekends_and_holidays"] and (local.weekday() >= 5 or local.date() in _czech_holidays(local.year)):
        return True
    return not (_clock(config["start"]) <= local.time() < _clock(config["end"]))


# --- The rules: each takes the scanned rows (chain order) and returns findings ------------------------------------


def _reads(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    return [e for e in events if e.action == AuditAction.READ and e.outcome == AuditOutcome.ALLOWED and e.actor_id]


def rule_break_glass(events: list[AuditEvent], config: dict[str, Any]) -> list[Finding]:
    """Every access through break-glass: one flag per person, case and local day."""
    groups: dict[tuple[int, uuid.UUID | None, datetime.date], Finding] = {}
    for event in events:
        if event.actor_id is None or event.outcome != AuditOutcome.ALLOWED or not is_break_glass(event):
            continue
        day = _local(event.occurred_at).date()
        group_key = (event.actor_id, event.case_id, day)
        if group_key not in groups:
            key = f"{AnomalyRule.BREAK_GLASS}:{event.actor_id}:{event.case_id or '-'}:{day.isoformat()}"
            groups[group_key] = Finding(
                AnomalyRule.BREAK_GLASS, key, event.actor_id, event.actor_username, case_id=event.case_id
            )
        groups[group_key].events.append(event)
    return list(groups.values())


def rule_denied_burst(events: list[AuditEvent], config: dict[str, Any]) -> list[Finding]:
    """``denials`` or more refused attempts by one person within ``minutes``. Rows already inside an earlier flag of
    this rule are not counted again, so overlapping scans never flag one burst twice."""
    threshold, window = int(config["denials"]), datetime.timedelta(minutes=int(config["minutes"]))
    per_actor: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.actor_id is not None and event.outcome == AuditOutcome.DENIED:
            per_actor[event.actor_id].append(event)
    if not per_actor:
        return []
    covered: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for actor_id, first, last in AccessAnomaly.objects.filter(
        rule=AnomalyRule.DENIED_BURST, actor_id__in=per_actor, last_seq__gte=min(e.seq for e in events)
    ).values_list("actor_id", "first_seq", "last_seq"):
        covered[actor_id].append((first, last))
    findings = []
    for actor_id, denials in per_actor.items():
        fresh = [e for e in denials if not any(a <= e.seq <= b for a, b in covered[actor_id])]
        start = 0
        while start < len(fresh):
            end = start
            while end + 1 < len(fresh) and fresh[end + 1].occurred_at - fresh[start].occurred_at <= window:
                end += 1
            if end - start + 1 >= threshold:
                burst = fresh[start : end + 1]
                key = f"{AnomalyRule.DENIED_BURST}:{actor_id}:{burst[0].seq}"
                findings.append(Finding(AnomalyRule.DENIED_BURST, key, actor_id, burst[0].actor_username, burst))
                start = end + 1
            else:
                start += 1
    return findings


def rule_off_hours(events: list[AuditEvent], config: dict[str, Any]) -> list[Finding]:
    """Reads outside working hours: one flag per person and local day."""
    roles = set(config["roles"])
    groups: dict[tuple[int, datetime.date], Finding] = {}
    for event in _reads(events):
        if event.actor_role not in roles or not outside_working_hours(event.occurred_at, config):
            continue
        assert event.actor_id is not None
        day = _local(event.occurred_at).date()
        if (event.actor_id, day) not in groups:
            key = f"{AnomalyRule.OFF_HOURS}:{event.actor_id}:{day.isoformat()}"
            groups[(event.actor_id, day)] = Finding(AnomalyRule.OFF_HOURS, key, event.actor_id, event.actor_username)
        groups[(event.actor_id, day)].events.append(event)
    return list(groups.values())


def rule_many_cases(events: list[AuditEvent], config: dict[str, Any]) -> list[Finding]:
    """One person reading ``cases`` or more different cases in one local day that they neither coordinate nor were
    ever on the team of. Supervisors read their authority's cases by right; a supervisor reading many in a day is
    still worth a look, which is why the role list is a setting."""
    roles, threshold = set(config["roles"]), int(config["cases"])
    reads = [e for e in _reads(events) if e.case_id is not None and e.actor_role in roles]
    if not reads:
        return []
    actors = {e.actor_id for e in reads}
    cases = {e.case_id for e in reads}
    on_case = set(
        TeamMembership.objects.filter(user_id__in=actors, case_id__in=cases).values_list("user_id", "case_id")
    )
    coordinators = Case.objects.filter(pk__in=cases).values_list("pk", "coordinator_id")
    on_case |= {(coordinator, case) for case, coordinator in coordinators}
    groups: dict[tuple[int, datetime.date], list[AuditEvent]] = defaultdict(list)
    for event in reads:
        if (event.actor_id, event.case_id) not in on_case:
            assert event.actor_id is not None
            groups[(event.actor_id, _local(event.occurred_at).date())].append(event)
    findings = []
    for (actor_id, day), group in groups.items():
        if len({e.case_id for e in group}) >= threshold:
            key = f"{AnomalyRule.MANY_CASES}:{actor_id}:{day.isoformat()}"
            findings.append(Finding(AnomalyRule.MANY_CASES, key, actor_id, group[0].actor_username, group))
    return findings


def rule_account_changed(events: list[AuditEvent], config: dict[str, Any]) -> list[Finding]:
    """An account whose role or organisation changed: seen either in an ``account`` row about the user naming the
    ``role`` or ``organisation`` field (account changes written to the chain), or in the snapshots of the person's
    own rows (role and organisation at the time) differing from their previous row."""
    findings: dict[str, Finding] = {}
    for event in events:
        if (
            event.action == AuditAction.ACCOUNT
            and event.object_type == "casework.user"
            and ACCOUNT_FIELDS & set(event.field_names or ())
            and event.object_id.isdigit()
        ):
            key = f"{AnomalyRule.ACCOUNT_CHANGED}:{event.object_id}:{event.seq}"
            findings[key] = Finding(AnomalyRule.ACCOUNT_CHANGED, key, int(event.object_id), "", [event])
    own = [e for e in events if e.actor_id is not None]
    if own:
        first_seq = own[0].seq
        actors = {e.actor_id for e in own}
        latest_before = (
            AuditEvent.objects.filter(actor_id__in=actors, seq__lt=first_seq)
            .values("actor_id")
            .order_by()
            .annotate(last=Max("seq"))
            .values_list("last", flat=True)
        )
        previous: dict[int, tuple[str, str]] = {
            e.actor_id: (e.actor_role, e.actor_organisation)
            for e in AuditEvent.objects.filter(seq__in=latest_before).only(
                "actor_id", "actor_role", "actor_organisation"
            )
            if e.actor_id is not None
        }
        for event in own:
            assert event.actor_id is not None
            snapshot = (event.actor_role, event.actor_organisation)
            before = previous.get(event.actor_id)
            if before is not None and before != snapshot:
                key = f"{AnomalyRule.ACCOUNT_CHANGED}:{event.actor_id}:{event.seq}"
                findings[key] = Finding(AnomalyRule.ACCOUNT_CHANGED, key, event.actor_id, event.actor_username, [event])
            previous[event.actor_id] = snapshot
    return list(findings.values())


RULES = {
    AnomalyRule.BREAK_GLASS: rule_break_glass,
    AnomalyRule.DENIED_BURST: rule_denied_burst,
    AnomalyRule.OFF_HOURS: rule_off_hours,
    AnomalyRule.MANY_CASES: rule_many_cases,
    AnomalyRule.ACCOUNT_CHANGED: rule_account_changed,
}


# --- Creating the flags ---------------------------------------------------------------------------------------------


def _recipients(municipality_id: int | None) -> list[int]:
    """The supervisors of the flag's authority and every DPO (active accounts): who hears of an account change too."""
    return account_watchers([municipality_id])


def flag_anomalies(*, now: datetime.datetime | None = None) -> FlagResult:
    """Run every enabled rule over the audit rows of the look-back window and create the flags not yet created.

    Each new flag and its notifications are written in one transaction; a flag that exists (same key) is left as it
    is, reviewed or not. Safe to run again at any time.
    """
    now = now or timezone.now()
    config = rules_config()
    since = now - datetime.timedelta(hours=int(config["scan"]["lookback_hours"]))
    events = list(
        AuditEvent.objects.filter(occurred_at__gte=since, occurred_at__lte=now)
        .order_by("seq")
        .defer("prev_hash", "row_hash", "client_ip", "request_id")
    )
    findings: list[Finding] = []
    for name, rule in RULES.items():
        if config[name]["enabled"] and events:
            findings.extend(rule(events, config[name]))
    if not findings:
        return FlagResult(scanned=len(events), created=[])
    existing = set(AccessAnomaly.objects.filter(key__in=[f.key for f in findings]).values_list("key", flat=True))
    fresh = [f for f in findings if f.key not in existing]
    people = {
        pk: (username, municipality)
        for pk, username, municipality in User.objects.filter(
            pk__in={f.actor_id for f in fresh if f.actor_id is not None}
        ).values_list("pk", "username", "organisation__municipality_id")
    }
    case_authority = dict(
        Case.objects.filter(pk__in={f.case_id for f in fresh if f.case_id}).values_list("pk", "municipality_id")
    )
    created = []
    for finding in fresh:
        username, municipality_id = people.get(finding.actor_id or -1, ("", None))
        if finding.case_id is not None and finding.case_id in case_authority:
            municipality_id = case_authority[finding.case_id]
        seqs = [e.seq for e in finding.events]
        times = [e.occurred_at for e in finding.events]
        with transaction.atomic():
            flag, was_created = AccessAnomaly.objects.get_or_create(
                key=finding.key,
                defaults={
                    "rule": finding.rule,
                    "actor_id": finding.actor_id,
                    "actor_username": finding.actor_username or username,
                    "municipality_id": municipality_id,
                    "case_id": finding.case_id,
                    "first_seq": min(seqs),
                    "last_seq": max(seqs),
                    "first_at": min(times),
                    "last_at": max(times),
                    "event_count": len(finding.events),
                    "created_at": now,
                },
            )
            if was_created:
                notify_many(
                    recipient_ids=_recipients(municipality_id),
                    kind=Kind.ACCESS_ANOMALY,
                    object_type="permissions.accessanomaly",
                    object_id=flag.pk,
                    actor_id=finding.actor_id,  # nobody is told about a flag on themselves
                )
                created.append(flag)
    return FlagResult(scanned=len(events), created=created)


# --- Review -----------------------------------------------------------------------------------------------------------


def anomaly_review(*, anomaly_id: int, reviewer: User, comment: str) -> AccessAnomaly:
    """Mark a flag reviewed with a comment. The caller found the flag through :func:`permissions.oversight`'s scope;
    this checks the rule again (nobody reviews a flag about themselves) under a row lock, and audits the write.

    Raises ``PermissionDenied`` for a reviewer the policy refuses, ``ValidationError`` (field ``comment``) for an
    empty comment or a flag already reviewed.
    """
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": _("Say what you found out.")})
    with audit.atomic():
        flag = AccessAnomaly.objects.select_for_update(no_key=True).get(pk=anomaly_id)
        if not may_review_anomaly(
            Subject.from_user(reviewer), municipality_id=flag.municipality_id, actor_id=flag.actor_id
        ):
            raise PermissionDenied
        if flag.is_reviewed:
            raise ValidationError({"comment": _("This flag has already been reviewed.")})
        flag.reviewed_at = timezone.now()
        flag.reviewed_by = reviewer
        flag.review_comment = comment
        flag.full_clean()
        flag.save(update_fields=["reviewed_at", "reviewed_by", "review_comment"])
        audit.record_write(
            reviewer,
            flag.case_id,
            "permissions.accessanomaly",
            flag.pk,
            ["reviewed_at", "review_comment"],
            "access anomaly review",
        )
    return flag
