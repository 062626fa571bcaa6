"""One date format per language (config/formats): Czech ``4. 12. 2026 5:02``, English ``4 Dec 2026 05:02``, 24-hour
clock, in every way a page, an e-mail or code formats a date, and no template with a format of its own."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import formats, translation

from tests.stack import ROOT

#: 4:02 UTC on 4 December 2026 is 5:02 in Prague (winter time, UTC+1): the formats show Prague's time.
MOMENT = datetime.datetime(2026, 12, 4, 4, 2, tzinfo=datetime.UTC)
AFTERNOON = datetime.datetime(2026, 12, 4, 16, 45, tzinfo=datetime.UTC)  # 17:45 in Prague
DAY = datetime.date(2026, 12, 4)

EXPECTED = {
    "cs": {"datetime": "4. 12. 2026 5:02", "afternoon": "4. 12. 2026 17:45", "date": "4. 12. 2026", "time": "5:02"},
    "en": {"datetime": "4 Dec 2026 05:02", "afternoon": "4 Dec 2026 17:45", "date": "4 Dec 2026", "time": "05:02"},
}


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize("language", ["cs", "en"])
def test_a_moment_reads_the_same_in_every_template_form(language: str) -> None:
    want = EXPECTED[language]
    with translation.override(language):
        assert render('{{ at|date:"DATETIME_FORMAT" }}', at=MOMENT) == want["datetime"]
        assert render('{{ at|date:"SHORT_DATETIME_FORMAT" }}', at=MOMENT) == want["datetime"]
        assert render("{{ at }}", at=MOMENT) == want["datetime"]  # localized without a filter
        assert render('{{ at|date:"DATETIME_FORMAT" }}', at=AFTERNOON) == want["afternoon"]  # 24-hour clock
        assert render("{{ at|time }}", at=MOMENT) == want["time"]


@pytest.mark.parametrize("language", ["cs", "en"])
def test_a_date_alone_reads_the_same_in_every_template_form(language: str) -> None:
    want = EXPECTED[language]
    with translation.override(language):
        assert render("{{ day|date }}", day=DAY) == want["date"]
        assert render('{{ day|date:"SHORT_DATE_FORMAT" }}', day=DAY) == want["date"]
        assert render("{{ day }}", day=DAY) == want["date"]
        assert render("{{ at|date }}", at=MOMENT) == want["date"]


@pytest.mark.parametrize("language", ["cs", "en"])
def test_code_formats_dates_like_the_templates(language: str) -> None:
    want = EXPECTED[language]
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == want["date"]
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == want["date"]
        assert formats.localize(DAY) == want["date"]


def test_english_never_shows_the_us_forms() -> None:
    with translation.override("en"):
        shown = render(
            '{{ at|date:"SHORT_DATETIME_FORMAT" }} {{ day|date:"SHORT_DATE_FORMAT" }}', at=AFTERNOON, day=DAY
        )
    assert "12/04/2026" not in shown
    assert "p.m." not in shown
    assert "a.m." not in shown


#: Formats a template may name: the standard ones, and machine forms (ISO 8601 for ``<time datetime>``, the zone).
ALLOWED = {"DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "TIME_FORMAT", "c", "e"}


def test_no_template_carries_a_date_format_of_its_own() -> None:
    found = []
    paths = [*(ROOT / "templates").glob("**/*")]
    for app in ("casework", "workflows", "notifications", "permissions"):
        paths += (ROOT / app / "templates").glob("**/*")
    assert len(paths) > 50
    for path in paths:
        if not path.is_file():
            continue
        text = Path(path).read_text(encoding="utf-8")
        for match in re.finditer(r"\|(?:date|time):\s*[\"']([^\"']*)[\"']", text):
            if match.group(1) not in ALLOWED:
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert found == []
