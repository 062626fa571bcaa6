"""Reminding providers of their stale service cards (``manage.py remind_stale_cards``).

A card not confirmed for ``SERVICE_CARD_STALE_MONTHS`` is flagged as stale in the directory; its provider's users
(those who may edit it, ``permissions.policy.may_edit_service_card``) are told once, when it becomes stale, and again
only after they have confirmed it and it went stale once more. ``Service.stale_reminded_at`` holds what is needed: a
card is due when it is stale and that stamp is empty or older than ``card_updated_at`` (confirming moves the latter
past it, so no save path has to reset anything). Each card is stamped by a conditional update in the transaction
that writes its notifications, so a rerun, or two runs at once, tell nobody twice. A notification carries the card's
id only (``Kind.SERVICE_CARD_STALE``, no case) and leads to the card's edit page.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Kind as NotificationKind
from notifications.services import notify_many
from services.models import Service, stale_before
from services.selectors.directory import card_editor_ids


def service_cards_remind_stale(*, now: datetime.datetime | None = None) -> int:
    """Notify the editors of every active card that went stale since it was last confirmed and has not been reminded
    of it yet. A card whose provider has nobody who may edit it is left unstamped, so a user added later is told.
    Returns how many cards were reminded. Two statements to find the cards and their editors, then per card one
    conditional UPDATE and the notifications' INSERT in one transaction."""
    now = now or timezone.now()
    due = list(
        Service.objects.filter(is_active=True, card_updated_at__lt=stale_before(now))
        .filter(Q(stale_reminded_at__isnull=True) | Q(stale_reminded_at__lt=F("card_updated_at")))
        .order_by("card_updated_at", "pk")
        .values_list("pk", "provider__organisation_id", "card_updated_at", "stale_reminded_at")
    )
    editors = card_editor_ids({organisation_id for _pk, organisation_id, _updated, _reminded in due})
    reminded = 0
    for pk, organisation_id, updated_at, reminded_at in due:
        recipients = editors.get(organisation_id, [])
        if not recipients:
            continue
        with transaction.atomic():
            # Neither confirmed nor reminded by another run since it was read: else leave it to that change.
            stamped = Service.objects.filter(pk=pk, card_updated_at=updated_at, stale_reminded_at=reminded_at).update(
                stale_reminded_at=now
            )
            if not stamped:
                continue
            notify_many(
                recipient_ids=recipients,
                kind=NotificationKind.SERVICE_CARD_STALE,
                object_type="services.service",
                object_id=pk,
            )
        reminded += 1
    return reminded
