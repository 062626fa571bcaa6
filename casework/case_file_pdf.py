"""The case file as a PDF: one builder for every export of the file (a § 55 inspection; a transfer to the archive).

``render_case_file_pdf`` takes the read model ``casework.selectors.file_export.CaseFileExport`` — already limited to
what the copy may hold — and renders ``casework/case_file_pdf.html`` with weasyprint, as the plan's PDF is rendered
(``casework.pdf.render_pdf``): the template carries its own styles, nothing is fetched (every URL
is refused), Czech by default (the file is a Czech document; the parent's language). It decides nothing and audits
nothing: the caller reads the export through the gate and writes the export's audit row (fail closed: committed
before the file is handed out).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.functional import Promise

from casework.pdf import render_pdf
from casework.selectors.file_export import CaseFileExport


@dataclass(frozen=True)
class DocumentFacts:
    """What the document says about itself: its title, for whom, when and by whom it was made, and whether it is a
    draft (a preview before approval: marked on every page)."""

    #: Lazy text is fine: it is rendered in the document's language.
    title: str | Promise
    recipient: str
    generated_at: datetime.datetime
    generated_by: str
    approved_by: str = ""
    draft: bool = False
    #: The visible note that parts were left out under the law (an inspection); never what was left out.
    withheld_note: bool = True


def render_case_file_pdf(export: CaseFileExport, facts: DocumentFacts, *, language: str = "cs") -> bytes:
    """The PDF of ``export``. ``language``: the document's language (Czech unless the caller says otherwise)."""
    return render_pdf(
        "casework/case_file_pdf.html",
        {"export": export, "doc": facts, "case": export.header},
        language=language,
    )
