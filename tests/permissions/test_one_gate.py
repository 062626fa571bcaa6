"""Only the gate decrypts for a user: nothing else in the product imports the opening functions."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "casework/sealing.py",  # defines it
    "permissions/gate.py",  # the gate
    "casework/management/commands/reencrypt.py",  # re-seals in memory under a new key, never shows a value
    "casework/management/commands/verify_keys.py",  # opens one value per sealed model to prove the keys, prints counts
    "casework/services/plans.py",  # a new plan version re-seals the current one's texts in memory, never shows them
    "casework/services/plan_actions.py",  # a conference decision's text re-sealed as a plan action, never shown
    "permissions/migrations/0004_share_purpose_sealed.py",  # reversing it puts purposes back in clear, never shown
}
OPENERS = re.compile(r"\b(open_values|open_envelope)\b")


def test_only_the_gate_and_key_management_open_sealed_values() -> None:
    offenders = []
    for package in ("casework", "permissions", "workflows", "notifications", "config"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ALLOWED or relative.startswith("casework/crypto/"):
                continue
            if OPENERS.search(path.read_text()):
                offenders.append(relative)
    assert offenders == []
