"""The administrator cannot become a reader (issue 19): account changes wait for a second person, administrators never
set a password, and every step is in the audit chain and told to the authority's supervisors and the DPO."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from casework.models import AccountChangeRequest, AccountChangeStatus, CaseNote, Role, Sector, User
from casework.selectors.accounts import account_changes_pending
from casework.services.account_changes import account_change_decide, account_update
from notifications.models import Kind, Notification
from permissions.management.commands.verify_audit import verify_chain
from permissions.models import AuditAction, AuditEvent, AuditOutcome
from tests.factories import TEST_PASSWORD, MunicipalityFactory, UserFactory
from tests.factories.cases import add_member, open_case, organisation, ospod_staff, school_partner, write_note

pytestmark = pytest.mark.django_db

ATTACKER_PASSWORD = "Utocnikovo-heslo-2026"
NOTE_CANARY = "KANAR-poznamka-OSPOD-7731"
CHILD_CANARY = "Kanárková"


class World:
    def __init__(self) -> None:
        self.municipality = MunicipalityFactory.create()
        self.ospod = organisation(Sector.OSPOD, self.municipality)
        self.supervisor = ospod_staff(self.ospod, role=Role.SUPERVISOR, username="vedouci")
        self.worker = ospod_staff(self.ospod, username="koordinator")
        self.administrator = UserFactory.create(role=Role.ADMINISTRATOR, username="spravce", email="spravce@x.test")
        self.administrator.set_password(ATTACKER_PASSWORD)
        self.administrator.save()
        self.second_administrator = UserFactory.create(role=Role.ADMINISTRATOR, username="spravce2")
        self.dpo = UserFactory.create(role=Role.DPO, username="poverenec")
        self.partner = school_partner(municipality=self.municipality, username="ucitelka")
        self.case = open_case(coordinator=self.worker, family_name=CHILD_CANARY)
        add_member(self.case, self.partner, self.worker)
        write_note(self.case, self.worker, "social", NOTE_CANARY)


@pytest.fixture
def world() -> World:
    return World()


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def _change_form(client: Client, user: User, **changes: Any) -> Any:
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "job_title": user.job_title,
        "organisation": user.organisation_id or "",
        "role": user.role,
        "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None and v != ""}
    return client.post(f"/admin/casework/user/{user.pk}/change/", data)


def _purposes(user_id: int) -> list[tuple[str, str, str]]:
    rows = AuditEvent.objects.filter(object_type="casework.user", object_id=str(user_id)).order_by("seq")
    return [(row.action, row.purpose, row.outcome) for row in rows]


def _case_page(client: Client, world: World) -> Any:
    return client.get(reverse("case_detail", kwargs={"case_id": world.case.pk}))


# --- The attack, step by step -----------------------------------------------------------------------------------------


def test_the_administrators_attack_fails_at_each_step_and_each_step_is_in_the_chain(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    admin_client = Client()
    # 0. The administrator logs in (audited).
    assert _login(admin_client, "spravce", ATTACKER_PASSWORD).status_code == 302
    assert ("login", "login", "allowed") in _purposes(world.administrator.pk)

    # 1. He creates a supervisor account with his own password and address: the form takes no password, the account
    #    is created inactive and without one, and the change waits for a supervisor of the authority.
    add_form = admin_client.get("/admin/casework/user/add/").content.decode()
    assert 'name="password1"' not in add_form
    assert 'name="usable_password"' not in add_form
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/casework/user/add/",
            {
                "username": "falesny.vedouci",
                "first_name": "Falešný",
                "last_name": "Vedoucí",
                "email": "spravce@x.test",
                "organisation": world.ospod.pk,
                "role": Role.SUPERVISOR,
                "usable_password": "true",
                "password1": ATTACKER_PASSWORD,
                "password2": ATTACKER_PASSWORD,
            },
        )
    assert response.status_code == 302
    fake = User.objects.get(username="falesny.vedouci")
    assert not fake.is_active
    assert not fake.has_usable_password()
    assert mail.outbox == []  # no link to set a password before the confirmation
    change = AccountChangeRequest.objects.get(user=fake, status=AccountChangeStatus.PENDING)
    assert change.new_account
    assert change.confirmer == "supervisor"

    # 2. He tries to log in as it with his password: refused, and the failed attempt is in the chain.
    thief = Client()
    assert _login(thief, "falesny.vedouci", ATTACKER_PASSWORD).status_code == 200
    assert "_auth_user_id" not in thief.session
    assert ("login", "login failed", "denied") in _purposes(fake.pk)

    # 3. He tries to set its password in the admin: there is no such page for another person's account.
    assert admin_client.get(f"/admin/casework/user/{fake.pk}/password/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/casework/user/{fake.pk}/password/",
            {"password1": ATTACKER_PASSWORD, "password2": ATTACKER_PASSWORD},
        ).status_code
        == 403
    )

    # 4. He sends the inactive account a reset link: refused, nothing sent.
    admin_client.post(
        "/admin/casework/user/", {"action": "send_password_link", "_selected_action": [fake.pk]}, follow=True
    )
    assert mail.outbox == []

    # 5. He switches the account on in the change form: it stays off; the request is replaced, still waiting.
    assert _change_form(admin_client, fake, is_active="on").status_code == 302
    fake.refresh_from_db()
    assert not fake.is_active
    change = AccountChangeRequest.objects.get(user=fake, status=AccountChangeStatus.PENDING)

    # 6. He confirms his own request: refused (403), nothing changes, the attempt is in the chain.
    response = admin_client.post(reverse("account_change_decide", args=[change.pk]), {"decision": "confirm"})
    assert response.status_code == 403
    fake.refresh_from_db()
    assert not fake.is_active
    assert ("account", "account change decision refused to this person", "denied") in _purposes(fake.pk)

    # 7. He turns an existing partner of the case's team into a supervisor (and gives it his address): the partner
    #    keeps the partner's role, organisation and address, and still cannot read the case's social notes.
    original_email = world.partner.email
    assert (
        _change_form(
            admin_client, world.partner, role=Role.SUPERVISOR, organisation=world.ospod.pk, email="spravce@x.test"
        ).status_code
        == 302
    )
    world.partner.refresh_from_db()
    assert (world.partner.role, world.partner.sector, world.partner.email) == (
        Role.PARTNER,
        Sector.SCHOOL,
        original_email,
    )
    partner_client = Client()
    partner_client.force_login(world.partner)
    page = _case_page(partner_client, world)
    assert page.status_code == 200
    assert NOTE_CANARY not in page.content.decode()
    partner_change = AccountChangeRequest.objects.get(user=world.partner, status=AccountChangeStatus.PENDING)
    assert sorted(partner_change.changed_fields) == ["email", "organisation", "role"]

    # 8. He sends the partner a reset link: it goes to the partner's own address, never to his.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/casework/user/", {"action": "send_password_link", "_selected_action": [world.partner.pk]}
        )
    assert [m.to for m in mail.outbox] == [[original_email]]

    # 9. The supervisor sees both requests with the address the administrator gave, and refuses them.
    supervisor_client = Client()
    supervisor_client.force_login(world.supervisor)
    listing = supervisor_client.get(reverse("account_changes")).content.decode()
    assert "falesny.vedouci" in listing
    assert "spravce@x.test" in listing
    for pending in (change, partner_change):
        response = supervisor_client.post(reverse("account_change_decide", args=[pending.pk]), {"decision": "refuse"})
        assert response.status_code == 302
    fake.refresh_from_db()
    world.partner.refresh_from_db()
    assert not fake.is_active
    assert world.partner.role == Role.PARTNER

    # Every step is in the chain, and the chain holds.
    assert _purposes(fake.pk) == [
        ("account", "account created, awaiting confirmation", "allowed"),
        ("login", "login failed", "denied"),
        ("account", "account change withdrawn", "allowed"),
        ("account", "account change requested", "allowed"),
        ("account", "account change decision refused to this person", "denied"),
        ("account", "account change refused", "allowed"),
    ]
    partner_rows = _purposes(world.partner.pk)
    assert ("account", "account change requested", "allowed") in partner_rows
    assert ("account", "password reset link sent", "allowed") in partner_rows
    assert ("account", "account change refused", "allowed") in partner_rows
    requested = AuditEvent.objects.get(object_id=str(world.partner.pk), purpose="account change requested")
    assert requested.field_names == ["email", "organisation", "role"]
    assert requested.actor_id == world.administrator.pk
    assert verify_chain().first_break is None


def test_a_supervisor_confirms_and_the_change_takes_effect(world: World) -> None:
    change = account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email=world.partner.email,
        is_active=True,
    )
    assert change is not None
    with pytest.raises(PermissionDenied):
        account_change_decide(change_id=change.pk, by=world.partner, confirm=True)  # not the account's owner
    with pytest.raises(PermissionDenied):
        account_change_decide(change_id=change.pk, by=world.dpo, confirm=True)  # the DPO watches, never decides
    account_change_decide(change_id=change.pk, by=world.supervisor, confirm=True)
    world.partner.refresh_from_db()
    assert world.partner.role == Role.OSPOD_WORKER
    assert world.partner.organisation == world.ospod
    confirmed = AuditEvent.objects.get(object_id=str(world.partner.pk), purpose="account change confirmed")
    assert confirmed.actor_id == world.supervisor.pk
    assert confirmed.action == AuditAction.ACCOUNT
    with translation.override("en"), pytest.raises(ValidationError, match="already decided"):
        account_change_decide(change_id=change.pk, by=world.supervisor, confirm=True)
    assert verify_chain().first_break is None


def test_a_supervisor_of_another_authority_neither_sees_nor_decides(world: World) -> None:
    other = organisation(Sector.OSPOD, MunicipalityFactory.create(code="PV"))
    stranger = ospod_staff(other, role=Role.SUPERVISOR)
    change = account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email=world.partner.email,
        is_active=True,
    )
    assert change is not None
    assert account_changes_pending(user=stranger).rows == ()
    client = Client()
    client.force_login(stranger)
    assert client.post(reverse("account_change_decide", args=[change.pk]), {"decision": "confirm"}).status_code == 403
    world.partner.refresh_from_db()
    assert world.partner.role == Role.PARTNER


def test_a_dpo_account_is_confirmed_by_a_second_administrator(world: World) -> None:
    office = organisation(Sector.OTHER, world.municipality, name="Úřad")
    candidate = UserFactory.create(role=Role.PARTNER, organisation=office)
    change = account_update(
        account=candidate,
        by=world.administrator,
        role=Role.DPO,
        organisation=office,
        email=candidate.email,
        is_active=True,
    )
    assert change is not None
    assert change.confirmer == "administrator"
    assert change.municipality_id is None
    for refused_by in (world.administrator, world.supervisor):
        with pytest.raises(PermissionDenied):
            account_change_decide(change_id=change.pk, by=refused_by, confirm=True)
    told = Notification.objects.filter(kind=Kind.ACCOUNT_CHANGE_TO_CONFIRM).values_list("recipient_id", flat=True)
    assert list(told) == [world.second_administrator.pk]
    account_change_decide(change_id=change.pk, by=world.second_administrator, confirm=True)
    candidate.refresh_from_db()
    assert candidate.role == Role.DPO


def test_the_database_refuses_a_decision_by_the_requester(world: World) -> None:
    from django.db import IntegrityError, transaction

    change = account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email=world.partner.email,
        is_active=True,
    )
    assert change is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountChangeRequest.objects.filter(pk=change.pk).update(
            status=AccountChangeStatus.CONFIRMED, decided_by=world.administrator
        )


def test_names_and_deactivation_take_effect_at_once_and_are_audited(world: World) -> None:
    change = account_update(
        account=world.partner,
        by=world.administrator,
        role=world.partner.role,
        organisation=world.partner.organisation,
        email=world.partner.email,
        is_active=False,
        details={"job_title": "výchovná poradkyně"},
    )
    assert change is None
    world.partner.refresh_from_db()
    assert not world.partner.is_active
    assert world.partner.job_title == "výchovná poradkyně"
    row = AuditEvent.objects.get(object_id=str(world.partner.pk), purpose="account deactivated")
    assert row.field_names == ["is_active", "job_title"]


def test_the_records_officer_flag_takes_effect_at_once_is_audited_and_told(world: World) -> None:
    Notification.objects.all().delete()
    account_update(
        account=world.worker,
        by=world.administrator,
        role=world.worker.role,
        organisation=world.worker.organisation,
        email=world.worker.email,
        is_active=True,
        details={"is_records_officer": True},
    )
    world.worker.refresh_from_db()
    assert world.worker.is_records_officer
    row = AuditEvent.objects.get(object_id=str(world.worker.pk), purpose="account details changed")
    assert row.field_names == ["is_records_officer"]
    told = Notification.objects.filter(kind=Kind.ACCOUNT_CHANGED).values_list("recipient_id", flat=True)
    assert sorted(told) == sorted([world.supervisor.pk, world.dpo.pk])


# --- Notifications: to the authority's supervisors and the DPO, with no protected content ---------------------------


def test_account_changes_are_told_to_supervisors_and_the_dpo_without_content(world: World) -> None:
    Notification.objects.all().delete()
    account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email=world.partner.email,
        is_active=True,
    )
    changed = Notification.objects.filter(kind=Kind.ACCOUNT_CHANGED)
    assert sorted(changed.values_list("recipient_id", flat=True)) == sorted([world.supervisor.pk, world.dpo.pk])
    to_confirm = Notification.objects.filter(kind=Kind.ACCOUNT_CHANGE_TO_CONFIRM)
    assert list(to_confirm.values_list("recipient_id", flat=True)) == [world.supervisor.pk]
    for row in Notification.objects.all():
        assert row.case_id is None
        assert row.case_reference == ""
        stored = " ".join(str(v) for v in Notification.objects.filter(pk=row.pk).values_list().get())
        for canary in (NOTE_CANARY, CHILD_CANARY, world.partner.last_name, world.partner.email):
            assert canary not in stored
    client = Client()
    client.force_login(world.supervisor)
    opened = client.get(reverse("notification_open", args=[to_confirm.first().pk]))  # type: ignore[union-attr]
    assert opened["Location"] == reverse("account_changes")


def test_second_factor_reset_is_told_to_supervisors_and_the_dpo(world: World) -> None:
    from casework.services.accounts import second_factor_remove

    Notification.objects.all().delete()
    second_factor_remove(user=world.worker, removed_by=world.administrator)
    told = Notification.objects.filter(kind=Kind.ACCOUNT_CHANGED).values_list("recipient_id", flat=True)
    assert sorted(told) == sorted([world.supervisor.pk, world.dpo.pk])


# --- Reset links and one's own password -------------------------------------------------------------------------------


def test_the_reset_link_lets_the_person_set_their_password_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    admin_client = Client()
    admin_client.force_login(world.administrator)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/casework/user/", {"action": "send_password_link", "_selected_action": [world.worker.pk]}
        )
    [message] = mail.outbox
    assert message.to == [world.worker.email]
    for canary in (NOTE_CANARY, CHILD_CANARY, world.worker.last_name, world.case.reference):
        assert canary not in message.body
        assert canary not in message.subject
    link = re.search(r"http\S+/accounts/password/set/\S+/", str(message.body))
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]
    person = Client()
    form_page = person.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "Nove-vlastni-heslo-2026"
    done = person.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    assert done["Location"] == reverse("password_set_done")
    world.worker.refresh_from_db()
    assert world.worker.check_password(new_password)
    assert ("account", "password set with a reset link", "allowed") in _purposes(world.worker.pk)
    with translation.override("cs"):
        again = Client().get(path, follow=True)
    assert 'data-testid="link-invalid"' in again.content.decode()


def test_a_person_changes_their_own_password(world: World) -> None:
    client = Client()
    client.force_login(world.worker)
    new_password = "Jine-vlastni-heslo-2026"
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    world.worker.refresh_from_db()
    assert world.worker.check_password(new_password)
    assert ("account", "password changed by its owner", "allowed") in _purposes(world.worker.pk)
    wrong = client.post(
        reverse("password_change"), {"old_password": "spatne", "new_password1": "x", "new_password2": "y"}
    )
    assert wrong.status_code == 200  # field errors, nothing changed
    world.worker.refresh_from_db()
    assert world.worker.check_password(new_password)


# --- The confirmation list: who reaches it, and its statement count ------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.SUPERVISOR, 200),
        (Role.ADMINISTRATOR, 200),
        (Role.DPO, 200),
        (Role.OSPOD_WORKER, 403),
        (Role.PARTNER, 403),
    ],
)
def test_who_reaches_the_account_changes_list(role: str, status: int) -> None:
    client = Client()
    client.force_login(UserFactory.create(role=role))
    assert client.get(reverse("account_changes")).status_code == status
    assert client.post(reverse("account_change_decide", args=[999999]), {"decision": "confirm"}).status_code in (
        status if status == 403 else 302,
    )


def test_the_list_runs_a_fixed_number_of_statements(world: World, django_assert_num_queries: Any) -> None:
    def request_changes(count: int) -> None:
        for _ in range(count):
            person = school_partner(municipality=world.municipality)
            account_update(
                account=person,
                by=world.administrator,
                role=Role.OSPOD_WORKER,
                organisation=world.ospod,
                email=person.email,
                is_active=True,
            )

    viewer = User.objects.get(pk=world.supervisor.pk)
    request_changes(2)
    with django_assert_num_queries(2):
        small = account_changes_pending(user=viewer)
    request_changes(60)
    viewer = User.objects.get(pk=world.supervisor.pk)
    with django_assert_num_queries(2):
        large = account_changes_pending(user=viewer)
    assert len(small.rows) == 2
    assert len(large.rows) == 50
    assert large.next_before is not None
    rest = account_changes_pending(user=viewer, before=large.next_before)
    assert len(rest.rows) == 12
    assert rest.next_before is None


def test_the_list_shows_no_case_content(world: World) -> None:
    account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email=world.partner.email,
        is_active=True,
    )
    client = Client()
    client.force_login(world.supervisor)
    html = client.get(reverse("account_changes")).content.decode()
    assert world.partner.username in html
    assert NOTE_CANARY not in html
    assert CHILD_CANARY not in html
    assert not CaseNote.objects.filter(pk__isnull=True).exists()


def test_audit_rows_hold_names_never_values(world: World) -> None:
    account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email="nova.adresa@x.test",
        is_active=True,
    )
    for row in AuditEvent.objects.filter(action=AuditAction.ACCOUNT).values():
        text = " ".join(str(v) for v in row.values())
        assert "nova.adresa@x.test" not in text
        assert world.ospod.name not in text or row["actor_organisation"] == world.ospod.name
    assert AuditEvent.objects.filter(outcome=AuditOutcome.ALLOWED, purpose="account change requested").exists()


def test_an_organisation_with_people_keeps_its_authority_and_sector(world: World) -> None:
    client = Client()
    client.force_login(world.administrator)
    page = client.get(f"/admin/casework/organisation/{world.ospod.pk}/change/").content.decode()
    assert 'name="municipality"' not in page
    assert 'name="sector"' not in page
    other = MunicipalityFactory.create(code="PV")
    client.post(
        f"/admin/casework/organisation/{world.ospod.pk}/change/",
        {"name": world.ospod.name, "sector": Sector.OSPOD, "municipality": other.pk, "ico": ""},
    )
    world.ospod.refresh_from_db()
    assert world.ospod.municipality_id == world.municipality.pk


def test_the_first_supervisor_of_an_authority_is_confirmed_by_another_administrator(world: World) -> None:
    new_orp = MunicipalityFactory.create(code="SU")
    new_ospod = organisation(Sector.OSPOD, new_orp)
    candidate = school_partner(municipality=new_orp)
    change = account_update(
        account=candidate,
        by=world.administrator,
        role=Role.SUPERVISOR,
        organisation=new_ospod,
        email=candidate.email,
        is_active=True,
    )
    assert change is not None
    assert change.confirmer == "administrator"
    with pytest.raises(PermissionDenied):
        account_change_decide(change_id=change.pk, by=world.supervisor, confirm=True)  # another authority's
    account_change_decide(change_id=change.pk, by=world.second_administrator, confirm=True)
    candidate.refresh_from_db()
    assert candidate.role == Role.SUPERVISOR


def test_a_requested_role_change_raises_an_access_anomaly_flag(world: World) -> None:
    from permissions.anomalies import flag_anomalies
    from permissions.models import AccessAnomaly, AnomalyRule

    account_update(
        account=world.partner,
        by=world.administrator,
        role=Role.OSPOD_WORKER,
        organisation=world.ospod,
        email=world.partner.email,
        is_active=True,
    )
    flag_anomalies()
    assert AccessAnomaly.objects.filter(rule=AnomalyRule.ACCOUNT_CHANGED).exists()
