"""Referrals: the state machine (each transition by its role only), the letter (chosen parts only, no canary from
what was not chosen or not shareable), acceptance (exactly one membership, exactly the services-sector view),
decline (the provider keeps nothing), reminders (frozen time), notifications (ids only)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from casework.compartments import Compartment
from casework.models import Sector, TeamMembership, User
from notifications.models import Kind, Notification
from permissions.access import load_case_access
from permissions.models import AuditAction, AuditEvent, ConsentCovers
from permissions.referrals import access_referral_by_id, read_referral
from permissions.sharing import consent_withdraw
from services.models import Service
from services.referrals.models import DeclineReason, Referral, ReferralEvent, ReferralStatus
from services.referrals.services import (
    referral_accept,
    referral_decline,
    referral_waitlist,
    referral_withdraw,
    referrals_remind_overdue,
)
from tests.factories import service_partner, team_role, write_note
from tests.services.referral_world import SAS_WORKER_ROLE, ReferralWorld, intake_worker, make_world, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(coordinator: User) -> ReferralWorld:
    return make_world(coordinator)


def _letter(user: User, referral: Referral) -> str:
    accessed = access_referral_by_id(user, referral.pk, purpose="test")
    return read_referral(user, accessed, ["letter"], purpose="test").get("letter") or ""


def _accept(world: ReferralWorld, referral: Referral, by: User | None = None) -> Referral:
    return referral_accept(
        referral=referral, by=by or world.worker, member=world.worker, team_role=team_role(SAS_WORKER_ROLE)
    )


# --- Sending and the letter -------------------------------------------------------------------------------------


def test_letter_carries_only_the_chosen_parts_and_no_canary(world: ReferralWorld) -> None:
    canaries = {
        part: f"CANARY-{part}-7731" for part in ("social", "school", "health", "services", "other", "child_voice")
    }
    notes = {part: write_note(world.case, world.coordinator, part, text) for part, text in canaries.items()}
    referral = send(world, note_ids=[str(notes["school"].pk)], include_child=False)

    letter = _letter(world.worker, referral)

    assert canaries["school"] in letter
    for part, canary in canaries.items():
        if part != "school":
            assert canary not in letter
    assert "Eliška" not in letter  # the child's name was not chosen
    assert "Rodina potřebuje podporu" in letter
    assert referral.letter_parts == ["reason", f"note:{notes['school'].pk}"]
    # Sealed at rest: the plaintext is nowhere in the row.
    assert canaries["school"].encode() not in bytes(Referral.objects.get(pk=referral.pk).letter)


def test_letter_with_the_child_names_the_child_but_not_the_birth_number_or_address(world: ReferralWorld) -> None:
    referral = send(world, include_child=True)
    letter = _letter(world.worker, referral)
    assert "Eliška Nováková" in letter
    assert "Třída Svobody" not in letter


def test_health_and_childs_voice_notes_cannot_be_chosen(world: ReferralWorld) -> None:
    health = write_note(world.case, world.coordinator, Compartment.HEALTH, "CANARY-health-1")
    with pytest.raises(ValidationError) as caught:
        send(world, note_ids=[str(health.pk)])
    assert "notes" in caught.value.message_dict
    assert not Referral.objects.exists()


def test_sending_records_the_agreement_and_history_and_notifies_the_intake_worker(world: ReferralWorld) -> None:
    referral = send(world)
    assert referral.status == ReferralStatus.SENT
    assert referral.consent.covers == ConsentCovers.REFERRAL
    assert referral.consent.compartment == Compartment.SERVICES
    assert list(ReferralEvent.objects.filter(referral=referral).values_list("to_status", "by")) == [
        (ReferralStatus.SENT, world.coordinator.pk)
    ]
    row = Notification.objects.get(recipient=world.worker)
    assert row.kind == Kind.REFERRAL_RECEIVED
    assert row.case_id is None  # the provider is not on the case
    assert row.case_reference == ""
    assert row.object_id == str(referral.pk)
    assert AuditEvent.objects.filter(object_type="services.referral", action=AuditAction.READ).count() == 0
    assert AuditEvent.objects.filter(purpose="referral letter", case_id=world.case.pk).exists()


def test_sending_needs_every_field_and_reports_them_all(world: ReferralWorld) -> None:
    from services.referrals.services import AgreementInput, referral_send

    with pytest.raises(ValidationError) as caught:
        referral_send(
            case=world.case,
            sent_by=world.coordinator,
            service=None,
            referred="",
            reason=" ",
            include_child=False,
            note_ids=[],
            agreement=AgreementInput(given_by="", given_by_name="", given_on=None),
        )
    assert {"service", "referred", "reason", "given_by", "given_by_name", "given_on"} <= set(caught.value.message_dict)
    assert not Referral.objects.exists()


def test_a_team_member_may_not_refer(world: ReferralWorld) -> None:
    member = service_partner(municipality=world.case.municipality)
    from tests.factories import add_member

    add_member(world.case, member, world.coordinator)
    with pytest.raises(PermissionDenied):
        send(ReferralWorld(world.case, member, world.service, world.worker))


def test_one_pending_referral_per_service(world: ReferralWorld) -> None:
    send(world)
    with pytest.raises(ValidationError) as caught:
        send(world)
    assert "service" in caught.value.message_dict


# --- The state machine: each transition by the right role only ----------------------------------------------


def test_only_the_intake_worker_answers(world: ReferralWorld, supervisor: User) -> None:
    referral = send(world)
    other_organisation = service_partner(municipality=world.case.municipality).organisation
    assert other_organisation is not None
    other_provider = intake_worker(other_organisation, username="jiny-prijem")
    for outsider in (world.coordinator, supervisor, other_provider):
        with pytest.raises(PermissionDenied):
            referral_waitlist(referral=referral, by=outsider, expected_on=timezone.localdate())
        with pytest.raises(PermissionDenied):
            referral_decline(referral=referral, by=outsider, reason=DeclineReason.NO_CAPACITY, explanation="x")
        with pytest.raises(PermissionDenied):
            _accept(world, referral, by=outsider)
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_only_the_lead_withdraws(world: ReferralWorld) -> None:
    referral = send(world)
    with pytest.raises(PermissionDenied):
        referral_withdraw(referral=referral, by=world.worker)
    withdrawn = referral_withdraw(referral=referral, by=world.coordinator)
    assert withdrawn.status == ReferralStatus.WITHDRAWN
    assert Notification.objects.filter(recipient=world.worker, kind=Kind.REFERRAL_WITHDRAWN).exists()
    with pytest.raises(Http404):
        access_referral_by_id(world.worker, referral.pk, purpose="test")


def test_waiting_list_needs_a_day_and_then_may_be_accepted(world: ReferralWorld) -> None:
    referral = send(world)
    with pytest.raises(ValidationError) as caught:
        referral_waitlist(referral=referral, by=world.worker, expected_on=None)
    assert "expected_on" in caught.value.message_dict
    with pytest.raises(ValidationError):
        referral_waitlist(referral=referral, by=world.worker, expected_on=timezone.localdate() - datetime.timedelta(1))
    day = timezone.localdate() + datetime.timedelta(days=20)
    waiting = referral_waitlist(referral=referral, by=world.worker, expected_on=day)
    assert (waiting.status, waiting.expected_on) == (ReferralStatus.WAITING, day)
    assert Notification.objects.filter(recipient=world.coordinator, kind=Kind.REFERRAL_WAITING).exists()
    accepted = _accept(world, waiting)
    assert accepted.status == ReferralStatus.ACCEPTED
    history = list(ReferralEvent.objects.filter(referral=referral).values_list("from_status", "to_status"))
    assert history == [("", "sent"), ("sent", "waiting"), ("waiting", "accepted")]


def test_an_answered_referral_cannot_be_answered_again(world: ReferralWorld) -> None:
    referral = _accept(world, send(world))
    with pytest.raises(PermissionDenied):
        referral_decline(referral=referral, by=world.worker, reason=DeclineReason.OTHER, explanation="x")


# --- Acceptance ---------------------------------------------------------------------------------------------


def test_acceptance_adds_exactly_one_membership_with_the_services_view(world: ReferralWorld) -> None:
    canaries = {
        part: f"CANARY-{part}-4410" for part in ("social", "school", "health", "services", "other", "child_voice")
    }
    for part, text in canaries.items():
        write_note(world.case, world.coordinator, part, text)
    referral = send(world)
    before = load_case_access(world.worker, world.case)
    assert not before.visible  # the provider does not see the case through a pending referral

    accepted = _accept(world, referral)

    memberships = TeamMembership.objects.filter(case=world.case, user=world.worker)
    assert memberships.count() == 1
    assert accepted.membership_id == memberships.get().pk
    assert memberships.get().team_role.sector == Sector.SERVICE
    access = load_case_access(world.worker, world.case)
    readable = {c for c in Compartment if access.may_read_compartment(c)}
    assert readable == {Compartment.BASICS, Compartment.SERVICES}
    assert Notification.objects.filter(recipient=world.coordinator, kind=Kind.REFERRAL_ACCEPTED).exists()


def test_acceptance_names_only_a_person_of_the_provider(world: ReferralWorld, teacher: User) -> None:
    referral = send(world)
    with pytest.raises(ValidationError) as caught:
        referral_accept(referral=referral, by=world.worker, member=teacher, team_role=team_role(SAS_WORKER_ROLE))
    assert "member" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        referral_accept(
            referral=referral, by=world.worker, member=world.worker, team_role=team_role("třídní učitel/ka")
        )
    assert "team_role" in caught.value.message_dict
    assert not TeamMembership.objects.filter(case=world.case, user__in=[teacher, world.worker]).exists()


# --- Decline ------------------------------------------------------------------------------------------------


def test_a_declined_referral_gives_the_provider_nothing(world: ReferralWorld) -> None:
    referral = send(world)
    with pytest.raises(ValidationError) as caught:
        referral_decline(referral=referral, by=world.worker, reason="", explanation="")
    assert {"reason", "explanation"} <= set(caught.value.message_dict)
    declined = referral_decline(
        referral=referral, by=world.worker, reason=DeclineReason.NO_CAPACITY, explanation="Plno do března."
    )
    assert declined.status == ReferralStatus.DECLINED
    assert not TeamMembership.objects.filter(case=world.case, user=world.worker).exists()
    assert not load_case_access(world.worker, world.case).visible
    with pytest.raises(Http404):
        access_referral_by_id(world.worker, referral.pk, purpose="test")
    # The coordinator reads the explanation; notifications carry no text.
    accessed = access_referral_by_id(world.coordinator, referral.pk, purpose="test")
    shown = read_referral(world.coordinator, accessed, ["decline_explanation"], purpose="test")
    assert shown.get("decline_explanation") == "Plno do března."
    for row in Notification.objects.all():
        assert "Plno" not in row.text


def test_withdrawn_agreement_ends_the_providers_view(world: ReferralWorld) -> None:
    referral = send(world)
    consent_withdraw(consent=referral.consent, withdrawn_by=world.coordinator)
    with pytest.raises(Http404):
        access_referral_by_id(world.worker, referral.pk, purpose="test")


# --- Reminders (frozen time) --------------------------------------------------------------------------------


def test_a_referral_waiting_beyond_the_stated_time_is_reminded_once_a_week(world: ReferralWorld) -> None:
    start = timezone.now() + datetime.timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        referral = send(world)  # the service states 14 days
    with time_machine.travel(start + datetime.timedelta(days=13), tick=False):
        assert referrals_remind_overdue() == 0
    with time_machine.travel(start + datetime.timedelta(days=15), tick=False):
        assert referrals_remind_overdue() == 1
        assert referrals_remind_overdue() == 0  # a rerun sends nothing new
    with time_machine.travel(start + datetime.timedelta(days=23), tick=False):
        assert referrals_remind_overdue() == 1
    kinds = Notification.objects.filter(kind=Kind.REFERRAL_OVERDUE)
    assert kinds.filter(recipient=world.coordinator, case_reference=world.case.reference).count() == 2
    assert kinds.filter(recipient=world.worker, case_reference="", case_id=None).count() == 2
    with time_machine.travel(start + datetime.timedelta(days=40), tick=False):
        _accept(world, referral)
        assert referrals_remind_overdue() == 0


# --- The network view's counts -----------------------------------------------------------------------------


def test_the_network_counts_each_referral_as_sent_and_once_where_it_stands_now(world: ReferralWorld) -> None:
    """ "Referrals" counts every referral sent, whatever became of it; accepted, waiting list and declined for lack of
    capacity are where each stands now (accepted and declined are final, so an acceptance after a wait counts as
    accepted and no longer as waiting); the days to acceptance run from sending to the acceptance, not to the wait."""
    from services.referrals.selectors import referral_counts_by_group
    from services.selectors.network import ReferralCounts, network_view

    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        waited_then_accepted = send(world)
        clock.shift(datetime.timedelta(days=2))
        referral_waitlist(referral=waited_then_accepted, by=world.worker, expected_on=timezone.localdate())
        clock.shift(datetime.timedelta(days=3))
        _accept(world, waited_then_accepted)
        referral_decline(referral=send(world), by=world.worker, reason=DeclineReason.NO_CAPACITY, explanation="Plno.")
        referral_decline(referral=send(world), by=world.worker, reason=DeclineReason.OUTSIDE_AREA, explanation="x")
        referral_withdraw(referral=send(world), by=world.coordinator)
        referral_waitlist(referral=send(world), by=world.worker, expected_on=timezone.localdate())
    counts = referral_counts_by_group()[(world.service.service_type_id, world.case.municipality_id)]
    assert counts == ReferralCounts(
        sent=5,
        accepted=1,
        waiting=1,
        declined=2,
        declined_no_capacity=1,
        days_to_accept=5.0,
        accept_days_sum=5.0,
        accept_days_count=1,
    )
    # The region's row adds the groups up (here the one group).
    totals = network_view().totals
    assert totals is not None
    assert totals.referrals == counts


def test_the_networks_region_row_takes_the_mean_days_to_acceptance_over_all_accepted_referrals() -> None:
    """Two groups, one accepted referral after 2 days and three after 5 on average: the region's mean is 17 / 4 =
    4.2 days (rounded to a tenth), not the mean of the two groups' means (3.5)."""
    from services.selectors.network import ReferralCounts

    one = ReferralCounts(sent=1, accepted=1, days_to_accept=2.0, accept_days_sum=2.0, accept_days_count=1)
    three = ReferralCounts(
        sent=4, accepted=3, declined=1, days_to_accept=5.0, accept_days_sum=15.0, accept_days_count=3
    )
    region = ReferralCounts.added([one, three])
    assert (region.sent, region.accepted, region.declined) == (5, 4, 1)
    assert region.days_to_accept == 4.2
    assert ReferralCounts.added([]).days_to_accept is None


# --- Lists: fixed numbers of statements --------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 7])
def test_the_providers_inbox_and_the_case_section_cost_the_same_whatever_their_length(
    world: ReferralWorld, extra: int, django_assert_num_queries: Any
) -> None:
    from services.referrals.selectors import case_referrals_section, referral_inbox
    from tests.services.referral_world import sas_service

    send(world)
    for n in range(extra):
        other = sas_service(world.case.municipality, name=f"SAS {n}")  # then moved to the world's provider
        Service.objects.filter(pk=other.pk).update(provider=world.service.provider)
        send(ReferralWorld(world.case, world.coordinator, Service.objects.get(pk=other.pk), world.worker))
    worker = User.objects.select_related("organisation").get(pk=world.worker.pk)
    with django_assert_num_queries(1):
        page = referral_inbox(user=worker)
    assert len(page.rows) == 1 + extra
    access = load_case_access(world.coordinator, world.case)
    with django_assert_num_queries(1):
        section = case_referrals_section(access, world.case)
    assert section is not None
    assert len(section.rows) == 1 + extra
