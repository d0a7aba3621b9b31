"""The do-not-call list (one number per line, # comments) and the dialer export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from qa_pipeline.errors import InputDirError
from qa_pipeline.storage.db import data_dir
from qa_pipeline.storage.tasks import Task
from qa_pipeline.text.spreadsheet import safe_cell

EXPORT_COLUMNS = (
    "task_id", "customer_number", "priority", "due_at", "kind", "campaign", "agent_id", "team",
    "call_id", "reason_codes", "summary",
)  # fmt: skip


def do_not_call_list(path: Path | None = None) -> frozenset[str]:
    """The do-not-call list every entry point uses (`run`, `rejudge`, `tasks export`, the nightly
    flow): `path` when given, else DATA_DIR/do-not-call.txt when it exists, else none."""
    if path is None and (data_dir() / "do-not-call.txt").is_file():
        path = data_dir() / "do-not-call.txt"
    return read_do_not_call(path)


def read_do_not_call(path: Path | None) -> frozenset[str]:
    if path is None:
        return frozenset()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputDirError(str(path), f"cannot read the do-not-call list: {exc.strerror}") from exc
    numbers = (line.split("#", 1)[0].strip().replace(" ", "").replace("-", "") for line in lines)
    return frozenset(n for n in numbers if n)


def dialer_csv(tasks: Iterable[Task], do_not_call: frozenset[str] = frozenset()) -> str:
    """Open tasks as a dialer-ready CSV, most urgent and earliest first; numbers added to the
    do-not-call list since the task was created are left out."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    ordered = sorted(tasks, key=lambda t: (t.priority != "urgent", t.due_at, t.id))
    for task in ordered:
        if task.status != "open" or task.customer_number in do_not_call:
            continue
        writer.writerow([safe_cell(value) for value in (
            task.id, task.customer_number, task.priority, task.due_at.isoformat(), task.kind,
            task.campaign, task.agent_id, task.team, task.call_id, " ".join(task.reason_codes),
            task.summary,
        )])  # fmt: skip
    return out.getvalue()
