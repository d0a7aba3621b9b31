r"""Regular expressions that backtrack catastrophically, found before they meet a call.

Python's `re` backtracks: a repeat inside a repeat (`(a+)+$`) or a repeat over alternatives that
match the same text (`(?:a|a)*b`) takes time exponential in the length of a text it almost
matches, and one such rule pattern stalls every call it reads (a line of 34 a's and a b: minutes).
Each pattern is checked by measurement, under the engine the rules run on: a pattern whose
parse has a repeat that can be pumped (a repeat around another repeat or around alternatives) is
tried on texts built from its own parse, each repeat pumped PUMP times and the text then cut off
with a character that fails it, in a worker process stopped after LIMIT_S seconds (one that is
stopped is tried again alone for CONFIRM_S, so a busy machine starving the worker for a moment
raises no false alarm). A safe pattern answers such a text in microseconds; a catastrophic one
takes minutes at PUMP=32 (doubling with each further character), so the verdict does not depend
on the machine's speed. Patterns without a
pumpable repeat (nearly all) are not run at all. docs/rules.md tells why this and not a static
ReDoS detector or the `regex` module.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

try:  # CPython's private parser, as text/lexicon.py reads it
    import re._constants as _c  # type: ignore[import-not-found]
    import re._parser as _parser  # type: ignore[import-not-found]

    _REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT})
    _ZERO_WIDTH = frozenset({_c.AT, _c.ASSERT, _c.ASSERT_NOT})
except (ImportError, AttributeError):
    _parser = None

PUMP = 32  # repeats of the pumped part: 2**32 steps for the mildest exponential pattern
LIMIT_S = 0.5  # per pattern, for all its texts; a safe pattern needs well under a millisecond
CONFIRM_S = 5.0  # a pattern over LIMIT_S is tried again alone, this long
STARTUP_S = 60.0  # for a worker to start on a busy machine
_FAIL = "\x00"  # what no rule pattern expects, ending every text
_PR_SET_PDEATHSIG = 1  # prctl(2)


def _char(op: Any, av: Any) -> str:
    """A character the parsed atom matches (one of them; '' for what matches none)."""
    if op is _c.LITERAL:
        return chr(av)
    if op is _c.NOT_LITERAL or op is _c.ANY:
        return "a" if av != ord("a") else "b"
    if op is _c.IN:
        for kind, value in av:
            if kind is _c.LITERAL:
                return chr(value)
            if kind is _c.RANGE:
                return chr(value[0])
            if kind is _c.CATEGORY:
                return {_c.CATEGORY_DIGIT: "1", _c.CATEGORY_SPACE: " "}.get(value, "a")
            if kind is _c.NEGATE:
                return "a"
    return ""


def _witness(items: Any, least: bool) -> str:
    """A text the parsed items match: each repeat taken its least number of times (`least`),
    or at least once."""
    text = ""
    for op, av in items:
        if op in _REPEATS:
            body = _witness(av[2], least)
            text += body * (av[0] if least else max(av[0], 1))
        elif op is _c.SUBPATTERN:
            text += _witness(av[-1], least)
        elif op is _c.BRANCH:
            text += _witness(av[1][0], least)
        elif op not in _ZERO_WIDTH:
            text += _char(op, av)
    return text


def _pumpable(body: Any) -> bool:
    """A repeat whose body holds a repeat or alternatives can match one text many ways."""
    for op, av in body:
        if op in _REPEATS or op is _c.BRANCH:
            return True
        if op is _c.SUBPATTERN and _pumpable(av[-1]):
            return True
    return False


def _texts(items: Any, before: str) -> Iterator[str]:
    """For each pumpable repeat in `items` (after the text `before`): the text leading to it,
    its body PUMP times, then a failing character."""
    done = before
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if high > 1 and _pumpable(body):
                for least in (True, False):
                    one = _witness(body, least)
                    if one:
                        yield done + one * PUMP + _FAIL
            yield from _texts(body, done)
            done += _witness(body, False) * max(low, 1)
        elif op is _c.SUBPATTERN:
            yield from _texts(av[-1], done)
            done += _witness(av[-1], False)
        elif op is _c.BRANCH:
            for alternative in av[1]:
                yield from _texts(alternative, done)
            done += _witness(av[1][0], False)
        elif op not in _ZERO_WIDTH:
            done += _char(op, av)


def probes(pattern: str) -> list[str]:
    """The texts `pattern` is tried on (none for a pattern without a pumpable repeat, or one
    that does not compile: that is reported elsewhere)."""
    if _parser is None:
        return []
    try:
        return list(dict.fromkeys(_texts(_parser.parse(pattern).data, "")))
    except Exception:  # a bad pattern, or the private parser changed shape
        return []


def die_with_parent() -> None:
    """In a forked worker: be killed when the process that forked it dies (Linux), so a worker
    stuck in a match or a call does not run on, orphaned, for minutes."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker ends when it next reads its pipe
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _try(connection: Connection, cases: Sequence[tuple[str, list[str]]]) -> None:
    import re

    die_with_parent()
    connection.send(-1)  # started: the time limits run from here, not from the fork
    for index, (pattern, texts) in enumerate(cases):
        compiled = re.compile(pattern)
        for text in texts:
            compiled.search(text)
        connection.send(index)


_TRIED: dict[str, str | None] = {}  # pattern -> a text it stalls on; once per process


def catastrophic(patterns: Sequence[str]) -> dict[str, str]:
    """The patterns that backtrack catastrophically, each with a text it stalls on."""
    new = [p for p in dict.fromkeys(patterns) if p not in _TRIED]
    _TRIED.update(_tried(new))
    return {p: text for p in patterns if (text := _TRIED[p]) is not None}


def _tried(patterns: list[str]) -> dict[str, str | None]:
    """Every pattern over LIMIT_S is tried again alone with CONFIRM_S: a busy machine can
    starve a worker for a moment, a catastrophic pattern needs minutes either way."""
    cases = [(p, texts) for p in patterns if (texts := probes(p))]
    suspects = [cases[i] for i in _stalled(cases, LIMIT_S)]
    confirmed = [suspects[i] for i in _stalled(suspects, CONFIRM_S)]
    found: dict[str, str | None] = dict.fromkeys(patterns)
    found.update((pattern, _stalling_text(texts)) for pattern, texts in confirmed)
    return found


def _stalled(cases: Sequence[tuple[str, list[str]]], limit_s: float) -> list[int]:
    """The cases not done within `limit_s` each, run in a worker process that is killed (and
    started again for the rest) at each."""
    stalled: list[int] = []
    start = 0
    context = multiprocessing.get_context("fork")
    while start < len(cases):
        ours, theirs = context.Pipe()
        worker = context.Process(target=_try, args=(theirs, cases[start:]), daemon=True)
        worker.start()
        theirs.close()
        finished = start
        try:
            if not ours.poll(STARTUP_S):
                return stalled  # the worker never started: nothing can be told
            ours.recv()
            while finished < len(cases) and ours.poll(limit_s):
                finished = start + ours.recv() + 1
        except EOFError:  # the worker died on a pattern (out of memory): count it as stalled
            pass
        finally:
            worker.kill()
            worker.join()
            ours.close()
        if finished < len(cases):
            stalled.append(finished)
        start = finished + 1
    return stalled


def _stalling_text(texts: list[str]) -> str:
    """The first text, shown short."""
    text = texts[0]
    return text if len(text) <= 40 else f"{text[:20]}…{text[-12:]}"
