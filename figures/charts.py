"""Charts as server-rendered SVG (pygal), readable without JavaScript: pygal's tooltip script is left out, the SVG has
a <title> and a <desc> and is labelled by them (role="img"), and the table it shows stands beside it on the page."""

from __future__ import annotations

import re

import pygal
from django.utils.html import escape
from pygal.style import Style

from figures.exports import HIDDEN
from figures.selectors import Table

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2328",
    foreground_strong="#1f2328",
    foreground_subtle="#57606a",
    colors=("#0b5cad", "#c2410c", "#15803d", "#7c3aed", "#a16207"),
    font_family="system-ui, sans-serif",
)


def bar_chart(table: Table, *, chart_id: str, nonce: str = "") -> str:
    """A grouped bar chart of the table's body (no total row or column, no measures; a hidden cell is a gap)."""
    counts = [c for c in range(len(table.columns)) if c not in table.measure_columns]
    if table.total_column and len(counts) > 1:
        counts = counts[:-1]
    rows = [row for row in table.rows if not row.is_total]
    chart = pygal.Bar(
        style=_STYLE,
        js=[],
        width=640,
        height=320,
        show_legend=len(counts) > 1,
        legend_at_bottom=True,
        x_label_rotation=20,
        truncate_label=28,
        print_values=False,
        disable_xml_declaration=True,
        explicit_size=False,
    )
    chart.x_labels = [str(row.label) for row in rows]
    for column in counts:
        chart.add(str(table.columns[column]), [row.cells[column] for row in rows])
    svg = chart.render(is_unicode=True)
    # pygal writes its configuration for the tooltips into an inline script even without them: nothing to run here.
    svg = re.sub(r"<script\b[^>]*>.*?</script>", "", svg, flags=re.DOTALL)
    title = escape(str(table.title))
    desc = escape(describe(table))
    # Accessible name and description, and the page's CSP nonce on pygal's inline style.
    svg = re.sub(
        r"<svg ",
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" ',
        svg,
        count=1,
    )
    svg = re.sub(
        r"(<svg[^>]*>)",
        rf'\1<title id="{chart_id}-title">{title}</title><desc id="{chart_id}-desc">{desc}</desc>',
        svg,
        count=1,
    )
    if nonce:
        svg = svg.replace("<style", f'<style nonce="{escape(nonce)}"')
    return svg


def describe(table: Table) -> str:
    """The chart's data in words (its <desc>): each row with its values; the table beside it says the same."""
    parts = []
    for row in table.rows:
        shown = (HIDDEN if value is None else value for value in row.cells)
        values = ", ".join(f"{column} {value}" for column, value in zip(table.columns, shown, strict=True))
        parts.append(f"{row.label}: {values}")
    return "; ".join(parts)
