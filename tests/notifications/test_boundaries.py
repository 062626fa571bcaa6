"""DESIGN.md's app table: ``notifications`` never imports ``casework`` or ``workflows`` (it stores ids and a case
reference), nor the policy — the case-access rule reaches it as a dotted path in settings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from notifications.models import Notification

APP = Path(__file__).resolve().parents[2] / "notifications"
FORBIDDEN = ("casework", "workflows", "permissions")


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted(APP.rglob("*.py")), ids=lambda p: str(p.relative_to(APP)))
def test_notifications_imports_neither_the_domain_nor_the_policy(path: Path) -> None:
    imported = _imported_modules(path)
    assert not [m for m in imported if m.split(".")[0] in FORBIDDEN], path


def test_a_notification_row_has_no_column_for_text() -> None:
    text_columns = {
        field.name
        for field in Notification._meta.get_fields()
        if getattr(field, "get_internal_type", lambda: "")() in {"CharField", "TextField", "JSONField", "BinaryField"}
    }
    # Each is bounded and holds a code, an id or a reference number — never words someone typed.
    assert text_columns == {"kind", "case_reference", "object_type", "object_id"}
    assert Notification._meta.get_field("case_reference").max_length == 24
