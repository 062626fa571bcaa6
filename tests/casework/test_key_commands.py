"""Key management: rotate_kek re-wraps data keys; reencrypt renews them, resumably, even after kill -9."""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from casework.crypto.keys import parse_kek_list, reset_key_provider
from casework.models import Child, DataKey
from casework.sealing import Keyring, open_values
from tests.factories.children import register_child

ROOT = Path(__file__).resolve().parents[2]
K1 = "test-k1:" + "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
K2 = "test-k2:" + base64.b64encode(bytes(range(100, 132))).decode()


@pytest.fixture(autouse=True)
def _fresh_provider() -> Iterator[None]:
    reset_key_provider()
    yield
    reset_key_provider()


def _read_all() -> list[str]:
    keyring = Keyring()
    return [open_values(c, ["given_name"], keyring)["given_name"] or "" for c in Child.objects.all()]


def test_rotate_kek_rewraps_every_data_key_and_the_old_kek_can_then_go(coordinator, capsys) -> None:
    register_child(by=coordinator, given_name="Ludmila")
    register_child(by=coordinator, given_name="Ota", female=False)
    with override_settings(FIELD_KEKS=f"{K1},{K2}", FIELD_KEK_CURRENT="test-k2"):
        reset_key_provider()
        call_command("rotate_kek")
        assert set(DataKey.objects.values_list("kek_id", flat=True)) == {"test-k2"}
    assert "Re-wrapped 2 data keys" in capsys.readouterr().out
    with override_settings(FIELD_KEKS=K2, FIELD_KEK_CURRENT="test-k2"):
        reset_key_provider()
        assert sorted(_read_all()) == ["Ludmila", "Ota"]


def test_rotate_kek_generate_local_persists_the_new_key_before_using_it(coordinator, tmp_path) -> None:
    register_child(by=coordinator, given_name="Ludmila")
    key_file = tmp_path / "keys.env"
    key_file.write_text(f"FIELD_KEKS={K1}\nFIELD_KEK_CURRENT=test-k1\n")
    with override_settings(KEY_FILE=key_file):
        call_command("rotate_kek", "--generate-local")
    lines = dict(line.split("=", 1) for line in key_file.read_text().splitlines() if "=" in line)
    keks = parse_kek_list(lines["FIELD_KEKS"])
    assert list(keks) == ["test-k1", lines["FIELD_KEK_CURRENT"]]
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {lines["FIELD_KEK_CURRENT"]}
    new_only = f"{lines['FIELD_KEK_CURRENT']}:{base64.b64encode(keks[lines['FIELD_KEK_CURRENT']]).decode()}"
    with override_settings(FIELD_KEKS=new_only, FIELD_KEK_CURRENT=""):
        reset_key_provider()
        assert _read_all() == ["Ludmila"]
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_reencrypt_renews_every_key_and_keeps_every_value(coordinator, capsys) -> None:
    register_child(by=coordinator, given_name="Ludmila")
    register_child(by=coordinator, given_name="Ota", female=False)
    old_keys = set(DataKey.objects.values_list("id", flat=True))
    call_command("reencrypt", "--no-progress")
    active = DataKey.objects.filter(retired_at__isnull=True)
    assert active.count() == 2
    assert not old_keys & set(active.values_list("id", flat=True))
    assert not DataKey.objects.filter(id__in=old_keys, wrapped_key__isnull=False).exists()
    assert sorted(_read_all()) == ["Ludmila", "Ota"]
    assert "Re-encrypted" in capsys.readouterr().out
    # Idempotent: a second run renews again without losing anything.
    call_command("reencrypt", "--no-progress")
    assert sorted(_read_all()) == ["Ludmila", "Ota"]


def _manage(env: dict[str, str], *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload]
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )


SEED = """
import datetime
from casework.models import Municipality, Organisation, User, Role, Sector
from tests.factories.children import register_child
m = Municipality.objects.get_or_create(code="OM", defaults={"name": "Olomouc"})[0]
o = Organisation.objects.create(name="OSPOD", sector=Sector.OSPOD, municipality=m)
u = User.objects.create(username="k", role=Role.OSPOD_WORKER, organisation=o)
for i in range(40):
    register_child(by=u, given_name=f"Dítě {i}", born=datetime.date(2010, 1, 1) + datetime.timedelta(days=i))
"""

CHECK = """
from casework.models import Child, DataKey, ReencryptionRun
from casework.sealing import Keyring, open_values
k = Keyring()
names = sorted(open_values(c, ["given_name"], k)["given_name"] for c in Child.objects.all())
assert names == sorted(f"Dítě {i}" for i in range(40)), names
run = ReencryptionRun.objects.get()
assert run.finished_at is not None
assert DataKey.objects.filter(retired_at__isnull=True, created_at__lt=run.started_at).count() == 0
print("CHECK-OK", len(names))
"""


def test_reencrypt_killed_mid_run_resumes_and_finishes(tmp_path) -> None:
    db = tmp_path / "reencrypt.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{db}",
    }
    assert _manage(env, "migrate", "--noinput").returncode == 0
    seeded = _manage(env, "shell", "-c", SEED)
    assert seeded.returncode == 0, seeded.stderr[-2000:]

    slow = {**env, "REENCRYPT_THROTTLE_SECONDS": "0.1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "reencrypt", "--no-progress"],
        cwd=ROOT,
        env=slow,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and done < 5:
        time.sleep(0.1)
        with sqlite3.connect(db, timeout=10) as conn:
            row = conn.execute("SELECT owners_done FROM casework_reencryptionrun").fetchone()
        done = row[0] if row else 0
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert 5 <= done < 40, f"expected to kill mid-run, owners done: {done}"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT finished_at FROM casework_reencryptionrun").fetchone() == (None,)

    resumed = _manage(env, "reencrypt", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming" in resumed.stdout
    checked = _manage(env, "shell", "-c", CHECK)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "CHECK-OK 40" in checked.stdout
