"""Invitations to case conferences: one e-mail per invitee, with an iCalendar file (RFC 5545; iTIP, RFC 5546).

What travels: the case reference and the logistics — when, how long, where or the online link (kept in clear in the
database for this reason) — and, for team members, a link to the conference page. Never the child's name, a
participant's name, the minutes or any other sealed text; each file names one attendee, its recipient, and the
organiser (the coordinator's work address). Czech first, English below.

The UID is stable per conference: calendars replace the earlier invitation when SEQUENCE grows (rescheduling) and
remove the event on ``METHOD:CANCEL``.

Sending waits for the commit (``transaction.on_commit``): a rolled-back schedule sends nothing, and a failed send never
undoes the conference. Failures are logged with the conference id and the exception class only.

The addresses of participants without an account are sealed (identity): they are read through the gate as the lead
who acted, with the purpose :data:`PURPOSE`, so the read is audited like any other; an address the gate withholds is
not written to.
"""

from __future__ import annotations

import datetime
import enum
import logging
import uuid
from dataclasses import dataclass
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casework.models import Case, Conference, ConferenceInvitee, ConferenceStatus, TeamMembership, User
from notifications.emails import EMAIL_LANGUAGES, render_plain_text, site_url
from notifications.models import KIND_TEXTS
from notifications.models import Kind as NotificationKind
from permissions import gate

logger = logging.getLogger("casework.invitations")

#: Why the participants' sealed addresses are read (the audit row's purpose).
PURPOSE = "send case conference invitations"
PRODID = "-//OSPOD case coordination//Case conference//CS"
DEFAULT_DOMAIN = "spod.local"


class Notice(enum.StrEnum):
    """What an e-mail tells: the first invitation, a change of the logistics, or the cancellation."""

    INVITATION = "invitation"
    CHANGED = "changed"
    CANCELLED = "cancelled"

    @property
    def method(self) -> str:
        return "CANCEL" if self is Notice.CANCELLED else "REQUEST"

    @property
    def status(self) -> str:
        """The conference's status this news is about."""
        return ConferenceStatus.CANCELLED if self is Notice.CANCELLED else ConferenceStatus.SCHEDULED

    @property
    def kind(self) -> str:
        return {
            Notice.INVITATION: NotificationKind.CONFERENCE_INVITATION,
            Notice.CHANGED: NotificationKind.CONFERENCE_CHANGED,
            Notice.CANCELLED: NotificationKind.CONFERENCE_CANCELLED,
        }[self]


@dataclass(frozen=True)
class Invitation:
    """One e-mail: to one invitee, about one conference."""

    invitee_id: uuid.UUID
    to: str
    subject: str
    body: str
    ics: str
    method: str


def uid_domain() -> str:
    """The right-hand side of every UID: the site's host name, or ``spod.local`` when the site has none."""
    return urlsplit(site_url()).hostname or DEFAULT_DOMAIN


def conference_uid(conference: Conference) -> str:
    """Stable for the conference's whole life, so calendars update (and cancel) the same event."""
    return f"conference-{conference.pk}@{uid_domain()}"


def organiser_address(case: Case) -> str:
    """The coordinator's work address; the system's own sender address when the coordinator has none."""
    return case.coordinator.email or settings.DEFAULT_FROM_EMAIL


def summary(case: Case) -> str:
    """The event's title: the case reference and nothing else."""
    return " / ".join(dict.fromkeys(_summary_in(language, case.reference) for language in EMAIL_LANGUAGES))


def _summary_in(language: str, reference: str) -> str:
    with translation.override(language):
        return f"{_('Case conference')} {reference}"


def _location(conference: Conference) -> str:
    return conference.place or conference.online_link


def build_ics(
    conference: Conference,
    *,
    case: Case,
    attendee: str,
    notice: Notice,
    page_url: str = "",
    now: datetime.datetime | None = None,
) -> str:
    """The iCalendar file for one recipient: ``METHOD:REQUEST`` (or ``CANCEL``), the stable UID, SEQUENCE, the time in
    UTC, the case reference as the title, the place or the link, the organiser, and ``attendee`` alone."""
    stamp = (now or timezone.now()).astimezone(datetime.UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", notice.method)
    event = icalendar.Event()
    event.add("uid", conference_uid(conference))
    event.add("sequence", conference.sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", conference.starts_at.astimezone(datetime.UTC))
    event.add("dtend", conference.ends_at.astimezone(datetime.UTC))
    event.add("summary", summary(case))
    location = _location(conference)
    if location:
        event.add("location", location)
    description = [summary(case)]
    if conference.place and conference.online_link:
        description.append(conference.online_link)
    if page_url:
        description.append(page_url)
    event.add("description", "\n".join(description))
    if conference.online_link:
        event.add("url", conference.online_link)
    event.add("status", "CANCELLED" if notice is Notice.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", icalendar.vCalAddress(f"mailto:{organiser_address(case)}"))
    address = icalendar.vCalAddress(f"mailto:{attendee}")
    address.params["CUTYPE"] = "INDIVIDUAL"
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = "NEEDS-ACTION"
    address.params["RSVP"] = "FALSE"
    event.add("attendee", address)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def render_message(conference: Conference, *, case: Case, notice: Notice, page_url: str = "") -> tuple[str, str]:
    """Subject and body: the kind of news, the case reference and the logistics, in Czech and then in English."""
    subjects, bodies = [], []
    context = {
        "reference": case.reference,
        "starts_at": conference.starts_at,
        "ends_at": conference.ends_at,
        "duration_minutes": conference.duration_minutes,
        "place": conference.place,
        "online_link": conference.online_link,
        "page_url": page_url,
        "cancelled": notice is Notice.CANCELLED,
    }
    with timezone.override(settings.TIME_ZONE):
        for language in EMAIL_LANGUAGES:
            with translation.override(language):
                label = str(NotificationKind(notice.kind).label)
                subjects.append(f"{label} {case.reference}")
                context["headline"] = str(KIND_TEXTS[notice.kind]) % {"reference": case.reference}
                bodies.append(render_plain_text("casework/email/conference_invitation.txt", context).strip())
    return " / ".join(dict.fromkeys(subjects)), "\n\n----\n\n".join(bodies) + "\n"


def _page_url(conference: Conference) -> str:
    path = reverse("conference_detail", kwargs={"case_id": conference.case_id, "conference_id": conference.pk})
    return f"{site_url()}{path}"


def invitees_to_tell(conference: Conference, *, coordinator_id: int | None) -> QuerySet[ConferenceInvitee]:
    """The invitees who hear news of the conference: every participant without an account, and the invited users
    who still stand on the case — a membership valid now (DESIGN invariant 5) or, after a handover, the coordinator.
    A member who left the team, on the team page or by their last day passing, gets no notification and no e-mail
    with the new time, place, link or calendar file. One query, with the membership check inside it."""
    on_team = TeamMembership.objects.current().filter(case_id=conference.case_id, user_id=OuterRef("user_id"))
    still_on_case = Exists(on_team) | Q(user_id=coordinator_id) if coordinator_id is not None else Exists(on_team)
    return ConferenceInvitee.objects.filter(conference=conference).filter(Q(user__isnull=True) | still_on_case)


def build_invitations(conference: Conference, *, case: Case, by: User, notice: Notice) -> list[Invitation]:
    """One :class:`Invitation` per invitee to tell (:func:`invitees_to_tell`) with an address: a team member's account
    address, or a participant's sealed address read through the gate as ``by`` (audited; withheld addresses are
    skipped). ``case`` is the conference's, loaded with its coordinator. Call outside a transaction."""
    told = invitees_to_tell(conference, coordinator_id=case.coordinator_id)
    invitees = list(told.select_related("user"))
    participants = [i for i in invitees if i.user is None and i.email is not None]
    addresses: dict[uuid.UUID, str] = {
        i.pk: i.user.email for i in invitees if i.user is not None and i.user.is_active and i.user.email
    }
    if participants:
        disclosures = gate.read_case(by, case, participants, ["email"], purpose=PURPOSE)
        for invitee, disclosure in zip(participants, disclosures, strict=True):
            address = disclosure.get("email")
            if address:
                addresses[invitee.pk] = address
        withheld = sum(1 for d in disclosures if d.withheld)
        if withheld:
            logger.warning("conference %s: %d participant address(es) withheld", conference.pk, withheld)
    page_url = _page_url(conference)
    messages_for_member = {
        True: render_message(conference, case=case, notice=notice, page_url=page_url),
        False: render_message(conference, case=case, notice=notice),
    }
    found = []
    for invitee in invitees:
        address = addresses.get(invitee.pk)
        if not address:
            continue
        member = invitee.user is not None
        subject, body = messages_for_member[member]
        ics = build_ics(conference, case=case, attendee=address, notice=notice, page_url=page_url if member else "")
        found.append(
            Invitation(
                invitee_id=invitee.pk,
                to=address,
                subject=subject,
                body=body,
                ics=ics,
                method=notice.method,
            )
        )
    return found


def email_message(
    invitation: Invitation, *, reply_to: str = "", connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The e-mail: the text body and the calendar file (``text/calendar; method=...``) attached as ``invite.ics``."""
    message = EmailMultiAlternatives(
        subject=invitation.subject,
        body=invitation.body,
        to=[invitation.to],
        reply_to=[reply_to] if reply_to else None,
        connection=connection,
    )
    part: MIMEBase = MIMEText(invitation.ics, "calendar", "utf-8")
    part.set_param("method", invitation.method)
    part.add_header("Content-Disposition", "attachment", filename="invite.ics")
    message.attach(part)
    return message


def send_invitations(conference_id: uuid.UUID, *, by_id: int, notice: Notice) -> int:
    """Build and send the e-mails of one conference; the number sent. Never raises: a failure is logged with the
    conference id and the exception's class only (no address, no content), and the next e-mail is still tried."""
    try:
        conference = Conference.objects.get(pk=conference_id)
        if conference.status != notice.status:
            # It changed again before the e-mails left (held, or cancelled): this news is out of date.
            logger.info("conference %s: %s invitations skipped (status changed)", conference_id, notice.value)
            return 0
        by = User.objects.get(pk=by_id)
        case = Case.objects.select_related("coordinator").get(pk=conference.case_id)
        invitations = build_invitations(conference, case=case, by=by, notice=notice)
        organiser = organiser_address(case)
        connection = get_connection()
    except Exception as exc:
        logger.error("conference %s: invitations not sent (%s)", conference_id, type(exc).__name__)
        return 0
    sent = 0
    for invitation in invitations:
        try:
            email_message(invitation, reply_to=organiser, connection=connection).send()
            ConferenceInvitee.objects.filter(pk=invitation.invitee_id).update(emailed_at=timezone.now())
        except Exception as exc:
            logger.error("conference %s: an invitation e-mail failed (%s)", conference_id, type(exc).__name__)
            continue
        sent += 1
    return sent


def send_after_commit(conference: Conference, *, by: User, notice: Notice) -> None:
    """Send the e-mails once the surrounding transaction commits; nothing if it rolls back."""
    conference_id, by_id = conference.pk, by.pk
    transaction.on_commit(lambda: send_invitations(conference_id, by_id=by_id, notice=notice))
