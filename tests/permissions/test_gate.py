"""The gate: policy per field, audit row committed before plaintext, denied fields named and absent."""

from __future__ import annotations

import pytest

from casework.compartments import Compartment
from casework.models import Child
from permissions import audit, gate
from permissions.models import AuditEvent
from permissions.policy import READ_POLICY, Relationship, Subject, relationship_to_child
from tests.factories.children import register_child

FIELDS = ["given_name", "family_name", "date_of_birth", "birth_number", "address"]


def test_ospod_worker_of_the_childs_orp_reads_identity_and_the_read_is_audited(coordinator) -> None:
    child = register_child(by=coordinator, given_name="Vilém", female=False)
    before = AuditEvent.objects.count()
    disclosure = gate.read(coordinator, Child.objects.get(pk=child.pk), FIELDS, purpose="child page")
    assert disclosure.values["given_name"] == "Vilém"
    assert disclosure.withheld == ()
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert event is not None
    assert (event.action, event.outcome, event.actor_id) == ("read", "allowed", coordinator.pk)
    assert sorted(event.field_names) == sorted(FIELDS)
    assert event.object_id == str(child.pk)
    assert "Vilém" not in repr(event.__dict__)


@pytest.mark.parametrize("who", ["teacher", "dpo", "administrator", "foreign_worker"])
def test_everybody_else_gets_nothing_and_a_denial_is_audited(request, coordinator, who: str) -> None:
    user = request.getfixturevalue(who)
    child = register_child(by=coordinator, given_name="Vilém", female=False)
    disclosure = gate.read(user, Child.objects.get(pk=child.pk), FIELDS, purpose="probe")
    assert disclosure.values == {}
    assert disclosure.withheld == tuple(FIELDS)
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert (event.action, event.outcome, event.actor_id) == ("deny", "denied", user.pk)


def test_a_failing_audit_write_returns_no_plaintext(coordinator, monkeypatch) -> None:
    child = Child.objects.get(pk=register_child(by=coordinator).pk)
    opened: list[object] = []

    def broken(**kwargs: object) -> None:
        raise audit.AuditUnavailable("database down")

    monkeypatch.setattr(audit, "record_many_committed", broken)

    def spy(*args: object, **kwargs: object) -> dict[str, str]:
        opened.append(args)
        return {}

    monkeypatch.setattr(gate, "open_values", spy)
    with pytest.raises(audit.AuditUnavailable):
        gate.read(coordinator, child, FIELDS, purpose="child page")
    assert opened == []


def test_a_real_database_failure_in_the_audit_insert_fails_closed(coordinator) -> None:
    from django.db import DatabaseError, connection

    child = Child.objects.get(pk=register_child(by=coordinator).pk)

    def fail(execute, sql, params, many, context):
        # The audit rows' INSERT, whichever statement carries it (PostgreSQL's append writes it with the head's move).
        if f'INSERT INTO "{AuditEvent._meta.db_table}"' in sql:
            raise DatabaseError("insert refused")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail), pytest.raises(audit.AuditUnavailable):
        gate.read(coordinator, child, FIELDS, purpose="child page")


def test_representatives_are_read_in_one_audited_disclosure(coordinator) -> None:
    child = Child.objects.get(pk=register_child(by=coordinator).pk)
    reps = list(child.representatives.all())
    before = AuditEvent.objects.count()
    [disclosure] = gate.read_rows(coordinator, child, reps, ["full_name", "contact"], purpose="child page")
    assert disclosure.values == {"full_name": "Jana Nováková", "contact": "+420 600 000 001"}
    assert AuditEvent.objects.count() == before + 1


# --- the policy table, enumerated -------------------------------------------------------------------------------

EXPECTED = {
    Relationship.AUTHORITY_STAFF: {Compartment.BASICS, Compartment.IDENTITY},
    # The coordinator and the authority's supervisors read the whole file.
    Relationship.CASE_LEAD: set(Compartment),
    # Every team member reads the basics; their sector and shares add more (tests/permissions/test_case_policy.py).
    Relationship.TEAM_MEMBER: {Compartment.BASICS},
    # A report's handlers (supervisors of the receiving authority, the coordinator of its case): the notifier's part.
    Relationship.REPORT_HANDLER: {Compartment.NOTIFIER},
    # Break-glass: the file as its lead reads it, read-only, without who reported the child (§§ 55, 57).
    Relationship.BREAK_GLASS: set(Compartment) - {Compartment.NOTIFIER},
    Relationship.NONE: set(),
}


@pytest.mark.parametrize("relationship", list(Relationship))
@pytest.mark.parametrize("compartment", list(Compartment))
def test_policy_table(relationship: Relationship, compartment: Compartment) -> None:
    assert (compartment in READ_POLICY[relationship]) == (compartment in EXPECTED[relationship])


def test_relationship_follows_role_and_orp(coordinator, supervisor, teacher, foreign_worker, dpo) -> None:
    child = register_child(by=coordinator)
    assert relationship_to_child(Subject.from_user(coordinator), child) is Relationship.AUTHORITY_STAFF
    assert relationship_to_child(Subject.from_user(supervisor), child) is Relationship.AUTHORITY_STAFF
    for other in (teacher, foreign_worker, dpo):
        assert relationship_to_child(Subject.from_user(other), child) is Relationship.NONE


def test_deactivated_worker_sees_nothing(coordinator) -> None:
    child = Child.objects.get(pk=register_child(by=coordinator).pk)
    coordinator.is_active = False
    coordinator.save()
    assert gate.read(coordinator, child, FIELDS, purpose="x").values == {}
