"""Accounts: creation, changes that wait for a second person, deactivation, reset links — the only writers.

Why: an administrator who could give any account a supervisor's role, or set its password, could read every case
(issue 19). So:

* a new account never gets a password from the administrator: it is created without one and its owner receives a
  link to set it (Django's reset token, to the address on the account);
* a new account with an OSPOD, supervisor, DPO or administrator role stays **inactive** until confirmed; a change of
  an existing account's role, organisation or e-mail, or switching it back on, is a **request** and the account keeps
  its old values until it is confirmed (``permissions.policy``: ``account_change_needs_confirmation``,
  ``account_change_confirmer``, ``may_decide_account_change``). The requester and the account's owner never decide;
* deactivation, names and job titles take effect at once;
* every one of these writes an ``account`` row to the audit chain (object ``casework.user``, the changed field *names*
  — never a value) in the same transaction, and notifies the supervisors of the authorities concerned and every DPO
  (``Kind.ACCOUNT_CHANGED``; the people who can confirm get ``Kind.ACCOUNT_CHANGE_TO_CONFIRM``). A notification names
  the account change's id only.

Audit purposes (``AuditEvent.purpose``) written here: ``account created``, ``account created, awaiting
confirmation``, ``account change requested``, ``account change withdrawn``, ``account change confirmed``, ``account
change refused``, ``account deactivated``, ``account details changed``, ``password reset link sent``, ``password
set with a reset link``, ``password changed by its owner``; a refused attempt to decide: ``account change decision
refused to this person`` (outcome ``denied``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from casework.models import AccountChangeRequest, AccountChangeStatus, Organisation, Role, User
from casework.selectors.accounts import account_watchers, administrator_ids, supervisor_ids
from notifications.emails import EMAIL_LANGUAGES, site_url
from notifications.models import Kind
from notifications.services import notify_many
from permissions import audit
from permissions.models import AuditAction, AuditOutcome
from permissions.policy import (
    account_change_confirmer,
    account_change_needs_confirmation,
    is_account_administrator,
    may_decide_account_change,
)

logger = logging.getLogger("casework.accounts")

OBJECT_TYPE = "casework.user"
REQUEST_OBJECT_TYPE = "casework.accountchangerequest"
#: Fields of the account the administrator may change at once (not access: who the person is, what they do). The
#: records officer flag is among them: it lets an OSPOD worker of the authority decide shredding reviews but opens no
#: case content, and like every change here it is audited and told to the authority's supervisors and the DPO at once.
DETAIL_FIELDS = ("username", "first_name", "last_name", "job_title", "is_records_officer")
#: The fields a privilege change touches (superusers only, in the admin): audited by name like the rest.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def _municipality_of(organisation: Organisation | None) -> int | None:
    return organisation.municipality_id if organisation is not None else None


def _record(*, actor: User, account: User, fields: Iterable[str], purpose: str, object_id: object = None) -> None:
    audit.record(
        actor=actor,
        action=AuditAction.ACCOUNT,
        object_type=OBJECT_TYPE,
        object_id=object_id if object_id is not None else account.pk,
        fields=list(fields),
        purpose=purpose,
        outcome=AuditOutcome.ALLOWED,
    )


def notify_account_changed(*, account: User, actor: User | None, municipality_ids: Iterable[int | None]) -> None:
    """Tell the supervisors of the authorities concerned and every DPO that ``account`` changed (the actor is
    skipped). The row carries the account's id and nothing else. Call inside the change's transaction."""
    notify_many(
        recipient_ids=account_watchers(municipality_ids),
        kind=Kind.ACCOUNT_CHANGED,
        object_type=OBJECT_TYPE,
        object_id=account.pk,
        actor_id=actor.pk if actor is not None else None,
    )


def _require_administrator(user: User) -> None:
    if not is_account_administrator(user):
        raise PermissionDenied


# --- Reset links ----------------------------------------------------------------------------------------------------


def password_link(account: User) -> str:
    """The one-time link to set a password (Django's token: it stops working once the password changes, after
    ``PASSWORD_RESET_TIMEOUT`` and after the next login)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(account.pk)),
            "token": default_token_generator.make_token(account),
        },
    )
    return f"{site_url()}{path}"


def _send_password_link(account_id: int) -> None:
    """The e-mail: that there is a link to set a password, and the link. Nothing else (no role, no case). Never
    raises; a failure is logged with the account id and the exception class only."""
    try:
        account = User.objects.get(pk=account_id, is_active=True)
        link = password_link(account)
        subjects, bodies = [], []
        for language in EMAIL_LANGUAGES:
            with translation.override(language):
                subjects.append(gettext("Set your password"))
                bodies.append(
                    gettext(
                        "A link to set the password of your account in the case coordination system was requested. "
                        "Open it to choose your password; it works once and expires in a few days:"
                    )
                    + f"\n{link}\n\n"
                    + gettext("If you did not expect this e-mail, tell your supervisor.")
                )
        send_mail(" / ".join(dict.fromkeys(subjects)), "\n\n----\n\n".join(bodies), None, [account.email])
    except Exception as exc:
        logger.error("account %s: password link not sent (%s)", account_id, type(exc).__name__)


def password_reset_link_send(*, account: User, by: User) -> None:
    """Send ``account``'s owner a link to set their password (the administrator never sets one). Audited and
    notified; the e-mail leaves after commit."""
    _require_administrator(by)
    if not account.is_active:
        raise ValidationError(_("The account is not active: a link can be sent once it is confirmed and active."))
    if not account.email:
        raise ValidationError({"email": _("The account has no e-mail address to send the link to.")})
    with audit.atomic():
        _record(actor=by, account=account, fields=["password"], purpose="password reset link sent")
        notify_account_changed(account=account, actor=by, municipality_ids=[_municipality_of(account.organisation)])
        account_id = account.pk
        transaction.on_commit(lambda: _send_password_link(account_id))


def password_set(*, account: User, save: object, by_link: bool) -> None:
    """Record that the owner set their password (``save`` is the password form's ``save``, called inside the
    audited transaction, so the new password and its audit row commit together)."""
    with audit.atomic():
        save()  # type: ignore[operator]
        purpose = "password set with a reset link" if by_link else "password changed by its owner"
        _record(actor=account, account=account, fields=["password"], purpose=purpose)
        notify_account_changed(
            account=account, actor=account, municipality_ids=[_municipality_of(account.organisation)]
        )


# --- Creating an account ------------------------------------------------------------------------------------------


def _authority_has_supervisors(municipality_id: int | None, *, excluding: int | None) -> bool:
    if municipality_id is None:
        return False
    return any(pk != excluding for pk in supervisor_ids(municipality_id))


def _open_request(
    *,
    account: User,
    by: User,
    new_account: bool,
    role: str,
    organisation: Organisation | None,
    email: str,
    activate: bool,
    changed: list[str],
) -> AccountChangeRequest:
    municipality_id = _municipality_of(organisation)
    confirmer = account_change_confirmer(
        role=role, authority_has_supervisors=_authority_has_supervisors(municipality_id, excluding=account.pk)
    )
    change = AccountChangeRequest.objects.create(
        user=account,
        new_account=new_account,
        role=role,
        organisation=organisation,
        email=email,
        activate=activate,
        changed_fields=sorted(changed),
        confirmer=confirmer,
        municipality_id=municipality_id if confirmer == "supervisor" else None,
        requested_by=by,
    )
    deciders = supervisor_ids(municipality_id) if confirmer == "supervisor" and municipality_id else administrator_ids()
    notify_many(
        recipient_ids=[pk for pk in deciders if pk != account.pk],
        kind=Kind.ACCOUNT_CHANGE_TO_CONFIRM,
        object_type=REQUEST_OBJECT_TYPE,
        object_id=change.pk,
        actor_id=by.pk,
    )
    return change


def account_create(*, account: User, created_by: User) -> AccountChangeRequest | None:
    """Create ``account`` (an unsaved user with username, names, e-mail, job title, organisation and role).

    It never has a password: its owner sets one through the link sent to its address. A partner account is active at
    once and the link leaves after commit; an account with a role of ``CONFIRMED_ROLES`` is saved **inactive** and a
    request is returned — it is switched on, and the link sent, when a supervisor of its authority (another
    administrator for a DPO or an administrator) confirms it. Raises ``ValidationError`` with field errors.
    """
    _require_administrator(created_by)
    if account.pk is not None:
        raise ValidationError(_("This account exists already."))
    if not account.email:
        raise ValidationError({"email": _("Enter the person's e-mail address: the link to set a password goes there.")})
    account.set_unusable_password()
    account.is_staff = False
    account.is_superuser = False
    pending = account_change_needs_confirmation(new_account=True, role=account.role, changed=())
    account.is_active = not pending
    account.full_clean()
    with audit.atomic():
        account.save()
        fields = ["email", "organisation", "role", "username"]
        change = None
        if pending:
            change = _open_request(
                account=account,
                by=created_by,
                new_account=True,
                role=account.role,
                organisation=account.organisation,
                email=account.email,
                activate=True,
                changed=[*fields, "is_active"],
            )
            _record(actor=created_by, account=account, fields=fields, purpose="account created, awaiting confirmation")
        else:
            _record(actor=created_by, account=account, fields=fields, purpose="account created")
            account_id = account.pk
            transaction.on_commit(lambda: _send_password_link(account_id))
        notify_account_changed(
            account=account, actor=created_by, municipality_ids=[_municipality_of(account.organisation)]
        )
    return change


# --- Changing an account --------------------------------------------------------------------------------------------


def account_update(
    *,
    account: User,
    by: User,
    role: str,
    organisation: Organisation | None,
    email: str,
    is_active: bool,
    details: dict[str, object] | None = None,
    privileges_changed: Iterable[str] = (),
) -> AccountChangeRequest | None:
    """Change an existing account as the administrator asked: names, job title and deactivation at once; role,
    organisation, e-mail and reactivation as a request that waits for confirmation (returned; None when nothing
    waits). A waiting request of the account is withdrawn and replaced by the new one. Nobody asks to change their
    own access. ``privileges_changed`` names the superuser-only fields the admin form changed (audited by name).
    """
    _require_administrator(by)
    details = {k: v for k, v in (details or {}).items() if k in DETAIL_FIELDS}
    with audit.atomic():
        account = (
            User.objects.select_for_update(no_key=True, of=("self",)).select_related("organisation").get(pk=account.pk)
        )
        old_municipality = _municipality_of(account.organisation)
        new_municipality = _municipality_of(organisation)
        access_changed = [
            name
            for name, old, new in (
                ("role", account.role, role),
                ("organisation", account.organisation_id, organisation.pk if organisation else None),
                ("email", account.email, email),
            )
            if old != new
        ]
        reactivate = is_active and not account.is_active
        deactivate = account.is_active and not is_active
        if (access_changed or reactivate) and account.pk == by.pk:
            raise PermissionDenied
        immediate = [name for name, value in details.items() if getattr(account, name) != value]
        for name in immediate:
            setattr(account, name, details[name])
        if deactivate:
            account.is_active = False
            immediate.append("is_active")
        immediate.extend(privileges_changed)
        if immediate:
            account.full_clean(exclude=["password"])
            account.save()
            purpose = "account deactivated" if deactivate else "account details changed"
            _record(actor=by, account=account, fields=immediate, purpose=purpose)
        change = None
        waiting = [*access_changed, *(["is_active"] if reactivate else [])]
        if waiting and account_change_needs_confirmation(new_account=False, role=role, changed=waiting):
            proposed = User(
                pk=account.pk,
                username=account.username,
                role=role,
                organisation=organisation,
                email=email,
                first_name=account.first_name,
                last_name=account.last_name,
            )
            proposed.full_clean(exclude=["password", "username"], validate_unique=False)
            for open_change in AccountChangeRequest.objects.select_for_update(no_key=True).filter(
                user=account, status=AccountChangeStatus.PENDING
            ):
                _close(open_change, by=None, status=AccountChangeStatus.WITHDRAWN)
                _record(
                    actor=by, account=account, fields=open_change.changed_fields, purpose="account change withdrawn"
                )
            change = _open_request(
                account=account,
                by=by,
                new_account=False,
                role=role,
                organisation=organisation,
                email=email,
                activate=reactivate or account.is_active,
                changed=waiting,
            )
            _record(actor=by, account=account, fields=waiting, purpose="account change requested")
        if immediate or change is not None:
            notify_account_changed(account=account, actor=by, municipality_ids=[old_municipality, new_municipality])
    return change


def _sync_administrator_permissions(account: User) -> None:
    """Staff status and the admin's permissions follow the administrator role (a superuser keeps their own)."""
    if account.is_superuser:
        return
    from casework.admin import administrator_permissions  # the admin module imports these services

    if account.role == Role.ADMINISTRATOR:
        account.user_permissions.add(*administrator_permissions())
    else:
        account.user_permissions.clear()


def _close(change: AccountChangeRequest, *, by: User | None, status: str) -> None:
    change.status = status
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])


def account_change_decide(*, change_id: int, by: User, confirm: bool) -> AccountChangeRequest:
    """Confirm (the account takes the requested role, organisation, e-mail and activity) or refuse (it keeps its
    old ones; a new account stays inactive) a waiting request. Only someone ``may_decide_account_change`` allows;
    anyone else gets ``PermissionDenied`` and nothing changes (the attempt is audited with outcome ``denied``). A
    request that is no longer waiting raises ``ValidationError``. When a new or reactivated account is switched on
    without a password, its owner gets the link to set one after commit."""
    found = AccountChangeRequest.objects.filter(pk=change_id).first()
    if found is None:
        raise ValidationError(_("This account change does not exist."))
    if not may_decide_account_change(
        by,
        confirmer=found.confirmer,
        municipality_id=found.municipality_id,
        requested_by_id=found.requested_by_id,
        account_id=found.user_id,
    ):
        # The attempt stays on record even though nothing changes (committed before the refusal is raised).
        try:
            audit.record_committed(
                actor=by,
                action=AuditAction.ACCOUNT,
                object_type=OBJECT_TYPE,
                object_id=found.user_id,
                fields=found.changed_fields,
                purpose="account change decision refused to this person",
                outcome=AuditOutcome.DENIED,
            )
        except audit.AuditUnavailable:
            logger.error("account change %s: the refused decision could not be audited", change_id)
        raise PermissionDenied
    with audit.atomic():
        # The account row first, then its request: the order account_update takes them in (ADR 0011).
        account = (
            User.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organisation")
            .get(pk=found.user_id)
        )
        change = AccountChangeRequest.objects.select_for_update(no_key=True).get(pk=change_id)
        if change.status != AccountChangeStatus.PENDING:
            raise ValidationError(_("This account change was already decided."))
        old_municipality = _municipality_of(account.organisation)
        if not confirm:
            _close(change, by=by, status=AccountChangeStatus.REFUSED)
            _record(actor=by, account=account, fields=change.changed_fields, purpose="account change refused")
            notify_account_changed(
                account=account, actor=by, municipality_ids=[old_municipality, change.municipality_id]
            )
            return change
        account.role = change.role
        account.organisation = change.organisation
        account.email = change.email
        switched_on = change.activate and not account.is_active
        if change.activate:
            account.is_active = True
        account.is_staff = account.role == Role.ADMINISTRATOR or account.is_superuser
        account.full_clean(exclude=["password"])
        account.save()
        _sync_administrator_permissions(account)
        _close(change, by=by, status=AccountChangeStatus.CONFIRMED)
        _record(actor=by, account=account, fields=change.changed_fields, purpose="account change confirmed")
        notify_account_changed(
            account=account, actor=by, municipality_ids=[old_municipality, _municipality_of(account.organisation)]
        )
        if switched_on and not account.has_usable_password():
            account_id = account.pk
            transaction.on_commit(lambda: _send_password_link(account_id))
    return change
