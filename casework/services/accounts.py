"""Second factor (django-otp): enrolment, recovery codes, reset and removal.

Each change of what protects an account is written to the audit chain in the same transaction (action ``account``,
object the user, field *names* only: never the secret, never a code) and notified to the supervisors of the person's
authority and the DPO. A person has at most one authenticator app
(a TOTP device) and one set of recovery codes (a static device whose tokens are deleted as they are used).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import User
from casework.selectors.accounts import second_factor_required
from casework.services.account_changes import notify_account_changed
from permissions import audit
from permissions.audit import record
from permissions.models import AuditAction, AuditOutcome

AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def _audit(*, actor: User, user: User, fields: list[str], purpose: str, notify: bool = True) -> None:
    """The audit row and (except for a login with a recovery code, which changes nothing) the notice to the
    supervisors of the person's authority and the DPO (issue 19: every 2FA change is notified)."""
    if notify:
        municipality_id = user.organisation.municipality_id if user.organisation_id else None  # type: ignore[union-attr]
        notify_account_changed(account=user, actor=actor, municipality_ids=[municipality_id])
    record(
        actor=actor,
        action=AuditAction.ACCOUNT,
        object_type="casework.user",
        object_id=user.pk,
        fields=fields,
        purpose=purpose,
        outcome=AuditOutcome.ALLOWED,
    )


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def second_factor_enrol_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator with a fresh random secret; earlier unconfirmed ones are discarded.

    Not audited: an unconfirmed device protects nothing and is never asked for at login.
    """
    with audit.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def second_factor_confirm(*, user: User, device_id: int, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the enrolment with a code from the app; returns the device and the recovery codes to show once.

    The code is checked before the transaction opens, so a wrong code still counts for django-otp's throttle.
    The new authenticator replaces any earlier one, and the recovery codes are new.
    """
    device = TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()
    if device is None:
        raise ValidationError({"token": _("This enrolment has expired. Scan the new code below and try again.")})
    if not device.verify_token(token):
        raise ValidationError({"token": _("The code is not valid. Enter the current six-digit code from the app.")})
    with audit.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        _audit(actor=user, user=user, fields=["recovery_codes", "totp_device"], purpose="second factor enrolled")
    return device, codes


def recovery_codes_regenerate(*, user: User) -> list[str]:
    """New recovery codes (the old ones stop working); only for a person with a confirmed authenticator."""
    with audit.atomic():
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(_("Set up an authenticator app first."))
        codes = _recovery_codes_replace(user)
        _audit(actor=user, user=user, fields=["recovery_codes"], purpose="recovery codes regenerated")
    return codes


def recovery_code_used(*, user: User) -> None:
    """Record that someone logged in with a recovery code (a lost phone, or someone else holding the codes)."""
    with audit.atomic():
        _audit(actor=user, user=user, fields=["recovery_codes"], purpose="recovery code used to log in", notify=False)


def second_factor_remove(*, user: User, removed_by: User) -> None:
    """Remove the authenticator and the recovery codes.

    By the person themselves only where the second factor is optional for them; by an administrator (someone
    else) as a reset after a lost phone: the person then enrols again at their next login if it is required.
    """
    with audit.atomic():
        if removed_by.pk == user.pk and second_factor_required(user):
            raise ValidationError(_("Your role requires a second factor: it cannot be switched off."))
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        purpose = "second factor removed" if removed_by.pk == user.pk else "second factor reset by an administrator"
        _audit(actor=removed_by, user=user, fields=["recovery_codes", "totp_device"], purpose=purpose)
