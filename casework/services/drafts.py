"""Keeping work while it is written (``casework.models.drafts``): server-side drafts and work kept across an ended
session or a language switch.

Nothing here logs, audits or returns the text: a draft is protected content like what it will become. Drafts are
sealed with the case's key inside the write transaction (the key may be created there); kept work is sealed under a
key only the browser holds. Both are a JSON object of the form's fields (name → list of posted values).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from casework.crypto.browser import new_browser_secret, open_from_browser, parse_browser_secret, seal_for_browser
from casework.crypto.errors import CryptoError
from casework.models import Case, DraftKind, FormDraft, KeptWork, User
from casework.sealing import seal_values

#: The hidden field that marks a form whose text is kept when its session has ended (``templates/forms/_keep.html``).
KEEP_FIELD = "_keep_work"
#: Fields never kept: the CSRF token, the marker, the buttons' names.
_SKIPPED = {"csrfmiddlewaretoken", KEEP_FIELD, "submit", "save", "import_conference"}
#: The cookie with the token and the key of kept work, and how long the work is kept.
KEPT_WORK_COOKIE = "kept_work"
KEPT_WORK_MINUTES = 30
#: How many forms posted after an ended session one client address may have kept at a time, and how many such forms
#: the whole installation keeps at most: an anonymous POST (with a CSRF token anyone can get) must not fill the table.
KEPT_WORK_PER_ADDRESS = 20
KEPT_WORK_ANONYMOUS_TOTAL = 2_000
#: A draft or kept form larger than this is refused (a plan of many actions stays well below).
DRAFT_MAX_CHARS = 300_000

FormFields = dict[str, list[str]]


def form_fields(data: QueryDict | Mapping[str, Sequence[str]]) -> FormFields:
    """The fields worth keeping from a posted form: every value of every field but the token and the buttons."""
    if isinstance(data, QueryDict):
        items = {name: data.getlist(name) for name in data}
    else:
        items = {name: list(values) for name, values in data.items()}
    return {
        name: [str(v) for v in values] for name, values in items.items() if name not in _SKIPPED and len(name) <= 100
    }


def _encoded(fields: FormFields) -> str:
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    if len(text) > DRAFT_MAX_CHARS:
        raise ValidationError({"draft": [_("The draft is too long to be kept.")]})
    return text


def draft_save(*, user: User, case: Case, kind: str, object_id: str, fields: FormFields) -> FormDraft:
    """Create or replace ``user``'s draft of ``kind`` for ``object_id``, sealed with the case's key.

    The caller has checked that the user may write this form (the page's own check); the draft is theirs alone.
    """
    if kind not in DraftKind.values:
        raise ValidationError({"kind": [_("Unknown kind of draft.")]})
    text = _encoded(fields)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                draft = (
                    FormDraft.objects.select_for_update(no_key=True)
                    .filter(user=user, kind=kind, object_id=object_id, case=case)
                    .first()
                )
                if draft is None:
                    draft = FormDraft(id=uuid.uuid4(), user=user, case=case, kind=kind, object_id=object_id)
                seal_values(draft, {"data": text})
                draft.updated_at = timezone.now()
                draft.save()
                return draft
        except IntegrityError:
            if attempt == 2:  # another request of the same person made it meanwhile: the second try replaces it
                raise
    raise AssertionError("unreachable")


def draft_discard(*, user: User, kind: str, object_id: str | uuid.UUID | int) -> int:
    """Delete the user's draft (the real form was submitted); the number deleted."""
    deleted, _rows = FormDraft.objects.filter(user=user, kind=kind, object_id=str(object_id)).delete()
    return int(deleted)


class KeptWorkRefused(Exception):
    """Too much work is already kept for this client address (or for all anonymous clients); nothing was stored."""


def address_source(address: str | None) -> str:
    """A keyed hash of a client address: rows can be counted per address without storing the address."""
    return salted_hmac("casework.kept-work.source", address or "unknown", algorithm="sha256").hexdigest()


def kept_work_store(*, path: str, fields: FormFields, user: User | None = None, address: str | None = None) -> str:
    """Seal a posted form under a fresh browser-held key; return the cookie value (token and key).

    ``user`` is set when known (a language switch): only they get it back. After an ended session it is ``None``
    and the work returns to the next login in the same browser (which holds the key), on the same page only; then
    ``address`` (the client's) limits how much one address may have kept (:class:`KeptWorkRefused` beyond it).
    """
    text = _encoded(fields)
    cookie, token_hash, key = new_browser_secret()
    row_id = uuid.uuid4()
    now = timezone.now()
    source = "" if user is not None else address_source(address)
    with transaction.atomic():
        KeptWork.objects.filter(expires_at__lt=now).delete()
        if user is None:
            anonymous = KeptWork.objects.filter(user__isnull=True)
            if (
                anonymous.filter(source=source)[:KEPT_WORK_PER_ADDRESS].count() >= KEPT_WORK_PER_ADDRESS
                or anonymous[:KEPT_WORK_ANONYMOUS_TOTAL].count() >= KEPT_WORK_ANONYMOUS_TOTAL
            ):
                raise KeptWorkRefused
        KeptWork.objects.create(
            id=row_id,
            token_hash=token_hash,
            path=path[:512],
            user=user,
            envelope=seal_for_browser(text, key=key, row_id=row_id),
            expires_at=now + datetime.timedelta(minutes=KEPT_WORK_MINUTES),
            source=source,
        )
    return cookie


def kept_work_take(*, cookie: str, path: str, user: User) -> FormFields | None:
    """The kept fields for this page, once: the row is deleted when taken. ``None`` when there is nothing for this
    page and user, the work expired, or the cookie does not open it (the row stays for its own page)."""
    parsed = parse_browser_secret(cookie)
    if parsed is None:
        return None
    token_hash, key = parsed
    row = KeptWork.objects.filter(token_hash=token_hash, expires_at__gte=timezone.now(), path=path).first()
    if row is None or (row.user_id is not None and row.user_id != user.pk):
        return None
    try:
        text = open_from_browser(bytes(row.envelope), key=key, row_id=row.id)
    except CryptoError:
        return None
    row.delete()
    loaded = json.loads(text)
    return {str(k): [str(v) for v in values] for k, values in loaded.items()} if isinstance(loaded, dict) else None


def kept_work_pending(*, cookie: str) -> str | None:
    """The page that kept work waits on (for the login's return), or ``None``."""
    parsed = parse_browser_secret(cookie)
    if parsed is None:
        return None
    row = KeptWork.objects.filter(token_hash=parsed[0], expires_at__gte=timezone.now()).only("path").first()
    return row.path if row is not None else None
