"""One line per call for the terminal: what failed, at a glance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from qa_pipeline.verdict.model import CallResult, Criterion


def _failed_criteria(result: CallResult, short: Mapping[str, str]) -> list[str]:
    failed = []
    for name, node in result.verdict.criteria.items() if result.verdict else ():
        if node.passed is False:
            parts = (
                [k for k, v in node.items.items() if v.passed is False]
                if isinstance(node, Criterion)
                else []
            )
            failed.append(short.get(name, name) + (f"({','.join(parts)})" if parts else ""))
    return failed


def summary_lines(results: Iterable[CallResult], short: Mapping[str, str]) -> list[str]:
    """`short`: each criterion's name in the summary (criteria.yaml `short`)."""
    lines = [f"{'call':14} {'outcome':9} {'valid':6} {'failed criteria / notes'}"]
    for result in results:
        verdict = result.verdict
        if verdict is None:
            lines.append(f"{result.call_id:14} {'FAILED':9} {'':6} {result.error}")
            continue
        notes = _failed_criteria(result, short) if result.outcome == "sale" else []
        notes += [f"forbidden:{f.category}" for f in verdict.forbidden_phrases]
        if verdict.agent_hung_up_first.value:
            notes.append("agent hung up first")
        notes += [f"review:{flag}" for flag in verdict.review_flags]
        valid = {True: "yes", False: "NO", None: "-"}[result.valid_sale]
        lines.append(f"{result.call_id:14} {verdict.outcome.value:9} {valid:6} {'; '.join(notes)}")
    return lines
