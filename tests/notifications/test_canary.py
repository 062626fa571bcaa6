"""The canary: a case whose every protected value carries a unique marker goes through every service that notifies;
the marker must appear in no websocket payload, no notification row, no e-mail and no log record.

A leak would not need a bug in this app: a service passing a note's text, a name or a share's purpose where an id
belongs would be enough. This test runs them all for real and looks everywhere notifications go.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from casework.compartments import Compartment
from casework.models import NOTE_COMPARTMENTS, CloseReason, HandoverReason, MembershipEndReason, Organisation, User
from casework.services import (
    RepresentativeInput,
    case_close,
    case_open,
    coordinator_handover,
    team_member_end,
)
from notifications.models import Kind, Notification
from notifications.services import notify
from permissions.sharing import consent_withdraw, share_revoke
from tests.factories import add_member, ospod_staff, partner, record_consent, share, write_note
from tests.factories.children import register_child
from tests.scan import find_in_database

from .conftest import connected, db, frames, login_cookie, run, socket

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "Kanarek7Q4Z"


def _notification_tables(hits: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(table, column) for table, column in hits if table.startswith("notifications_")]


def test_no_protected_text_reaches_sockets_rows_emails_or_logs(
    coordinator: User,
    supervisor: User,
    teacher: User,
    ospod: Organisation,
    caplog: pytest.LogCaptureFixture,
    mailoutbox: list[Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    assert teacher.organisation is not None
    doctor = partner("health", municipality=ospod.municipality)
    colleague = partner("school", org=teacher.organisation)
    successor = ospod_staff(ospod)
    people = [coordinator, supervisor, teacher, doctor, colleague, successor]
    child = register_child(
        by=coordinator,
        given_name=f"Anna{MARKER}",
        family_name=f"Nová{MARKER}",
        address=f"Lipová 1 {MARKER}, Olomouc",
        representatives=[RepresentativeInput(relation="mother", full_name=f"Jana {MARKER}", contact=f"+420 {MARKER}")],
    )
    live_cookies = [login_cookie(user) for user in (teacher, doctor)]
    later_cookies = [login_cookie(user) for user in people]

    def every_service() -> str:
        case = case_open(child=child, coordinator=coordinator, opened_by=supervisor, reason="report")
        on_team = [add_member(case, user, coordinator) for user in (teacher, doctor, colleague)]
        notes = {c: write_note(case, coordinator, c, f"Záznam {MARKER} {c}") for c in NOTE_COMPARTMENTS}
        write_note(case, teacher, Compartment.SCHOOL, f"Ze školy {MARKER}")
        consent = record_consent(case, coordinator, compartment=Compartment.HEALTH, given_by_name=f"Jana {MARKER}")
        one_note = share(case, coordinator, with_user=teacher, note=notes[Compartment.SOCIAL], purpose=f"účel {MARKER}")
        share(
            case, coordinator, with_organisation=teacher.organisation, compartment="services", purpose=f"pro {MARKER}"
        )
        share(case, coordinator, with_user=teacher, compartment=Compartment.HEALTH, consent=consent, purpose=MARKER)
        share_revoke(share=one_note, revoked_by=coordinator)
        consent_withdraw(consent=consent, withdrawn_by=coordinator)
        coordinator_handover(case=case, to=successor, by=coordinator, reason=HandoverReason.WORKLOAD)
        team_member_end(membership=on_team[0], ended_by=successor, reason=MembershipEndReason.TASK_DONE)
        case_close(case=case, closed_by=successor, reason=CloseReason.GOALS_MET)
        with transaction.atomic():  # an escalation, as the deadline job will write one: urgent, e-mailed at once
            notify(recipient_id=supervisor.pk, kind=Kind.ESCALATION, case_id=case.pk, case_reference=case.reference)
        return case.reference

    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        payloads: list[dict[str, Any]] = []
        live = [await connected(socket(cookie)) for cookie in live_cookies]
        reference = await db(every_service)()
        for communicator in live:
            payloads += await frames(communicator)
            await communicator.disconnect()
        await db(call_command)("notifications_relay", "--after", "0")
        for cookie in later_cookies:
            communicator = await connected(socket(cookie, last_seen=0))
            await communicator.send_json_to({"type": "ping"})
            payloads += await frames(communicator)
            await communicator.disconnect()
        return reference, payloads

    reference, payloads = run(scenario)
    call_command("notifications_email")
    call_command("notifications_email", "--digest")

    # Not vacuous: every kind the services write came through, and the e-mails went out.
    kinds = {p["kind"] for p in payloads if p["type"] == "notification"}
    assert kinds >= {
        "case_assigned",
        "membership_added",
        "membership_ended",
        "share_granted",
        "share_revoked",
        "escalation",
    }
    assert Notification.objects.count() == len({p["id"] for p in payloads if p["type"] == "notification"})
    assert len(mailoutbox) >= 5
    assert _notification_tables(find_in_database([reference]))  # the scan does see the notifications table

    wire = json.dumps(payloads, ensure_ascii=False)
    assert MARKER not in wire
    assert _notification_tables(find_in_database([MARKER])) == []
    for message in mailoutbox:
        assert MARKER not in message.subject + message.body
        assert reference not in message.subject + message.body  # e-mails say only that there is something new
    assert MARKER not in caplog.text
    assert not [record for record in caplog.records if MARKER in record.getMessage()]
