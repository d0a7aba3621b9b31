"""The JSON API (issue 14, docs/api.md): calls, verdicts, findings, reviews, tasks and scorecards
for other systems, read with a per-user API token (`Authorization: Bearer qap_...`), and the
two review writes (confirm/overturn, dispute) through the same review actions as the pages.

A FastAPI app of its own, mounted at /api/v1: its OpenAPI document is /api/v1/openapi.json and
its reference page /api/v1/docs is rendered here from that document (no script, no CDN: the
workbench's CSP allows neither). Scope and masking are the pages': a supervisor sees their team
only (anything else is 404, as if it did not exist), customer numbers and numbers said in calls
are masked for roles not in `unmask_roles`. Every error is JSON with a stable code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa_pipeline.errors import (
    ApiAuthError,
    ApiConflictError,
    ApiError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiParameterError,
    ReviewError,
)
from qa_pipeline.review import actions, tokens
from qa_pipeline.review import api_models as out
from qa_pipeline.review.auth import User, mask_number, mask_spoken_numbers
from qa_pipeline.review.i18n import LANGUAGES, translator
from qa_pipeline.review.queue import SEVERITY_NAMES, filter_choices
from qa_pipeline.review.sla import is_overdue
from qa_pipeline.review.views import FindingView, call_page, stored_finding_views
from qa_pipeline.scorecards.views import card_table
from qa_pipeline.storage.listing import (
    CallFilter,
    CallListing,
    CallState,
    FindingState,
    finding_call,
    list_calls,
    list_findings,
    list_reviews,
)
from qa_pipeline.storage.review import CallRecord, ReviewItem, visible_call
from qa_pipeline.storage.tasks import list_tasks, utc
from qa_pipeline.verdict.model import CallVerdict, Criterion, Evidence, Item
from qa_pipeline.verdict.reasons import Reason, word

if TYPE_CHECKING:
    from qa_pipeline.review.app import AppState

PREFIX = "/api/v1"
MAX_PAGE_SIZE = 100  # rows per page at most; a call's findings per row make pages heavy
MAX_PAGE = 1_000_000  # past any real data; keeps offsets inside every database's integers
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": out.ErrorOut, "description": text}
    for status, text in (
        (400, "bad parameter or body (E124), with the valid choices"),
        (401, "no token, or an unknown, revoked or disabled user's token (E121)"),
        (404, "not found within your scope (E123)"),
    )
}
_WRITE_ERRORS = _ERRORS | {
    403: {"model": out.ErrorOut, "description": "your role may not do this (E122)"},
    409: {"model": out.ErrorOut, "description": "the finding's state does not allow it (E125)"},
}

_bearer = HTTPBearer(
    auto_error=False,
    description="an API token: `qa-pipeline users token NAME` prints one (shown once)",
)


def api_app(state: AppState, sync: Callable[[], None]) -> FastAPI:
    """The API as an app to mount at PREFIX; `sync` brings the review queue up to date (the
    workbench's own sync, rate-limited there)."""
    api = FastAPI(
        title="qa-pipeline API", version="1", openapi_url="/openapi.json", docs_url=None,
        redoc_url=None, responses=_ERRORS,
        description="The QA system of record: calls, verdicts, findings, reviews, tasks and "
        "scorecards (docs/api.md). Send `Authorization: Bearer <token>`.",
    )  # fmt: skip
    api.state.review = state
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    _routes(api, state, sync)
    return api


def _json_error(status: int, code: str, message: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "status": status}}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    response = _json_error(exc.status, exc.code, exc.message)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _invalid(request: Request, exc: Exception) -> Response:
    """FastAPI's validation errors (a page that is not a number, an unknown state, a body that
    is not JSON) as one 400 naming each parameter and what it should be."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return _json_error(400, ApiParameterError.code, "; ".join(problems))


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own (an unknown path, a wrong method) in the API's JSON shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = ApiNotFoundError.code if exc.status_code == 404 else ApiError.code
    return _json_error(exc.status_code, code, str(exc.detail))


def _language(lang: str | None, accept: str | None, default: str) -> str:
    """?lang= first, else the first Accept-Language tag we have (zh-CN -> zh), else default."""
    if lang is not None:
        if lang not in LANGUAGES:
            raise ApiParameterError(f"lang {lang!r} is not one of {list(LANGUAGES)}")
        return lang
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in LANGUAGES:
            return tag
    return default


def _choice(name: str, value: str | None, valid: list[str]) -> str | None:
    """`value` if it is one of `valid`; empty is no filter (as the pages' forms send it)."""
    if not value:
        return None
    if value not in valid:
        shown = ", ".join(valid[:30]) + (f", … ({len(valid)} in all)" if len(valid) > 30 else "")
        raise ApiParameterError(f"{name} {value!r} is not one of your scope's: {shown or 'none'}")
    return value


def _pages(total: int, page: int, size: int) -> dict[str, int]:
    return {"page": page, "size": size, "total": total, "pages": max(1, -(-total // size))}


Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
Size = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"rows, 1-{MAX_PAGE_SIZE}")]
Lang = Annotated[
    str | None, Query(description=f"one of {list(LANGUAGES)}; else Accept-Language, else default")
]
OutcomeName = Literal["sale", "declined", "no_pitch"]
FindingId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The token's user: only a bearer token opens the API (a session cookie does not, so no
    CSRF token is needed for its writes)."""
    if credentials is None:
        raise ApiAuthError("send an API token: Authorization: Bearer <token>")
    engine = request.app.state.review.engine
    user = tokens.token_user(engine, credentials.credentials)
    if user is None:
        raise ApiAuthError("the API token is unknown, revoked, or its user is disabled")
    if user.scope_agent is not None:  # the API scopes by team; an agent's own calls are /me's
        raise ApiForbiddenError(
            "agents read their own calls and cases in the workbench (/me); the API serves "
            "qa_lead, supervisor and admin"
        )
    return user


Caller = Annotated[User, Depends(_caller)]


class _Views:
    """What one request's user may see, in one language: the converters to response models."""

    def __init__(self, state: AppState, user: User, language: str) -> None:
        self.state, self.user, self.language = state, user, language
        self.unmasked = user.role in state.settings.unmask_roles

    def text(self, value: str) -> str:
        return value if self.unmasked else mask_spoken_numbers(value)

    def say(self, why: Reason | None, fallback: str) -> str:
        return self.text(why.text(self.language) if why is not None else fallback)

    def evidence(self, found: tuple[Evidence, ...]) -> list[out.Evidence]:
        return [
            out.Evidence(start=e.start, end=e.end, speaker=e.speaker, text=self.text(e.text),
                         match=self.text(e.match) if e.match else None)
            for e in found
        ]  # fmt: skip

    def queue(self, item: ReviewItem | None) -> out.QueueState | None:
        if item is None:
            return None
        now = self.state.clock()
        reviewed = utc(item.reviewed_at) if item.reviewed_at else None
        return out.QueueState(
            status=item.status, source=item.source, blind=item.blind,
            severity=SEVERITY_NAMES.get(item.severity, "low"), queued_at=utc(item.queued_at),
            reviewed_at=reviewed, escalated=item.escalated_at is not None,
            overdue=is_overdue(item.queued_at, item.sla_minutes, item.status, now),
        )  # fmt: skip

    def summary(self, row: CallListing) -> dict[str, Any]:
        call, item = row.call, row.item
        hidden = item is not None and item.blind and item.status == "pending"
        final = item.final_valid_sale if item is not None and item.final else row.valid_sale
        number = call.customer_number if self.unmasked else mask_number(call.customer_number)
        return {
            "call_id": call.call_id, "campaign": call.campaign, "team": call.team,
            "agent_id": call.agent_id, "customer_number": number,
            "started_local": call.started_local, "local_date": call.local_date,
            "duration_s": call.duration_s, "language": row.language,
            "outcome": None if hidden else row.outcome,
            "valid_sale": None if hidden else final,
            "engine_valid_sale": None if hidden else row.valid_sale,
            "revisit_required": None if hidden else row.revisit_required,
            "queue": self.queue(item),
        }  # fmt: skip

    def finding(self, call_id: str, f: FindingView) -> out.FindingOut:
        return out.FindingOut(
            id=f.id, call_id=call_id, kind=f.kind, code=f.code, name=word(f.code, self.language),
            reason=self.say(f.why, f.reason), flagged=f.flagged, state=f.state,
            reviewer=f.reviewer, note=f.note, evidence=self.evidence(f.evidence),
            disputes=[
                out.Dispute(id=d.id, raised_by=d.raised_by, reason=d.reason, status=d.status,
                            decided_by=d.decided_by, decision_note=d.decision_note)
                for d in f.disputes
            ],
        )  # fmt: skip

    def criteria(self, verdict: CallVerdict, item: ReviewItem | None) -> list[out.CriterionOut]:
        final = item.final if item is not None else None
        shown = []
        for code, node in verdict.criteria.items():
            parts: list[tuple[str, Item]] = (
                [(f"{code}.{name}", it) for name, it in node.items.items()]
                if isinstance(node, Criterion) else [(code, node)]
            )  # fmt: skip
            items = [
                out.ItemOut(code=c, name=word(c, self.language), passed=it.passed,
                            reason=self.say(it.why, it.reason), evidence=self.evidence(it.evidence))
                for c, it in parts
            ]  # fmt: skip
            passed = final.criteria.get(code) if final is not None else node.passed
            shown.append(out.CriterionOut(
                code=code, name=word(code, self.language), applies=verdict.applies(code),
                passed=node.passed, final_passed=passed, items=items,
            ))  # fmt: skip
        return shown


def _routes(api: FastAPI, app_state: AppState, sync: Callable[[], None]) -> None:
    settings, engine = app_state.settings, app_state.engine

    def views(user: User, lang: str | None, accept: str | None) -> _Views:
        return _Views(app_state, user, _language(lang, accept, settings.default_language))

    def call_filter(
        user: User, date_from: date | None, date_to: date | None, team: str | None,
        agent: str | None, campaign: str | None, **more: Any,
    ) -> CallFilter:  # fmt: skip
        if date_from and date_to and date_from > date_to:
            raise ApiParameterError(f"date_from {date_from} is after date_to {date_to}")
        choices = filter_choices(engine, user.scope_team)
        return CallFilter(
            scope_team=user.scope_team,
            date_from=date_from.isoformat() if date_from else None,
            date_to=date_to.isoformat() if date_to else None,
            team=_choice("team", team, choices["team"]),
            agent=_choice("agent", agent, choices["agent"]),
            campaign=_choice("campaign", campaign, choices["campaign"]), **more,
        )  # fmt: skip

    @api.get("/me", response_model=out.Me, summary="The token's user")
    def me(user: Caller) -> out.Me:
        return out.Me(name=user.name, role=user.role, team=user.scope_team)

    @api.get("/calls", response_model=out.CallsPage, summary="Calls with their verdicts")
    def calls(
        user: Caller, page: Page = 1, size: Size = 50, date_from: date | None = None,
        date_to: date | None = None, team: str | None = None, agent: str | None = None,
        campaign: str | None = None, state: CallState = "all", outcome: OutcomeName | None = None,
    ) -> out.CallsPage:  # fmt: skip
        """Calls in your scope, newest first. `state` is the call's place in the review queue;
        `date_from`/`date_to` are the call's local date, inclusive."""
        sync()
        wanted = call_filter(user, date_from, date_to, team, agent, campaign, state=state,
                             outcome=outcome)  # fmt: skip
        found = list_calls(engine, wanted, (page - 1) * size, size)
        shown = views(user, None, None)
        items = [out.CallSummary(**shown.summary(row)) for row in found.rows]
        return out.CallsPage(items=items, **_pages(found.total, page, size))

    @api.get("/calls/{call_id}", response_model=out.CallDetail, summary="One call in full")
    def call(
        user: Caller, call_id: str, lang: Lang = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> out.CallDetail:  # fmt: skip
        """The verdict, each criterion with its items, and each finding with its evidence and
        review state; names and reasons in `lang` (else Accept-Language)."""
        shown = views(user, lang, accept_language)
        page = call_page(engine, visible(user, call_id), user, settings)
        found = list_calls(engine, CallFilter(user.scope_team, call_id=call_id), 0, 1).rows
        verdict = page.verdict
        final = page.item.final if page.item is not None else None
        verdict_out = None
        if page.result is not None and verdict is not None:
            verdict_out = out.VerdictOut(
                outcome=verdict.outcome.value, outcome_name=word(verdict.outcome.value,
                shown.language), outcome_reason=shown.say(verdict.outcome.why,
                verdict.outcome.reason), valid_sale=verdict.valid_sale,
                final_valid_sale=final.valid_sale if final else verdict.valid_sale,
                revisit_required=final.revisit_required if final else verdict.revisit_required,
                rules_version=page.result.rules_version,
            )  # fmt: skip
        return out.CallDetail(
            **shown.summary(found[0]), lang=shown.language, blind=page.blind,
            verdict=verdict_out,
            criteria=shown.criteria(verdict, page.item) if verdict_out and verdict else [],
            findings=[shown.finding(call_id, f) for f in page.findings],
        )  # fmt: skip

    def visible(user: User, call_id: str) -> CallRecord:
        record = visible_call(engine, call_id, user.scope_team)
        if record is None:
            raise ApiNotFoundError(f"no call {call_id!r} in your scope")
        return record

    @api.get("/findings", response_model=out.FindingsPage, summary="Findings across calls")
    def findings(
        user: Caller, page: Page = 1, size: Size = 50, date_from: date | None = None,
        date_to: date | None = None, team: str | None = None, agent: str | None = None,
        campaign: str | None = None, call_id: str | None = None,
        kind: Literal["criterion", "forbidden", "hangup", "review_flag"] | None = None,
        code: str | None = None, state: FindingState = "all", lang: Lang = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> out.FindingsPage:  # fmt: skip
        """Findings of each call's current verdict (newest call first); `code` matches a code or
        its family (`disclosures` matches `disclosures.fees`); `state` is the latest review."""
        sync()
        shown = views(user, lang, accept_language)
        wanted = call_filter(user, date_from, date_to, team, agent, campaign, call_id=call_id)
        found = list_findings(engine, wanted, (page - 1) * size, size, kind, code, state)
        verdicts = list(dict.fromkeys(row.finding.verdict_id for row in found.rows))
        by_id: dict[int, FindingView] = {
            f.id: f for views in stored_finding_views(engine, verdicts, settings).values()
            for f in views
        }  # fmt: skip
        items = [shown.finding(row.call.call_id, by_id[row.finding.id]) for row in found.rows]
        return out.FindingsPage(items=items, **_pages(found.total, page, size))

    @api.get("/reviews", response_model=out.ReviewsPage, summary="Review decisions, newest first")
    def reviews(
        user: Caller, page: Page = 1, size: Size = 50, call_id: str | None = None,
        team: str | None = None, reviewer: str | None = None,
        action: Literal["confirm", "overturn"] | None = None,
    ) -> out.ReviewsPage:  # fmt: skip
        """Every confirm and overturn (the history: a later review of a finding does not hide
        an earlier one)."""
        wanted = call_filter(user, None, None, team, None, None, call_id=call_id)
        found = list_reviews(engine, wanted, (page - 1) * size, size, reviewer, action)
        shown = views(user, None, None)
        items = [
            out.ReviewOut(id=r.id, call_id=r.call_id, team=r.team, finding_id=r.finding_id,
                          finding_code=r.finding_code, action=r.action, reviewer=r.reviewer,
                          note=shown.text(r.note) if r.note else None,
                          created_at=utc(r.created_at))
            for r in found.rows
        ]  # fmt: skip
        return out.ReviewsPage(items=items, **_pages(found.total, page, size))

    def finding_in_scope(user: User, finding_id: int) -> str:
        """The call of a finding its call page shows this user: another team's, an older
        verdict's or a pending blind call's finding is not found, so it cannot be acted on."""
        call_id = finding_call(engine, finding_id)
        record = visible_call(engine, call_id, user.scope_team) if call_id else None
        if record is None or not any(
            f.id == finding_id for f in call_page(engine, record, user, settings).findings
        ):
            raise ApiNotFoundError(f"no finding {finding_id} in your scope")
        return record.call_id

    def view_of(user: User, call_id: str, finding_id: int, accept: str | None) -> out.FindingOut:
        page = call_page(engine, visible(user, call_id), user, settings)
        found = next(f for f in page.findings if f.id == finding_id)
        return views(user, None, accept).finding(call_id, found)

    @api.post(
        "/findings/{finding_id}/review", response_model=out.FindingOut, responses=_WRITE_ERRORS,
        summary="Confirm or overturn a finding (QA leads and admins)",
    )  # fmt: skip
    def review(
        user: Caller, finding_id: FindingId, body: out.ReviewIn,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> out.FindingOut:  # fmt: skip
        """The workbench's review action: the call's final verdict, its callback tasks and the
        day's scorecards follow, and the audit log names you."""
        call_id = finding_in_scope(user, finding_id)
        if not user.can_review:
            raise ApiForbiddenError(f"{user.role} may not review findings (QA leads and admins)")
        _apply(lambda: actions.review_finding(
            engine, app_state.ruleset, settings, user, call_id, finding_id, body.action,
            body.note.strip(), app_state.clock(),
        ))  # fmt: skip
        return view_of(user, call_id, finding_id, accept_language)

    @api.post(
        "/findings/{finding_id}/dispute", response_model=out.DisputeOut, status_code=201,
        responses=_WRITE_ERRORS, summary="Dispute a confirmed finding (supervisors and admins)",
    )  # fmt: skip
    def dispute(
        user: Caller, finding_id: FindingId, body: out.DisputeIn,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> out.DisputeOut:  # fmt: skip
        """Opens a dispute a QA lead decides on the disputes page."""
        call_id = finding_in_scope(user, finding_id)
        if user.role not in ("supervisor", "admin"):
            raise ApiForbiddenError(f"{user.role} may not dispute findings (supervisors, admins)")
        opened: list[int] = []
        _apply(lambda: opened.append(actions.raise_dispute(
            engine, user, call_id, finding_id, body.reason.strip(), app_state.clock()
        )))  # fmt: skip
        finding = view_of(user, call_id, finding_id, accept_language)
        return out.DisputeOut(dispute_id=opened[0], finding=finding)

    @api.get("/tasks", response_model=out.TasksPage, summary="Callback tasks")
    def tasks(
        user: Caller, page: Page = 1, size: Size = 50,
        status: Literal["open", "closed", "all"] = "open",
        kind: Literal["revisit", "confirm_1", "confirm_2", "confirm_3", "confirm_extended"]
        | None = None, team: str | None = None, call_id: str | None = None,
    ) -> out.TasksPage:  # fmt: skip
        """Urgent first, then by due time, as `qa-pipeline tasks list`."""
        wanted = call_filter(user, None, None, team, None, None)
        rows = [
            t for t in list_tasks(engine, status, kind)
            if (wanted.scope_team is None or t.team == wanted.scope_team)
            and (wanted.team is None or t.team == wanted.team)
            and (not call_id or t.call_id == call_id)
        ]  # fmt: skip
        shown = views(user, None, None)
        items = [
            out.TaskOut(
                id=t.id, call_id=t.call_id, kind=t.kind, priority=t.priority, status=t.status,
                outcome=t.outcome, reason_codes=list(t.reason_codes), summary=t.summary,
                customer_number=t.customer_number if shown.unmasked
                else mask_number(t.customer_number),
                agent_id=t.agent_id, team=t.team, campaign=t.campaign, due_at=t.due_at,
                created_at=t.created_at, closed_at=t.closed_at, trial_end=t.trial_end,
                extended=t.extended, linked_call_id=t.linked_call_id,
            )
            for t in rows[(page - 1) * size : page * size]
        ]  # fmt: skip
        return out.TasksPage(items=items, **_pages(len(rows), page, size))

    @api.get("/scorecards", response_model=out.ScorecardPage, summary="Scorecards by period")
    def scorecards(
        user: Caller, page: Page = 1, size: Size = 50,
        level: Literal["agent", "team", "center"] = "agent",
        period: Literal["day", "week", "month"] = "week", key: str | None = None,
    ) -> out.ScorecardPage:  # fmt: skip
        """The scorecards page's table: one row per agent, team or the center and period.
        Supervisors see their team's agents and team (no center)."""
        if user.scope_team and level == "center":
            raise ApiParameterError("level 'center' is not in your scope; one of ['agent', 'team']")
        params = {"level": level, "period": period, "key": key or ""}
        table = card_table(engine, user.scope_team, params)
        rows = [
            {c: _plain(v) for c, v in zip(table.columns, row, strict=True)}
            for row in table.rows[(page - 1) * size : page * size]
        ]
        return out.ScorecardPage(level=level, period=period, columns=list(table.columns),
                                 items=rows, **_pages(len(table.rows), page, size))  # fmt: skip

    @api.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request, lang: str | None = None) -> Response:
        """The OpenAPI document as a page, rendered here: no script, nothing from a CDN."""
        language = _language(
            lang if lang in LANGUAGES else None, request.headers.get("accept-language"),
            settings.default_language,
        )  # fmt: skip
        context = {"t": translator(language), "lang": language, "spec": api.openapi(),
                   "prefix": PREFIX}  # fmt: skip
        return app_state.templates.TemplateResponse(request, "api_docs.html", context)


def _apply(action: Callable[[], object]) -> None:
    """A review rule's refusal (not queued, not confirmed, already disputed) is a conflict."""
    try:
        action()
    except ReviewError as exc:
        raise ApiConflictError(exc.message) from exc


def _plain(value: object) -> out.Value:
    """A table cell as JSON: numpy scalars as Python's, NaN as null."""
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    if isinstance(value, float) and value != value:
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
