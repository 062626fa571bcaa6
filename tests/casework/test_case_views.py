"""The case pages as the people on a case meet them: the coordinator manages, partners read what their role allows.

Cases are opened through the services here (not a shared factory) so the tests stand on the product's own rules.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import (
    Case,
    CaseNote,
    CaseStatus,
    CloseReason,
    Organisation,
    Role,
    Sector,
    TeamMembership,
    TeamRole,
    User,
)
from casework.services import case_note_add, case_open, team_member_add
from permissions.models import AuditEvent, Consent, Share
from permissions.sharing import consent_record, share_grant
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.children import register_child

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
SOCIAL_TEXT = "Otec doma pije a matka se bojí, uvedla sousedka."
SCHOOL_TEXT = "Ve škole chybí každé pondělí, úkoly nenosí."
HEALTH_TEXT = "Pediatr: podváha, doporučeno vyšetření."
HIDDEN_CS = "Skryto: tuto část spisu vaše role nevidí"
INVALID_CHOICE_CS = "Vyberte platnou možnost"


# --- Helpers ----------------------------------------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _role(name_cs: str = "třídní učitel/ka") -> TeamRole:
    return TeamRole.objects.get(name_cs=name_cs)


def _open_case(coordinator: User, **child: object) -> Case:
    born = child.pop("born", datetime.date(2014, 3, 9))
    kid = register_child(by=coordinator, born=born, **child)  # type: ignore[arg-type]
    return case_open(child=kid, coordinator=coordinator, opened_by=coordinator, reason="report")


def _add(case: Case, user: User, by: User, role: str = "třídní učitel/ka") -> TeamMembership:
    return team_member_add(case=case, user=user, team_role=_role(role), valid_from=None, valid_until=None, added_by=by)


def _note(case: Case, by: User, compartment: str, text: str) -> CaseNote:
    return case_note_add(case=case, author=by, compartment=compartment, text=text)


def _html(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def _errors(html: str) -> str:
    """The text of every error list on the page."""
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))


def _select(html: str, name: str) -> str:
    """The options of the select named ``name``."""
    found = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert found, name
    return found.group(0)


def _health_partner(olomouc: object) -> User:
    clinic = OrganisationFactory.create(name="Ordinace PLDD", sector=Sector.HEALTH, municipality=olomouc)
    return UserFactory.create(
        username="lekar", first_name="Pavel", last_name="Lékař", role=Role.PARTNER, organisation=clinic
    )


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    """An open case coordinated by ``coordinator`` with ``teacher`` on the team and a social and a school note."""
    opened = _open_case(coordinator, given_name="Eliška", family_name="Nováková")
    _add(opened, teacher, coordinator)
    _note(opened, coordinator, "social", SOCIAL_TEXT)
    _note(opened, teacher, "school", SCHOOL_TEXT)
    return opened


# --- Every page renders ------------------------------------------------------------------------------------------


def test_every_case_page_renders_for_the_coordinator_in_czech(case: Case, coordinator: User, teacher: User) -> None:
    consent = consent_record(
        case=case,
        recorded_by=coordinator,
        compartment="health",
        given_by="mother",
        given_by_name="Jana Nováková",
        on_behalf_of_child=True,
        given_on=TODAY(),
    )
    share = share_grant(
        case=case,
        granted_by=coordinator,
        recipient_user=teacher,
        compartment="health",
        purpose="podklady pro konferenci",
        valid_until=TODAY() + datetime.timedelta(days=30),
        consent=consent,
    )
    membership = TeamMembership.objects.get(case=case, user=teacher)
    other_child = register_child(by=coordinator, given_name="Tomáš", family_name="Dvořák", female=False)
    client = _client(coordinator)
    pages = {
        reverse("case_list"): "Moje případy",
        reverse("case_open", args=[other_child.pk]): "Otevřít případ",
        reverse("case_detail", args=[case.pk]): "Záznamy",
        reverse("case_note_add", args=[case.pk]): "Uložit záznam",
        reverse("case_team", args=[case.pk]): "Přidat do týmu",
        reverse("team_member_end", args=[case.pk, membership.pk]): "Ukončit členství",
        reverse("case_handover", args=[case.pk]): "Koordinátoři případu",
        reverse("case_sharing", args=[case.pk]): "Sdílet",
        reverse("share_revoke", args=[case.pk, share.pk]): "Odvolat sdílení",
        reverse("consent_add", args=[case.pk]): "Zaznamenat souhlas",
        reverse("consent_withdraw", args=[case.pk, consent.pk]): "Zaznamenat odvolání",
        reverse("case_closure_request", args=[case.pk]): f"Zpět na případ {case.reference}",
        reverse("case_petition", args=[case.pk]): f"Zpět na případ {case.reference}",
    }
    for url, czech in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html = _html(response)
        assert '<html lang="cs">' in html, url
        assert czech in html, url
    # The sharing page shows the consent giver's name through the gate, and the share's state.
    sharing = _html(client.get(reverse("case_sharing", args=[case.pk])))
    assert "Jana Nováková" in sharing
    assert "platí" in sharing


def test_case_page_shows_header_child_team_and_notes_to_the_coordinator(
    case: Case, coordinator: User, teacher: User
) -> None:
    html = _html(_client(coordinator).get(reverse("case_detail", args=[case.pk])))
    assert case.reference in html
    assert "Eliška Nováková" in html
    assert teacher.get_full_name() in html
    assert "ZŠ Testovací" in html
    assert SOCIAL_TEXT in html
    assert SCHOOL_TEXT in html
    assert HIDDEN_CS not in html
    assert reverse("child_detail", args=[case.child_id]) in html  # leads may go to the register entry
    for name in (
        "case_note_add",
        "case_team",
        "case_sharing",
        "case_handover",
        "case_closure_request",
        "case_petition",
    ):
        assert reverse(name, args=[case.pk]) in html, name
    assert reverse("case_close", args=[case.pk]) not in html  # no direct closing: a supervisor approves (four eyes)


def test_case_page_runs_the_same_queries_for_a_small_and_a_big_case(
    coordinator: User, teacher: User, olomouc: object
) -> None:
    def count(case: Case, user: User) -> int:
        client = _client(user)
        client.get(reverse("case_detail", args=[case.pk]))  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
        return len(queries)

    small = _open_case(coordinator, given_name="Malý")
    _add(small, teacher, coordinator)
    _note(small, coordinator, "social", "jeden")
    _note(small, coordinator, "school", "jeden školní")  # one readable note each: the keys are loaded either way
    big = _open_case(coordinator, given_name="Velký", born=datetime.date(2013, 5, 5))
    _add(big, teacher, coordinator)
    for n in range(6):
        org = OrganisationFactory.create(name=f"Služba {n}", sector=Sector.SERVICE, municipality=olomouc)
        _add(big, UserFactory.create(role=Role.PARTNER, organisation=org), coordinator, role="jiná role")
        for compartment in ("social", "school", "health", "services"):
            _note(big, coordinator, compartment, f"záznam {n} {compartment}")
    for user in (coordinator, teacher):
        assert count(small, user) == count(big, user), user.username


# --- What a partner sees -----------------------------------------------------------------------------------------


def test_partner_sees_basics_and_her_sectors_notes_but_not_the_social_text(case: Case, teacher: User) -> None:
    response = _client(teacher).get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    html = _html(response)
    assert "Eliška Nováková" in html
    assert SCHOOL_TEXT in html
    assert SOCIAL_TEXT not in html
    assert HIDDEN_CS in html
    assert re.search(r'<p class="withheld" role="note">\s*' + HIDDEN_CS, html)
    assert reverse("child_detail", args=[case.child_id]) not in html  # the register is OSPOD's
    for name in ("case_team", "case_sharing", "case_handover", "case_close", "case_closure_request", "case_petition"):
        assert reverse(name, args=[case.pk]) not in html, name
    assert reverse("case_note_add", args=[case.pk]) in html  # she writes in the school part


def test_withheld_marker_never_counts_the_hidden_notes(case: Case, coordinator: User, teacher: User) -> None:
    first = _html(_client(teacher).get(reverse("case_detail", args=[case.pk])))
    for n in range(3):
        _note(case, coordinator, "social", f"další sociální záznam {n}")
    second = _html(_client(teacher).get(reverse("case_detail", args=[case.pk])))
    assert first.count(HIDDEN_CS) == second.count(HIDDEN_CS)
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", first) == strip.sub("", second)  # nothing on the page gives the new notes away


def test_partner_manages_nothing_and_gets_403(case: Case, teacher: User) -> None:
    client = _client(teacher)
    membership = TeamMembership.objects.get(case=case, user=teacher)
    for url in (
        reverse("case_team", args=[case.pk]),
        reverse("team_member_end", args=[case.pk, membership.pk]),
        reverse("case_handover", args=[case.pk]),
        reverse("case_sharing", args=[case.pk]),
        reverse("consent_add", args=[case.pk]),
        reverse("case_close", args=[case.pk]),
        reverse("case_closure_request", args=[case.pk]),
        reverse("case_petition", args=[case.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert AuditEvent.objects.filter(actor=teacher, action="deny", purpose="case team").exists()


def test_outsiders_get_the_same_404_as_for_a_missing_case(
    case: Case, dpo: User, administrator: User, foreign_worker: User, school: Organisation
) -> None:
    stranger = UserFactory.create(role=Role.PARTNER, organisation=school)
    missing = reverse("case_detail", args=["00000000-0000-4000-8000-000000000000"])
    for user in (dpo, administrator, foreign_worker, stranger):
        client = _client(user)
        assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404, user.username
        assert client.get(missing).status_code == 404


def test_partner_writes_a_note_in_her_own_part_only(case: Case, teacher: User) -> None:
    client = _client(teacher)
    form = _html(client.get(reverse("case_note_add", args=[case.pk])))
    assert 'value="school" selected' in form
    assert 'value="social"' not in form
    tampered = client.post(reverse("case_note_add", args=[case.pk]), {"compartment": "social", "text": "x"})
    assert INVALID_CHOICE_CS in _errors(_html(tampered))
    response = client.post(reverse("case_note_add", args=[case.pk]), {"compartment": "school", "text": "Dnes přišla."})
    assert response.status_code == 302
    assert "Dnes" not in response["Location"]
    assert CaseNote.objects.filter(case=case, author=teacher).count() == 2


# --- The team ----------------------------------------------------------------------------------------------------


def test_coordinator_adds_a_member_who_then_appears_on_the_case_page(coordinator: User, olomouc: object) -> None:
    case = _open_case(coordinator)
    doctor = _health_partner(olomouc)
    client = _client(coordinator)
    form = _html(client.get(reverse("case_team", args=[case.pk])))
    assert f'name="valid_from" value="{TODAY().isoformat()}"' in form  # a date input needs ISO, in Czech too
    people = _select(form, "user")
    assert f'value="{doctor.pk}"' in people
    assert f'value="{coordinator.pk}"' not in people  # the coordinator is not offered
    response = client.post(
        reverse("case_team", args=[case.pk]),
        {
            "user": doctor.pk,
            "team_role": _role("praktický lékař pro děti a dorost").pk,
            "valid_from": TODAY().isoformat(),
        },
        follow=True,
    )
    assert "Člen byl přidán do týmu." in _html(response)
    assert TeamMembership.objects.filter(case=case, user=doctor, ended_at__isnull=True).exists()
    assert "Pavel Lékař" in _html(client.get(reverse("case_detail", args=[case.pk])))
    assert _client(doctor).get(reverse("case_detail", args=[case.pk])).status_code == 200


def test_adding_a_member_twice_is_a_field_error_and_changes_nothing(
    case: Case, coordinator: User, teacher: User
) -> None:
    before = list(TeamMembership.objects.values_list("pk", "ended_at"))
    response = _client(coordinator).post(
        reverse("case_team", args=[case.pk]),
        {"user": teacher.pk, "team_role": _role().pk, "valid_from": TODAY().isoformat()},
    )
    assert response.status_code == 200
    assert INVALID_CHOICE_CS in _errors(_html(response))
    assert list(TeamMembership.objects.values_list("pk", "ended_at")) == before


def test_last_day_before_first_day_is_a_field_error(coordinator: User, olomouc: object) -> None:
    case = _open_case(coordinator)
    doctor = _health_partner(olomouc)
    response = _client(coordinator).post(
        reverse("case_team", args=[case.pk]),
        {
            "user": doctor.pk,
            "team_role": _role().pk,
            "valid_from": (TODAY() + datetime.timedelta(days=10)).isoformat(),
            "valid_until": (TODAY() + datetime.timedelta(days=5)).isoformat(),
        },
    )
    html = _html(response)
    assert response.status_code == 200
    assert "Poslední den nemůže být před prvním dnem." in _errors(html)
    assert "Nic nebylo uloženo" in html
    assert not TeamMembership.objects.filter(case=case).exists()


def test_tampered_person_and_role_ids_are_field_errors(coordinator: User, dpo: User) -> None:
    case = _open_case(coordinator)
    response = _client(coordinator).post(
        reverse("case_team", args=[case.pk]),
        {"user": dpo.pk, "team_role": 999_999, "valid_from": TODAY().isoformat()},
    )
    errors = _errors(_html(response))
    assert errors.count(INVALID_CHOICE_CS) == 2
    assert not TeamMembership.objects.filter(case=case).exists()


def test_ending_a_membership_ends_the_members_access_at_once(case: Case, coordinator: User, teacher: User) -> None:
    membership = TeamMembership.objects.get(case=case, user=teacher)
    url = reverse("team_member_end", args=[case.pk, membership.pk])
    client = _client(coordinator)
    assert "Ukončit členství" in _html(client.get(url))
    assert client.post(url, {"reason": ""}).status_code == 200  # no reason: field error, nothing ended
    assert TeamMembership.objects.get(pk=membership.pk).ended_at is None
    response = client.post(url, {"reason": "task_done", "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("case_team", args=[case.pk])
    assert TeamMembership.objects.get(pk=membership.pk).ended_at is not None
    assert _client(teacher).get(reverse("case_detail", args=[case.pk])).status_code == 404
    past = _html(client.get(reverse("case_detail", args=[case.pk])))
    assert "Bývalí členové" in past


def test_a_membership_of_another_case_is_not_found(case: Case, coordinator: User, teacher: User) -> None:
    other = _open_case(coordinator, given_name="Jiné", born=datetime.date(2015, 1, 2))
    foreign = _add(other, teacher, coordinator)
    url = reverse("team_member_end", args=[case.pk, foreign.pk])
    client = _client(coordinator)
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "task_done"}).status_code == 404
    assert TeamMembership.objects.get(pk=foreign.pk).ended_at is None


# --- Handover, opening, closing ----------------------------------------------------------------------------------


def test_handover_to_a_partner_is_a_field_error(case: Case, coordinator: User, teacher: User, supervisor: User) -> None:
    client = _client(coordinator)
    people = _select(_html(client.get(reverse("case_handover", args=[case.pk]))), "coordinator")
    assert f'value="{supervisor.pk}"' in people
    assert f'value="{teacher.pk}"' not in people
    assert f'value="{coordinator.pk}"' not in people
    response = client.post(reverse("case_handover", args=[case.pk]), {"coordinator": teacher.pk, "reason": "workload"})
    assert response.status_code == 200
    assert INVALID_CHOICE_CS in _errors(_html(response))
    assert Case.objects.get(pk=case.pk).coordinator == coordinator


def test_after_handing_over_the_coordinator_lands_on_the_list(
    case: Case, coordinator: User, ospod: Organisation
) -> None:
    colleague = UserFactory.create(role=Role.OSPOD_WORKER, organisation=ospod, first_name="Marta", last_name="Nová")
    response = _client(coordinator).post(
        reverse("case_handover", args=[case.pk]), {"coordinator": colleague.pk, "reason": "workload"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("case_list")
    assert f"Případ {case.reference} byl předán." in _html(response)
    assert Case.objects.get(pk=case.pk).coordinator == colleague
    assert _client(coordinator).get(reverse("case_detail", args=[case.pk])).status_code == 404
    history = _html(_client(colleague).get(reverse("case_handover", args=[case.pk])))
    assert "první přidělení" in history
    assert "pracovní vytížení" in history


def test_supervisor_hands_over_and_stays_on_the_case(case: Case, supervisor: User, ospod: Organisation) -> None:
    colleague = UserFactory.create(role=Role.OSPOD_WORKER, organisation=ospod)
    response = _client(supervisor).post(
        reverse("case_handover", args=[case.pk]), {"coordinator": colleague.pk, "reason": "absence"}
    )
    assert response["Location"] == reverse("case_detail", args=[case.pk])


def test_coordinator_opens_a_case_from_the_child_page(coordinator: User) -> None:
    child = register_child(by=coordinator, given_name="Tomáš", family_name="Dvořák", female=False)
    client = _client(coordinator)
    page = _html(client.get(reverse("child_detail", args=[child.pk])))
    assert reverse("case_open", args=[child.pk]) in page
    form = _html(client.get(reverse("case_open", args=[child.pk])))
    assert "Tomáš Dvořák" in form
    assert re.search(rf'<option value="{coordinator.pk}" selected>', form)
    response = client.post(
        reverse("case_open", args=[child.pk]), {"coordinator": coordinator.pk, "reason": "report"}, follow=True
    )
    opened = Case.objects.get(child=child)
    assert response.redirect_chain[-1][0] == reverse("case_detail", args=[opened.pk])
    assert f"Případ {opened.reference} byl otevřen." in _html(response)
    page = _html(client.get(reverse("child_detail", args=[child.pk])))
    assert reverse("case_detail", args=[opened.pk]) in page
    assert reverse("case_open", args=[child.pk]) not in page


def test_a_second_case_for_the_same_child_is_refused_with_an_error(case: Case, coordinator: User) -> None:
    response = _client(coordinator).post(
        reverse("case_open", args=[case.child_id]), {"coordinator": coordinator.pk, "reason": "report"}
    )
    assert response.status_code == 200
    html = _html(response)
    assert "Dítě už má otevřený případ" in html
    assert "Nic nebylo uloženo" in html
    assert Case.objects.filter(child_id=case.child_id).count() == 1


def test_opening_a_case_needs_an_eligible_coordinator_and_a_reason(coordinator: User, teacher: User) -> None:
    child = register_child(by=coordinator)
    response = _client(coordinator).post(reverse("case_open", args=[child.pk]), {"coordinator": teacher.pk})
    errors = _errors(_html(response))
    assert INVALID_CHOICE_CS in errors
    assert "Toto pole je povinné." in errors
    assert not Case.objects.filter(child=child).exists()


def test_partners_cannot_reach_the_open_case_page(coordinator: User, teacher: User) -> None:
    child = register_child(by=coordinator)
    assert _client(teacher).get(reverse("case_open", args=[child.pk])).status_code == 404


def test_the_old_close_address_closes_nothing_and_leads_to_the_closure_proposal(
    case: Case, coordinator: User, teacher: User
) -> None:
    """Closing takes four eyes now (``case_closure_request``, a supervisor approves): whatever is posted to the old
    direct-close address is not acted upon."""
    client = _client(coordinator)
    proposal = reverse("case_closure_request", args=[case.pk])
    response = client.get(reverse("case_close", args=[case.pk]))
    assert (response.status_code, response["Location"]) == (302, proposal)
    response = client.post(reverse("case_close", args=[case.pk]), {"reason": CloseReason.GOALS_MET})
    assert (response.status_code, response["Location"]) == (302, proposal)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    assert _client(teacher).get(reverse("case_detail", args=[case.pk])).status_code == 200  # the team still works
    assert _client(teacher).post(reverse("case_close", args=[case.pk])).status_code == 403


# --- Sharing and consents ----------------------------------------------------------------------------------------


def _share_form(recipient: str, item: str, **extra: str) -> dict[str, str]:
    data = {
        "recipient": recipient,
        "item": item,
        "purpose": "příprava případové konference",
        "valid_until": (TODAY() + datetime.timedelta(days=14)).isoformat(),
        "consent": "",
    }
    data.update(extra)
    return data


def test_sharing_a_social_note_with_the_teacher_and_revoking_it(case: Case, coordinator: User, teacher: User) -> None:
    note = CaseNote.objects.get(case=case, compartment="social")
    client = _client(coordinator)
    form = _html(client.get(reverse("case_sharing", args=[case.pk])))
    assert f'value="note:{note.pk}"' in form
    assert SOCIAL_TEXT not in form  # notes are offered by date, part and author, never by text
    response = client.post(
        reverse("case_sharing", args=[case.pk]), _share_form(f"user:{teacher.pk}", f"note:{note.pk}")
    )
    assert response.status_code == 302
    share = Share.objects.get(case=case)

    page = _html(_client(teacher).get(reverse("case_detail", args=[case.pk])))
    assert SOCIAL_TEXT in page
    assert "sdíleno s vámi" in page
    assert HIDDEN_CS in page  # the rest of the social part stays hidden

    assert "Odvolat sdílení" in _html(client.get(reverse("share_revoke", args=[case.pk, share.pk])))
    response = client.post(reverse("share_revoke", args=[case.pk, share.pk]), follow=True)
    assert "Sdílení bylo odvoláno." in _html(response)
    assert "odvoláno" in _html(client.get(reverse("case_sharing", args=[case.pk])))
    page = _html(_client(teacher).get(reverse("case_detail", args=[case.pk])))
    assert SOCIAL_TEXT not in page
    assert "sdíleno s vámi" not in page


def test_share_form_refuses_tampered_values_and_saves_nothing(case: Case, coordinator: User, dpo: User) -> None:
    client = _client(coordinator)
    url = reverse("case_sharing", args=[case.pk])
    foreign_note = _note(
        _open_case(coordinator, given_name="Cizí", born=datetime.date(2012, 2, 2)), coordinator, "social", "x"
    )
    for data in (
        _share_form(f"user:{dpo.pk}", "compartment:school"),
        _share_form("org:999999", "compartment:school"),
        _share_form(f"user:{case.memberships.get().user_id}", f"note:{foreign_note.pk}"),
        _share_form(f"user:{case.memberships.get().user_id}", "compartment:notifier"),
    ):
        response = client.post(url, data)
        assert response.status_code == 200
        assert INVALID_CHOICE_CS in _errors(_html(response)), data
    assert not Share.objects.exists()


def test_sharing_health_needs_a_standing_agreement(case: Case, coordinator: User, teacher: User) -> None:
    response = _client(coordinator).post(
        reverse("case_sharing", args=[case.pk]), _share_form(f"user:{teacher.pk}", "compartment:health")
    )
    assert response.status_code == 200
    assert "Ke sdílení této informace je potřeba zaznamenaný souhlas." in _errors(_html(response))
    assert not Share.objects.exists()


def test_withdrawing_the_consent_stops_a_health_share(case: Case, coordinator: User, teacher: User) -> None:
    _note(case, coordinator, "health", HEALTH_TEXT)
    client = _client(coordinator)
    response = client.post(
        reverse("consent_add", args=[case.pk]),
        {
            "compartment": "health",
            "given_by": "mother",
            "given_by_name": "Jana Nováková",
            "on_behalf_of_child": "on",
            "given_on": TODAY().isoformat(),
        },
    )
    assert response.status_code == 302
    assert "Nováková" not in response["Location"]
    consent = Consent.objects.get(case=case)
    response = client.post(
        reverse("case_sharing", args=[case.pk]),
        _share_form(f"org:{teacher.organisation_id}", "compartment:health", consent=str(consent.pk)),
    )
    assert response.status_code == 302, _errors(_html(response))
    assert HEALTH_TEXT in _html(_client(teacher).get(reverse("case_detail", args=[case.pk])))

    url = reverse("consent_withdraw", args=[case.pk, consent.pk])
    future = client.post(url, {"withdrawn_on": (TODAY() + datetime.timedelta(days=1)).isoformat()})
    assert "Datum musí být mezi dnem souhlasu a dneškem." in _errors(_html(future))
    assert client.post(url, {"withdrawn_on": TODAY().isoformat()}).status_code == 302
    assert HEALTH_TEXT not in _html(_client(teacher).get(reverse("case_detail", args=[case.pk])))
    assert "souhlas odvolán" in _html(client.get(reverse("case_sharing", args=[case.pk])))


def test_consent_form_shows_service_errors_on_its_fields(case: Case, coordinator: User) -> None:
    response = _client(coordinator).post(
        reverse("consent_add", args=[case.pk]),
        {
            "compartment": "health",
            "given_by": "mother",
            "given_by_name": "Jana Nováková",
            "given_on": (TODAY() + datetime.timedelta(days=3)).isoformat(),
        },
    )
    assert "Datum nemůže být v budoucnosti." in _errors(_html(response))
    assert not Consent.objects.exists()


# --- The list ----------------------------------------------------------------------------------------------------


def test_case_list_tabs_and_filters(case: Case, coordinator: User, supervisor: User, teacher: User) -> None:
    mine = _html(_client(coordinator).get(reverse("case_list")))
    assert case.reference in mine
    assert "Eliška Nováková" in mine
    assert "koordinátor" in mine
    assert 'aria-current="page">Moje případy' in mine

    boss = _html(_client(supervisor).get(reverse("case_list")))
    assert 'aria-current="page">Všechny případy úřadu' in boss
    assert case.reference in boss
    assert "vedoucí" in boss
    assert case.reference not in _html(_client(supervisor).get(reverse("case_list"), {"scope": "coordinating"}))

    partner = _html(_client(teacher).get(reverse("case_list")))
    assert case.reference in partner
    assert "člen týmu" in partner
    assert "Moje případy" not in partner

    number = case.reference.rsplit("/", 1)[1]
    assert case.reference in _html(_client(coordinator).get(reverse("case_list"), {"q": number}))
    assert case.reference not in _html(_client(coordinator).get(reverse("case_list"), {"q": "9999"}))
    assert case.reference not in _html(_client(coordinator).get(reverse("case_list"), {"status": "closed"}))


def test_case_list_reads_children_in_one_batch_with_a_fixed_number_of_queries(coordinator: User, teacher: User) -> None:
    def count(user: User) -> int:
        client = _client(user)
        client.get(reverse("case_list"))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("case_list")).status_code == 200
        return len(queries)

    first = _open_case(coordinator, given_name="První")
    _add(first, teacher, coordinator)
    before = {user.pk: count(user) for user in (coordinator, teacher)}
    for n in range(4):
        _add(_open_case(coordinator, given_name=f"Další{n}", born=datetime.date(2012, 4, n + 1)), teacher, coordinator)
    share_grant(
        case=first,
        granted_by=coordinator,
        recipient_user=teacher,
        compartment="services",
        purpose="podklady",
        valid_until=TODAY() + datetime.timedelta(days=7),
    )
    for user in (coordinator, teacher):
        assert count(user) == before[user.pk], user.username


def test_dpo_has_no_case_list(dpo: User) -> None:
    assert _client(dpo).get(reverse("case_list")).status_code == 403


# --- Language ----------------------------------------------------------------------------------------------------


def test_the_case_page_switches_to_english(case: Case, teacher: User) -> None:
    client = _client(teacher)
    client.cookies.load({"django_language": "en"})
    html = _html(client.get(reverse("case_detail", args=[case.pk])))
    assert '<html lang="en">' in html
    assert "Hidden: your role does not see this part of the file." in html
    assert "Team" in html
    assert "class teacher" in html
    assert HIDDEN_CS not in html
