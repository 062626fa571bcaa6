"""Looking for plaintext where only ciphertext may be: every column of every table."""

from __future__ import annotations

from django.db import connection


def find_in_database(needles: list[str]) -> list[tuple[str, str]]:
    """Every (table, column) of every table whose text or bytes contain one of ``needles``."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - table names come from introspection
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    blob = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                    for needle in needles:
                        if needle.encode() in blob:
                            hits.append((table, column))
    return hits
