"""``bench/results.md``: the goals of issue 20 beside the latest figures, then every page at the two sizes."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items() if not isinstance(v, dict | list))
    return str(value)


def _notify(notify: dict[str, Any]) -> str:
    if notify.get("skipped"):
        return f"skipped: {notify.get('reason')}"
    return (
        f"p99 {_fmt(notify.get('notify_p99_ms'))} ms (p50 {_fmt(notify.get('notify_p50_ms'))}); "
        f"channel-layer round trip p99 {_fmt(notify.get('layer_rtt_p99_ms'))} ms"
    )


def markdown(results: dict[str, Any]) -> str:
    sizes = results.get("sizes", {})
    small, large = str(sizes.get("small", "1k")), str(sizes.get("large", "100k"))
    ratios = {k: v for k, v in results.items() if k.endswith("_ratio_100k_vs_1k")}
    coordinator = [v for k, v in ratios.items() if k.startswith("coordinator_")]
    supervisor = [v for k, v in ratios.items() if k.startswith("supervisor_")]

    def span(values: list[float]) -> str:
        return f"{min(values):.2f} to {max(values):.2f}" if values else "-"

    steps = results.get("step_vs_bare_viewflow", {})
    concurrent = results.get("concurrent_cases_per_s", {})
    gate = results.get("gate_read_encrypted_vs_plaintext", {})
    notify = results.get("notify_latency", {})
    lines = [
        f"Database: {results.get('database')}; sizes {small} and {large} stories"
        f"{' (quick run)' if results.get('quick') else ''}; total {results.get('total_s')} s.",
        "",
        "| measure | goal | latest |",
        "|---|---|---|",
        f"| every listed page, large ÷ small, coordinator / supervisor | ≤ 1.3 "
        f"| {span(coordinator)} / {span(supervisor)} |",
        f"| statements for one case, report → approved plan | ≤ 250 | {results.get('case_statements')} |",
        f"| case vs bare viewflow, statements (ms) | ≤ 2.0x | {_fmt(steps.get('statements'))}x "
        f"({_fmt(steps.get('ms'))}x) |",
        f"| audit head-lock hold ÷ step time | ≤ 10 % | {_fmt(results.get('audit_lock_hold_share'))} |",
        f"| cases per second, 8 clients ÷ 1 client | ≥ 1.5 | {_fmt(concurrent.get('ratio_8_vs_1', '-'))} "
        f"({_fmt(concurrent.get('1', '-'))} → {_fmt(concurrent.get('8', '-'))}/s) |",
        f"| case page sealed ÷ plaintext (gate read) | ≤ 1.3 | {_fmt(gate.get('ratio'))} |",
        f"| notify p99, 500 sockets, 2 processes | < 100 ms, ≤ 10x the layer round trip | {_notify(notify)} |",
        "",
        f"| page | ratio | p50 ms {small} | p95 ms {small} | stmts {small} | p50 ms {large} | p95 ms {large} "
        f"| stmts {large} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, ratio in ratios.items():
        page = key.removesuffix("_ratio_100k_vs_1k")
        d = results.get(f"{page}_detail", {})
        lines.append(
            f"| {page} | {ratio} | {d.get(f'p50_ms_{small}')} | {d.get(f'p95_ms_{small}')} "
            f"| {d.get(f'statements_{small}')} | {d.get(f'p50_ms_{large}')} | {d.get(f'p95_ms_{large}')} "
            f"| {d.get(f'statements_{large}')} |"
        )
    lines += [
        "",
        f"Core steps: product case {results.get('case_statements')} statements / {results.get('case_ms')} ms; "
        f"bare viewflow {results.get('bare_viewflow_statements')} / {results.get('bare_viewflow_ms')} ms; "
        f"hand-written SQL {results.get('minimal_sql_statements')} / {results.get('minimal_sql_ms')} ms.",
    ]
    return "\n".join(lines) + "\n"
