"""The agent-case pages (review/cases.py): the agent's own page, the cases list, and the forms
to explain and to decide. A case is reached through its call: a case whose call the user may
not see is not found, as the call is."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from qa_pipeline.review import cases
from qa_pipeline.review.app import (
    AppState,
    _apply,
    _call_or_404,
    _context,
    _posted,
    _sync,
    _text,
    _user,
)
from qa_pipeline.review.auth import User
from qa_pipeline.scorecards.views import card_table
from qa_pipeline.storage import cases as stored
from qa_pipeline.storage.cases import AgentCase


def _case_or_404(state: AppState, user: User, case_id: int) -> AgentCase:
    case = stored.case(state.engine, case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    _call_or_404(state, user, case.call_id)
    return case


def _back(case: AgentCase) -> Response:
    return RedirectResponse(f"/calls/{quote(case.call_id)}#case", status_code=303)


def case_routes(app: FastAPI, state: AppState) -> None:
    render = state.templates.TemplateResponse

    @app.get("/me")
    def my_page(request: Request) -> Response:
        """An agent's own page: cases to explain (with their deadlines), every case with its
        decision, yellow cards per month, and their monthly scorecard."""
        user = _user(request)
        if not user.scope_agent:
            raise HTTPException(403, "the own page is the agent's (others: the home page)")
        _sync(state)
        now = state.clock()
        rows = cases.all_rows(state.engine, user, now)
        params = {"level": "agent", "period": "month", "key": user.scope_agent}
        context = _context(
            request, user, rows=rows, todo=[r for r in rows if r.case.status == "open"],
            cards=cases.cards_by_month([r.case for r in rows]),
            card=card_table(state.engine, None, params),
        )  # fmt: skip
        return render(request, "agent_home.html", context)

    @app.get("/cases")
    def case_list(request: Request) -> Response:
        user = _user(request)
        _sync(state)
        rows = cases.all_rows(state.engine, user, state.clock())
        return render(request, "cases.html", _context(request, user, rows=rows))

    @app.post("/cases/{case_id}/explain")
    async def explain(request: Request, case_id: int) -> Response:
        user = _user(request)
        form = await _posted(request)
        case = _case_or_404(state, user, case_id)
        if user.role != "agent":
            raise HTTPException(403, "only the call's agent explains a case")
        _apply(lambda: cases.explain(
            state.engine, user, case_id, _text(form, "explanation"), state.clock()
        ))  # fmt: skip
        return _back(case)

    @app.post("/cases/{case_id}/decide")
    async def decide(request: Request, case_id: int) -> Response:
        user = _user(request)
        form = await _posted(request)
        case = _case_or_404(state, user, case_id)
        if not cases.may_decide(user, case):
            raise HTTPException(403, "only the team's leader, a QA lead or an admin decides")
        _apply(lambda: cases.decide(
            state.engine, state.ruleset, user, case_id, _text(form, "decision", 16),
            _text(form, "note"), _text(form, "callback", 8) == "1", state.clock(),
        ))  # fmt: skip
        return _back(case)
