"""A time budget per call: each call is judged in a worker process, and a call still being
judged when its budget runs out is stopped by killing the worker (the only way to stop a call
stuck inside C code, such as a regular expression that backtracks without end). The call becomes
a failed row naming its file, the budget and the step it was in; the next call gets a fresh
worker. A worker is forked once per batch (and after each stop), so it shares the rules and
models already loaded; only the call goes to it and only the verdict comes back
(bench/call_budget.py measures the cost).
"""

from __future__ import annotations

import multiprocessing
from ctypes import c_byte
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from qa_pipeline.errors import (
    CallTimeoutError,
    JudgingProcessError,
    OptionsError,
    QAPipelineError,
)
from qa_pipeline.ingest.model import Call
from qa_pipeline.judging.judge import STEPS, Judge
from qa_pipeline.storage.repository import Store
from qa_pipeline.text.backtracking import die_with_parent
from qa_pipeline.verdict.model import CallVerdict

Judged = CallVerdict | str  # a verdict, or why there is none (the failed row's error)


def judged(judge: Judge, call: Call) -> Judged:
    """The call's verdict, or the reason it has none: a bug in one call must not cost the batch."""
    try:
        return judge.judge(call)
    except QAPipelineError as exc:
        return exc.message
    except Exception as exc:
        return f"internal error while judging: {exc.__class__.__name__}: {exc}"


def _stage(at: int) -> str:
    return STEPS[at] if at < len(STEPS) else "returning the verdict"


def _serve(
    connection: Connection,
    parents_end: Connection,
    judge: Judge,
    store: Store | None,
    at: c_byte,
) -> None:
    """The worker: judge each call received, keeping the step it is in in shared memory (no
    message per step: the parent reads it only when it stops a call)."""
    die_with_parent()
    parents_end.close()  # the fork's copy; with it open, the batch's death would never be EOF
    if store is not None:
        store.after_fork()
    report = judge.hook

    def hook(step: str, artifact: object) -> None:
        index = STEPS.index(step) if step in STEPS else None
        if index is not None:
            at.value = index  # the hooks of a step count as that step
        report(step, artifact)
        if index is not None:
            at.value = index + 1

    judge.hook = hook
    while True:
        try:
            call = connection.recv()
        except EOFError:  # the batch ended, or its process died
            return
        at.value = 0
        connection.send(judged(judge, call))


@dataclass
class BudgetedJudge:
    """Judges calls in a worker process, each within `budget_s` seconds."""

    judge: Judge
    budget_s: float
    store: Store | None = None
    _worker: BaseProcess | None = field(default=None, init=False)
    _connection: Connection | None = field(default=None, init=False)
    # The step the current call is in (an index of STEPS), written by the worker.
    _at: c_byte = field(
        default_factory=lambda: multiprocessing.get_context("fork").Value("b", 0, lock=False),
        init=False,
    )

    def __call__(self, call: Call) -> Judged:
        # A call over its budget is tried once more in a fresh worker: a worker forked while
        # another thread of the process held a lock can hang on it (seen once in four runs of a
        # race test of four threads); a call that is really too slow is over budget twice.
        for _ in range(2):
            connection = self._start()
            connection.send(call)
            if connection.poll(self.budget_s):
                try:
                    return connection.recv()  # type: ignore[no-any-return]
                except EOFError:
                    return self._died(call)
            stage = _stage(self._at.value)
            self.close()
        return CallTimeoutError(call.source or call.call_id, self.budget_s, stage).message

    def _start(self) -> Connection:
        if self._connection is None or self._worker is None or not self._worker.is_alive():
            self.close()
            if multiprocessing.current_process().daemon:
                raise OptionsError(
                    "--call-budget judges each call in a worker process, and this process may "
                    "not start one (a daemonic process, such as a Dask worker started with "
                    "its default daemon=True): start Dask workers with "
                    "DASK_DISTRIBUTED__WORKER__DAEMON=False, or give a call budget of 0"
                )
            context = multiprocessing.get_context("fork")  # shares the loaded rules and models
            ours, theirs = context.Pipe()
            worker = context.Process(
                target=_serve,
                args=(theirs, ours, self.judge, self.store, self._at),
                daemon=True,
            )
            worker.start()
            theirs.close()
            self._worker, self._connection = worker, ours
        return self._connection

    def _died(self, call: Call) -> str:
        stage = _stage(self._at.value)
        code = None
        if self._worker is not None:
            self._worker.join(timeout=5)  # it closed its end: it is gone or about to be
            code = self._worker.exitcode
        self.close()
        return JudgingProcessError(call.source or call.call_id, code, stage).message

    def close(self) -> None:
        """Stop the worker (between calls it only waits; within one, the call is abandoned)."""
        if self._connection is not None:
            self._connection.close()
        if self._worker is not None:
            self._worker.kill()
            self._worker.join()
        self._worker = self._connection = None
