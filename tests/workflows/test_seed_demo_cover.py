"""The demo shows supervisor cover: one planned cover (Olomouc's head away in a fortnight, Prostějov's head standing
in), on the *Zastupování* page of both, created once however often ``seed_demo`` runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from casework.models import SupervisorCover, User
from casework.selectors.accounts import supervisor_ids
from casework.selectors.cover import cover_page


@pytest.mark.django_db
def test_demo_plans_one_cover_by_a_neighbouring_head() -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: nothing doubles
    [cover] = SupervisorCover.objects.all()
    head, neighbour = User.objects.get(username="vedouci"), User.objects.get(username="vedouci_pv")
    assert (cover.supervisor, cover.deputy, cover.created_by) == (head, neighbour, head)
    assert cover.starts_at > timezone.now()  # planned: nothing is routed to the neighbour yet
    assert neighbour.pk not in supervisor_ids(cover.municipality_id)
    for user in (head, neighbour):
        [row] = cover_page(user=user).rows
        assert (row.state, row.may_end) == ("future", True)
