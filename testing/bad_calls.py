"""Bad call files, one per way a file has stopped a batch before: each with the words its failed
row must carry. The test of bad input batches, the nightly-batch bench and the fuzz suite write
them; a good call is one of the samples under a new id."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Writer = Callable[[Path, dict[str, Any]], None]


@dataclass(frozen=True)
class BadCall:
    name: str  # the file's stem
    reason: str  # words the failed row's error holds, besides the file's path
    write: Writer  # writes the file (or the folder or link) named `name` from a good call


def _edited(**fields: Any) -> Writer:
    def write(path: Path, call: dict[str, Any]) -> None:
        changed = copy.deepcopy(call) | {"call_id": path.stem} | fields
        path.write_text(json.dumps(changed), encoding="utf-8")

    return write


def _text(edit: Callable[[str], str], first_text: str | None = None) -> Writer:
    """A good call's JSON text, edited as text (for what json.dumps will not write)."""

    def write(path: Path, call: dict[str, Any]) -> None:
        changed = copy.deepcopy(call) | {"call_id": path.stem}
        if first_text is not None:
            changed["segments"][0]["text"] = first_text
        path.write_bytes(edit(json.dumps(changed)).encode("utf-8", "surrogatepass"))

    return write


def _raw(data: str) -> Writer:
    def write(path: Path, call: dict[str, Any]) -> None:
        path.write_text(data, encoding="utf-8")

    return write


def _folder(path: Path, call: dict[str, Any]) -> None:
    path.mkdir()


def _dangling(path: Path, call: dict[str, Any]) -> None:
    path.symlink_to(path.with_name("nowhere.txt"))


def _loop(path: Path, call: dict[str, Any]) -> None:
    path.symlink_to(path)


def _digits(path: Path, call: dict[str, Any]) -> None:
    changed = copy.deepcopy(call) | {"call_id": path.stem, "duration_s": 0}
    text = json.dumps(changed).replace('"duration_s": 0', '"duration_s": ' + "9" * 5000)
    path.write_text(text, encoding="utf-8")


def _first_end(value: str) -> Callable[[str], str]:
    return lambda text: text.replace('"end": ', f'"end": {value}, "x_end": ', 1)


BAD_CALLS = (
    BadCall("bad-deep", "nested deeper than", _raw("[" * 200_000)),
    BadCall("bad-digits", "a number of 5000 characters", _digits),
    BadCall("bad-surrogate", "unpaired surrogate", _text(str, "hi \udc80 there")),
    BadCall("bad-nul", "NUL character", _edited(agent_id="S1\u0000")),
    BadCall("bad-infinity", "Infinity is not a number", _text(_first_end("Infinity"))),
    BadCall("bad-nan", "NaN is not a number", _text(_first_end("NaN"))),
    BadCall("bad-huge-float", "too large to be finite", _text(_first_end("1e999"))),
    BadCall("bad-call-id", "call_id: String should have at most 128", _edited(call_id="c" * 129)),
    BadCall("bad-agent", "agent_id: String should have at most 64", _edited(agent_id="a" * 65)),
    BadCall("bad-number", "customer_number: String should", _edited(customer_number="1" * 33)),
    BadCall("bad-language", "language: String should have at most 8", _edited(language="en" * 5)),
    BadCall("bad-team", "team: String should have at most 64", _edited(team="t" * 65)),
    BadCall("bad-year", "year 9999 is outside", _edited(started_at="9999-12-31T23:59:59-05:00")),
    BadCall("bad-epoch", "must be an ISO 8601", _edited(started_at=1_700_000_000)),
    BadCall("bad-folder", "not a call file but a folder", _folder),
    BadCall("bad-dangling", "a link to nothing readable", _dangling),
    BadCall("bad-loop", "a link to nothing readable", _loop),
    BadCall("bad-" + "b" * 200, "not valid JSON", _raw('{"call_id": ')),
)


def write_batch(good: Path, folder: Path, copies: int = 1) -> list[str]:
    """`folder` with each good call of `good` and each bad call, `copies` times under new
    names; returns the bad files' names."""
    folder.mkdir(parents=True, exist_ok=True)
    calls = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(good.glob("*.json"))]
    bad: list[str] = []
    for n in range(copies):
        for call in calls:
            name = f"{call['call_id']}-{n:04d}"
            (folder / f"{name}.json").write_text(
                json.dumps(call | {"call_id": name}, ensure_ascii=False), encoding="utf-8"
            )
        for case in BAD_CALLS:
            name = case.name if copies == 1 else f"{case.name[:180]}-{n:04d}"
            case.write(folder / f"{name}.json", calls[n % len(calls)])
            bad.append(name)
    if copies == 1:  # a file name that is not UTF-8 (bytes the OS hands over as surrogates)
        (folder / os.fsdecode(b"bad-\xff-name.json")).write_text("{", encoding="utf-8")
        bad.append(os.fsdecode(b"bad-\xff-name"))
    return bad
