"""Field sealing: envelopes bind values to their place, fail loudly, and never decrypt on attribute access."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.crypto import (
    Binding,
    DecryptionError,
    EnvelopeCipher,
    EnvelopeFormatError,
    RowBinding,
    open_envelope,
    seal,
)
from casework.crypto.errors import KeyDestroyedError, KeyUnavailableError
from casework.crypto.keys import LocalKeyProvider, parse_kek_list
from casework.models import Child, DataKey, KeyOwnerType
from casework.sealing import Keyring, open_values
from casework.services import child_crypto_shred
from tests.factories.children import register_child
from tests.scan import find_in_database

KEY = os.urandom(32)
KEY_ID = uuid.uuid4()
BINDING = Binding(table="casework_child", row_id=str(uuid.uuid4()), field="given_name", owner_id="o1", schema_version=1)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000) | st.sampled_from(["", "Příliš žluťoučký kůň úpěl ďábelské ódy", "x" * 100_000]))
def test_seal_round_trips_any_text(value: str) -> None:
    envelope = seal(value, key=KEY, key_id=KEY_ID, binding=BINDING)
    if len(value.encode()) >= 16:  # shorter byte strings can occur in random ciphertext by chance
        assert value.encode() not in envelope
    assert open_envelope(envelope, key=KEY, binding=BINDING) == value


def test_envelope_starts_with_version_and_key_id() -> None:
    envelope = seal("Eliška", key=KEY, key_id=KEY_ID, binding=BINDING)
    assert envelope[0] == 1
    assert envelope[1:17] == KEY_ID.bytes
    assert len(envelope) == 1 + 16 + 12 + len("Eliška".encode()) + 16


def test_two_seals_of_the_same_value_differ() -> None:
    assert seal("a", key=KEY, key_id=KEY_ID, binding=BINDING) != seal("a", key=KEY, key_id=KEY_ID, binding=BINDING)


@pytest.mark.parametrize("part", ["table", "row_id", "field", "owner_id", "schema_version"])
def test_envelope_opened_in_another_place_fails(part: str) -> None:
    envelope = seal("Eliška", key=KEY, key_id=KEY_ID, binding=BINDING)
    elsewhere = Binding(**{**BINDING.__dict__, part: 2 if part == "schema_version" else "elsewhere"})
    with pytest.raises(DecryptionError):
        open_envelope(envelope, key=KEY, binding=elsewhere)


def test_wrong_key_fails() -> None:
    envelope = seal("Eliška", key=KEY, key_id=KEY_ID, binding=BINDING)
    with pytest.raises(DecryptionError):
        open_envelope(envelope, key=os.urandom(32), binding=BINDING)


def test_flipped_bit_fails() -> None:
    envelope = bytearray(seal("Eliška", key=KEY, key_id=KEY_ID, binding=BINDING))
    envelope[-1] ^= 1
    with pytest.raises(DecryptionError):
        open_envelope(bytes(envelope), key=KEY, binding=BINDING)


@pytest.mark.parametrize("envelope", [b"", b"\x01" + b"\x00" * 10, b"\x02" + b"\x00" * 60])
def test_malformed_envelope_fails(envelope: bytes) -> None:
    with pytest.raises(EnvelopeFormatError):
        open_envelope(envelope, key=KEY, binding=BINDING)


def test_associated_data_is_the_same_bytes_as_ever() -> None:
    """Every stored envelope was sealed with this associated data: a change here would make them all unreadable."""
    binding = Binding(table="casework_child", row_id="r-1", field="given_name", owner_id="o-1", schema_version=1)
    expected = b"v1\x1fcasework_child\x1fr-1\x1fgiven_name\x1fo-1\x1f1"
    assert binding.associated_data() == expected
    row = RowBinding(table="casework_child", row_id="r-1", owner_id="o-1", schema_version=1)
    assert binding.row == row
    assert row.associated_data("given_name") == expected
    assert binding.row.binding("given_name") == binding


@pytest.mark.parametrize("part", ["table", "row_id", "field", "owner_id"])
def test_no_binding_part_may_hold_the_unit_separator(part: str) -> None:
    with pytest.raises(ValueError, match="unit separator"):
        Binding(**{**BINDING.__dict__, part: "a\x1fb"}).associated_data()


def test_a_cipher_built_once_per_key_opens_what_seal_sealed_and_the_other_way_round() -> None:
    cipher = EnvelopeCipher(KEY, KEY_ID)
    envelope = seal("Eliška", key=KEY, key_id=KEY_ID, binding=BINDING)
    assert cipher.open_envelope(envelope, row=BINDING.row, field=BINDING.field) == "Eliška"
    sealed = cipher.seal("Vít", row=BINDING.row, field=BINDING.field)
    assert sealed[1:17] == KEY_ID.bytes
    assert open_envelope(sealed, key=KEY, binding=BINDING) == "Vít"


@pytest.mark.parametrize("part", ["table", "row_id", "field", "owner_id", "schema_version"])
def test_a_cipher_refuses_an_envelope_of_another_place(part: str) -> None:
    envelope = EnvelopeCipher(KEY, KEY_ID).seal("Eliška", row=BINDING.row, field=BINDING.field)
    elsewhere = Binding(**{**BINDING.__dict__, part: 2 if part == "schema_version" else "elsewhere"})
    with pytest.raises(DecryptionError):
        EnvelopeCipher(KEY, KEY_ID).open_envelope(envelope, row=elsewhere.row, field=elsewhere.field)


def test_a_cipher_refuses_an_envelope_sealed_with_another_key() -> None:
    other_id = uuid.uuid4()
    envelope = seal("Eliška", key=KEY, key_id=other_id, binding=BINDING)
    with pytest.raises(DecryptionError, match="another key"):
        EnvelopeCipher(KEY, KEY_ID).open_envelope(envelope, row=BINDING.row, field=BINDING.field)
    with pytest.raises(EnvelopeFormatError):
        EnvelopeCipher(KEY, KEY_ID).open_envelope(b"\x01" + b"\x00" * 10, row=BINDING.row, field=BINDING.field)


def test_kek_list_errors_name_the_key_id_not_the_key() -> None:
    with pytest.raises(KeyUnavailableError, match="k2") as info:
        parse_kek_list("k2:bm90LWEta2V5")
    assert "bm90LWEta2V5" not in str(info.value)


def test_local_provider_wrapped_key_is_bound_to_its_row() -> None:
    provider = LocalKeyProvider({"k1": os.urandom(32)})
    first, second = uuid.uuid4(), uuid.uuid4()
    kek_id, wrapped = provider.wrap(b"k" * 32, data_key_id=first)
    assert provider.unwrap(kek_id, wrapped, data_key_id=first) == b"k" * 32
    with pytest.raises(DecryptionError):
        provider.unwrap(kek_id, wrapped, data_key_id=second)


# --- sealed models --------------------------------------------------------------------------------------------


def test_attribute_access_returns_the_envelope_not_the_value(coordinator) -> None:
    child = Child.objects.get(pk=register_child(by=coordinator, given_name="Rozárka").pk)
    assert isinstance(child.given_name, bytes | memoryview)
    assert "Rozárka".encode() not in bytes(child.given_name)
    assert "Rozárka" not in str(child)


def test_each_child_has_its_own_data_key(coordinator) -> None:
    first = register_child(by=coordinator)
    second = register_child(by=coordinator, given_name="Tomáš", female=False)
    keys = DataKey.objects.filter(owner_type=KeyOwnerType.CHILD, retired_at__isnull=True)
    assert {k.owner_id for k in keys} == {first.pk, second.pk}


def test_swapping_envelopes_between_rows_fails_loudly(coordinator) -> None:
    first = register_child(by=coordinator, given_name="Anna")
    second = register_child(by=coordinator, given_name="Bára")
    Child.objects.filter(pk=second.pk).update(given_name=Child.objects.get(pk=first.pk).given_name)
    with pytest.raises(DecryptionError):
        open_values(Child.objects.get(pk=second.pk), ["given_name"])


def test_swapping_envelopes_between_fields_of_one_row_fails_loudly(coordinator) -> None:
    child = register_child(by=coordinator)
    row = Child.objects.get(pk=child.pk)
    Child.objects.filter(pk=child.pk).update(given_name=row.family_name, family_name=row.given_name)
    swapped = Child.objects.get(pk=child.pk)
    for field in ("given_name", "family_name"):
        with pytest.raises(DecryptionError):
            open_values(swapped, [field])


def test_crypto_shred_makes_the_identity_unreadable_for_good(coordinator, supervisor) -> None:
    child = register_child(by=coordinator)
    child_crypto_shred(child=child, by=supervisor, decision_reference="SK 12/2041")
    shredded = Child.objects.get(pk=child.pk)
    assert shredded.shredded_at is not None
    assert shredded.birth_number_index is None
    with pytest.raises(KeyDestroyedError):
        open_values(shredded, ["given_name"], Keyring())
    assert not DataKey.objects.filter(owner_id=child.pk, wrapped_key__isnull=False).exists()


def test_a_keyring_fetches_each_data_key_once_for_all_fields_and_rows(coordinator, django_assert_num_queries) -> None:
    first = Child.objects.get(pk=register_child(by=coordinator, given_name="Anna").pk)
    second = Child.objects.get(pk=register_child(by=coordinator, given_name="Bára").pk)
    keyring = Keyring()
    names = ["given_name", "family_name", "address"]
    with django_assert_num_queries(1):
        keyring.preload_envelopes(getattr(row, name) for row in (first, second) for name in names)
    with django_assert_num_queries(0):
        assert open_values(first, names, keyring)["given_name"] == "Anna"
        assert open_values(second, names, keyring)["given_name"] == "Bára"


def test_an_envelope_naming_a_key_that_does_not_exist_fails(coordinator) -> None:
    child = Child.objects.get(pk=register_child(by=coordinator).pk)
    child.given_name = seal("Anna", key=KEY, key_id=uuid.uuid4(), binding=child.binding("given_name"))
    with pytest.raises(KeyUnavailableError):
        open_values(child, ["given_name"], Keyring())


def test_no_plaintext_anywhere_in_the_database(coordinator) -> None:
    marker = "Zdeňka-Kanárek-7351"
    register_child(by=coordinator, given_name=marker, family_name=marker, address=marker + " 12, Olomouc")
    assert find_in_database([marker, "Jana Nováková", "+420 600 000 001"]) == []
