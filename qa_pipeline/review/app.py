"""The FastAPI layer: sessions, CSRF, team scope and templates over the library modules.

Every route needs a signed-in session except the login page and static assets; a supervisor's
team is applied to every query (another team's call is 404, as if it did not exist); every form
carries the session's CSRF token; templates escape everything."""

from __future__ import annotations

import dataclasses
import hmac
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware

from qa_pipeline.errors import MissingExtraError, QAPipelineError, ReviewSettingsError
from qa_pipeline.judging.judge import load_rules
from qa_pipeline.review import actions, auth, cases, queue_pages, tokens
from qa_pipeline.review.api import PREFIX, api_app
from qa_pipeline.review.calibration import agreement
from qa_pipeline.review.evidence_http import evidence_router
from qa_pipeline.review.i18n import LANGUAGES, cell, column_name, translator, when
from qa_pipeline.review.queue import (
    SEVERITY_NAMES,
    QueueFilter,
    build_queue,
    filter_choices,
    summarize,
    sync_queue,
)
from qa_pipeline.review.roles import ROLES
from qa_pipeline.review.settings import ReviewSettings, out_of_range, weak_secret
from qa_pipeline.review.sla import escalate_overdue
from qa_pipeline.review.views import call_page
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.scorecards.export import CHART_WORDS, rows_file
from qa_pipeline.scorecards.views import (
    CARD_FORMATS,
    card_chart,
    card_file,
    card_keys,
    card_table,
    ranking_table,
    valid_rate_trend,
)
from qa_pipeline.storage.audit import entries
from qa_pipeline.storage.db import Engine, connect
from qa_pipeline.storage.review import CallRecord, disputes_in_scope, recording_path, visible_call
from qa_pipeline.storage.users import list_users
from qa_pipeline.verdict.reasons import word

HERE = Path(__file__).resolve().parent
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


@dataclass
class AppState:
    engine: Engine
    ruleset: Ruleset
    settings: ReviewSettings
    clock: Clock
    limiter: auth.LoginLimiter
    templates: Jinja2Templates
    last_sync: float = 0.0
    sync_lock: threading.Lock = field(default_factory=threading.Lock)


def create_app(
    db_url: str | None,
    settings: ReviewSettings | None = None,
    rules: Path | None = None,
    clock: Clock = _utc_now,
) -> FastAPI:
    ruleset = load_rules(rules)
    settings = (settings or ReviewSettings()).with_rules(ruleset.criteria)
    weak = weak_secret(settings)
    problems = ([weak] if weak else []) + out_of_range(settings)
    if problems:
        raise ReviewSettingsError("review settings", problems)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
    )
    # The audit log's before/after as readable JSON (Chinese as itself, not \u escapes); the
    # page escapes it like any text.
    environment.filters["json_text"] = lambda value: json.dumps(
        value, ensure_ascii=False, sort_keys=True
    )
    state = AppState(
        engine=connect(db_url),
        ruleset=ruleset,
        settings=settings,
        clock=clock,
        limiter=auth.LoginLimiter(settings.login_max_failures, settings.login_window_seconds),
        templates=Jinja2Templates(env=environment),
    )
    app = FastAPI(title="qa-pipeline review workbench", docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    app.state.review = state
    # A random key when none is set: sessions end when the server restarts.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key or secrets.token_urlsafe(32),
        session_cookie="qa_review_session",
        max_age=settings.session_max_age_seconds,
        same_site="strict",
        https_only=settings.secure_cookies,
    )
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(HTTPException, _error_page)
    _sync(state, force=True)
    _routes(app, state)
    app.include_router(evidence_router(state, _user, _call_or_404, _language))
    app.mount(PREFIX, api_app(state, lambda: _sync(state)))  # the JSON API (docs/api.md)
    app.include_router(queue_pages.router)  # claims, bulk actions, saved filters, search
    return app


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


async def _to_login(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    state: AppState = request.app.state.review
    keys = {400: "bad_request", 403: "forbidden_access", 404: "not_found"}
    context = _context(request, None, message=str(exc.detail), title=keys.get(exc.status_code))
    return state.templates.TemplateResponse(
        request, "error.html", context, status_code=exc.status_code
    )


def _language(request: Request) -> str:
    state: AppState = request.app.state.review
    chosen = request.session.get("lang")
    return chosen if chosen in LANGUAGES else state.settings.default_language


def _csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _context(request: Request, user: auth.User | None, **values: Any) -> dict[str, Any]:
    language = _language(request)
    return {
        "t": translator(language), "lang": language, "user": user,
        "csrf": _csrf_token(request), "path": request.url.path,
        # In the reader's language: a finding code's name, a reason, a date or time.
        "name": lambda code: word(str(code), language),
        "say": lambda why, fallback="": why.text(language) if why is not None else fallback,
        "when": lambda value: when(value, language),
        "column_name": lambda column: column_name(column, language),
        "cell": cell,
        **values,
    }  # fmt: skip


def _user(request: Request) -> auth.User:
    state: AppState = request.app.state.review
    user = auth.signed_in(state.engine, request.session.get("sid"))
    if user is None:
        raise LoginRequired()
    return user


def _reviewer(request: Request) -> auth.User:
    user = _user(request)
    if not user.can_review:
        raise HTTPException(403, "only QA leads and admins")
    return user


async def _posted(request: Request) -> FormData:
    """The form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str)) or not hmac.compare_digest(
        sent, expected
    ):
        raise HTTPException(403, "missing or wrong CSRF token")
    return form


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _safe_next(target: str | None) -> str:
    """Only local paths: a crafted ?next= must not send users to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/queue"


def _sync(state: AppState, force: bool = False) -> None:
    """Queue new flagged calls and calibration draws, escalate overdue ones; at most every
    `queue_sync_seconds` (each sync reads every latest verdict)."""
    with state.sync_lock:
        if not force and time.monotonic() - state.last_sync < state.settings.queue_sync_seconds:
            return
        now = state.clock()
        sync_queue(state.engine, state.settings, now)
        escalate_overdue(state.engine, now)
        cases.open_flagged(state.engine, state.settings, now)
        cases.escalate_late(state.engine, now)
        state.last_sync = time.monotonic()


def _call_or_404(state: AppState, user: auth.User, call_id: str) -> CallRecord:
    call = visible_call(state.engine, call_id, user.scope_team, user.scope_agent)
    if call is None:
        raise HTTPException(404, f"no call {call_id}")
    return call


def _apply(action: Callable[[], object]) -> None:
    try:
        action()
    except QAPipelineError as exc:
        raise HTTPException(400, exc.message) from exc


def _routes(app: FastAPI, state: AppState) -> None:
    render = state.templates.TemplateResponse

    @app.get("/login")
    def login_page(request: Request, next: str | None = None) -> Response:
        return render(request, "login.html", _context(request, None, next=_safe_next(next)))

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await _posted(request)
        name = _text(form, "username", 64)
        client = request.client.host if request.client else "unknown"
        keys = [f"user:{name}", f"ip:{client}"]
        now = time.monotonic()
        error = None
        if state.limiter.blocked(keys, now):
            error, status = "login_blocked", 429
        else:
            user = auth.authenticate(state.engine, name, _text(form, "password", 256))
            if user is None:
                state.limiter.failed(keys, now)
                error, status = "login_failed", 401
        if error is not None:
            context = _context(request, None, error=error, next=_safe_next(_text(form, "next")))
            return render(request, "login.html", context, status_code=status)
        assert user is not None
        state.limiter.succeeded(keys)
        language = request.session.get("lang")
        auth.sign_out(state.engine, request.session.get("sid"))
        token = auth.sign_in(state.engine, user, state.settings.session_max_age_seconds)
        request.session.clear()  # a fresh session (and CSRF token) on every login
        request.session.update({"sid": token, "lang": language})
        return RedirectResponse(_safe_next(_text(form, "next")), status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        await _posted(request)
        auth.sign_out(state.engine, request.session.get("sid"))
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/lang/{code}")
    def language(request: Request, code: str, next: str | None = None) -> Response:
        _user(request)
        if code in LANGUAGES:
            request.session["lang"] = code
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.get("/")
    def home(request: Request) -> Response:
        """Today at a glance: the pending queue, overdue calls, the valid-rate trend and the
        rules that fail most, within the user's scope."""
        user = _user(request)
        if user.scope_agent:  # an agent's home is their own page
            return RedirectResponse("/me", status_code=303)
        _sync(state)
        entries = build_queue(
            state.engine, user.scope_team, QueueFilter(), state.settings, state.clock()
        )
        summary = summarize(entries)
        trend = valid_rate_trend(state.engine, user.scope_team)
        waiting = cases.case_rows(state.engine, user, state.clock())
        context = _context(request, user, summary=summary, trend=trend, cases=waiting)
        return render(request, "home.html", context)

    @app.get("/queue")
    def queue(request: Request) -> Response:
        user = _user(request)
        _sync(state)
        query = request.query_params
        severity = {v: k for k, v in SEVERITY_NAMES.items()}.get(query.get("severity") or "")
        wanted = QueueFilter(
            date_from=query.get("date_from") or None, date_to=query.get("date_to") or None,
            team=query.get("team") or None, agent=query.get("agent") or None,
            campaign=query.get("campaign") or None, criterion=query.get("criterion") or None,
            severity=severity, state=query.get("state") or "pending",
        )  # fmt: skip
        if user.scope_agent:  # an agent's queue holds their own calls only
            wanted = dataclasses.replace(wanted, agent=user.scope_agent)
        rows = build_queue(state.engine, user.scope_team, wanted, state.settings, state.clock())
        rows, extras = queue_pages.queue_extras(request, user, rows)
        choices = filter_choices(state.engine, user.scope_team, user.scope_agent)
        size = max(1, state.settings.queue_page_size)
        pages = max(1, -(-len(rows) // size))
        number = min(max(_int(query.get("page"), 1), 1), pages)
        kept = urlencode([(k, v) for k, v in query.multi_items() if k != "page" and v])
        context = _context(
            request, user, rows=rows[(number - 1) * size : number * size], total=len(rows),
            wanted=wanted, choices=choices, severity=query.get("severity") or "",
            page_number=number, pages=pages, kept=kept,
            cases=cases.case_rows(state.engine, user, state.clock()), **extras,
        )  # fmt: skip
        return render(request, "queue.html", context)

    @app.get("/calls/{call_id}")
    def call(request: Request, call_id: str) -> Response:
        user = _user(request)
        page = call_page(state.engine, _call_or_404(state, user, call_id), user, state.settings,
                         state.ruleset.signals, _language(request))  # fmt: skip
        criteria = list(state.ruleset.criteria.criteria)
        # The speech-rate limit the audio signals were judged against (rules/signals.yaml).
        language = page.result.language if page.result else None
        fast_rate = state.ruleset.signals.fast_rate.get(language or "")
        case = cases.call_case(state.engine, call_id, state.clock())
        context = _context(request, user, page=page, criteria=criteria, fast_rate=fast_rate,
                           case=case, thresholds=state.ruleset.signals)  # fmt: skip
        return render(request, "call.html", context)

    @app.get("/calls/{call_id}/transcript.{fmt}")
    def transcript_file(request: Request, call_id: str, fmt: str) -> Response:
        """The transcript as the page shows it to this user: numbers said in the call masked
        for a role outside `unmask_roles`."""
        user = _user(request)
        if fmt not in CARD_FORMATS:
            raise HTTPException(404, f"no transcript.{fmt}: csv or xlsx")
        page = call_page(state.engine, _call_or_404(state, user, call_id), user, state.settings)
        t = translator(_language(request))
        columns = ("start", "end", "role", "text")
        rows = [(line.start, line.end, t(line.role) if line.role in ("agent", "customer")
                 else line.role, page.say("".join(text for text, _ in line.parts)))
                for line in page.lines]  # fmt: skip
        headers = {c: t(f"column_{c}") for c in columns}
        body = rows_file(columns, rows, fmt, headers)
        disposition = f'attachment; filename="transcript-{quote(call_id)}.{fmt}"'
        return Response(body, media_type=CARD_FORMATS[fmt],
                        headers={"Content-Disposition": disposition})  # fmt: skip

    @app.get("/calls/{call_id}/audio")
    def audio(request: Request, call_id: str) -> Response:
        user = _user(request)
        _call_or_404(state, user, call_id)
        path = recording_path(state.engine, call_id)
        if path is None or not Path(path).is_file():
            raise HTTPException(404, f"no recording for call {call_id}")
        # FileResponse answers Range requests (206), which the player needs to seek.
        return FileResponse(path, headers={"Cache-Control": "private, no-store"})

    @app.post("/calls/{call_id}/findings/{finding_id}/review")
    async def review(request: Request, call_id: str, finding_id: int) -> Response:
        user = _user(request)
        form = await _posted(request)
        _call_or_404(state, user, call_id)
        if not user.can_review:
            raise HTTPException(403, "only QA leads and admins review findings")
        queue_pages.refuse_if_held(request, user, call_id)
        _apply(lambda: actions.review_finding(
            state.engine, state.ruleset, state.settings, user, call_id, finding_id,
            _text(form, "action", 16), _text(form, "note"), state.clock(),
        ))  # fmt: skip
        if request.headers.get("x-requested-with") == "fetch":
            # review.js confirms in place: it takes the page's new verdict parts from this.
            return call(request, call_id)
        return RedirectResponse(f"/calls/{quote(call_id)}#finding-{finding_id}", status_code=303)

    @app.post("/calls/{call_id}/findings/{finding_id}/dispute")
    async def dispute(request: Request, call_id: str, finding_id: int) -> Response:
        user = _user(request)
        form = await _posted(request)
        _call_or_404(state, user, call_id)
        if user.role not in ("supervisor", "admin", "agent"):
            raise HTTPException(403, "only supervisors and the call's agent dispute findings")
        _apply(lambda: actions.raise_dispute(
            state.engine, user, call_id, finding_id, _text(form, "reason"), state.clock()
        ))  # fmt: skip
        return RedirectResponse(f"/calls/{quote(call_id)}#finding-{finding_id}", status_code=303)

    @app.post("/calls/{call_id}/calibration")
    async def blind(request: Request, call_id: str) -> Response:
        user = _user(request)
        form = await _posted(request)
        _call_or_404(state, user, call_id)
        if not user.can_review:
            raise HTTPException(403, "only QA leads and admins")
        criteria = list(state.ruleset.criteria.criteria)
        passed = {c: form.get(c) == "pass" for c in criteria if form.get(c) in ("pass", "fail")}
        _apply(lambda: actions.judge_blind(
            state.engine, user, call_id, passed, _text(form, "note"), state.clock(), criteria
        ))  # fmt: skip
        return RedirectResponse(f"/calls/{quote(call_id)}", status_code=303)

    @app.get("/disputes")
    def disputes(request: Request) -> Response:
        user = _user(request)
        rows = disputes_in_scope(state.engine, user.scope_team, user.scope_agent)
        return render(request, "disputes.html", _context(request, user, rows=rows))

    @app.post("/disputes/{dispute_id}/decide")
    async def decide(request: Request, dispute_id: int) -> Response:
        user = _reviewer(request)
        form = await _posted(request)
        _apply(lambda: actions.decide_dispute(
            state.engine, state.ruleset, state.settings, user, dispute_id,
            _text(form, "decision", 16), _text(form, "note"), state.clock(),
        ))  # fmt: skip
        return RedirectResponse("/disputes", status_code=303)

    @app.get("/calibration")
    def calibration(request: Request) -> Response:
        user = _reviewer(request)
        criteria = state.ruleset.criteria.criteria
        rows = agreement(state.engine, [n for n, c in criteria.items() if c.scope == "sale"])
        return render(request, "calibration.html", _context(request, user, rows=rows))

    def card_params(request: Request, user: auth.User) -> dict[str, str]:
        if user.scope_agent:  # other agents' rows: an agent's own scorecard is on /me
            raise HTTPException(403, "agents see their own scorecard on their page")
        query = request.query_params
        levels = ("agent", "team") if user.scope_team else ("agent", "team", "center")
        level = query.get("level") if query.get("level") in levels else "agent"
        period = query.get("period") if query.get("period") in ("day", "week", "month") else "week"
        return {"level": level or "agent", "period": period or "week",
                "key": query.get("key") or "", "levels": ",".join(levels)}  # fmt: skip

    @app.get("/scorecards")
    def scorecards(request: Request) -> Response:
        user = _user(request)
        params = card_params(request, user)
        table = card_table(state.engine, user.scope_team, params)
        month = request.query_params.get("month") or ""
        min_calls = _int(request.query_params.get("min_calls"), state.settings.ranking_min_calls)
        ranking, month = ranking_table(state.engine, user.scope_team, month, min_calls)
        context = _context(
            request, user, table=table, params=params, ranking=ranking, month=month,
            min_calls=min_calls, query=str(request.url.query),
            keys=card_keys(state.engine, user.scope_team, params),
        )  # fmt: skip
        return render(request, "scorecards.html", context)

    @app.get("/scorecards/chart.png")
    def chart(request: Request) -> Response:
        user = _user(request)
        params = card_params(request, user)
        try:
            png = card_chart(state.engine, user.scope_team, params, _chart_words(request))
        except MissingExtraError as exc:  # installed without the charts extra
            raise HTTPException(404, exc.message) from exc
        if png is None:
            raise HTTPException(404, "nothing to chart")
        return Response(png, media_type="image/png")

    @app.get("/scorecards/export")
    def export(request: Request) -> Response:
        user = _user(request)
        params = card_params(request, user)
        fmt = request.query_params.get("format") or "csv"
        if fmt not in CARD_FORMATS:
            raise HTTPException(400, f"format {fmt!r} is not csv or xlsx")
        language = _language(request)
        body = card_file(state.engine, user.scope_team, params, fmt,
                         lambda column: column_name(column, language))  # fmt: skip
        name = f"scorecard-{params['level']}-{params['period']}"
        disposition = f'attachment; filename="{name}.{fmt}"'
        headers = {"Content-Disposition": disposition}
        return Response(body, media_type=CARD_FORMATS[fmt], headers=headers)

    @app.get("/admin/users")
    def users(request: Request) -> Response:
        return users_page(request, _admin(request), None)

    def users_page(request: Request, user: auth.User, new_token: str | None) -> Response:
        rows = list_users(state.engine)
        context = _context(request, user, rows=rows, roles=ROLES, new_token=new_token,
                           tokens=tokens.all_tokens(state.engine),
                           names={u.id: u.name for u in rows})  # fmt: skip
        return render(request, "users.html", context, headers={"Cache-Control": "no-store"})

    @app.post("/admin/users")
    async def add_user(request: Request) -> Response:
        user = _admin(request)
        form = await _posted(request)
        _apply(lambda: auth.add_user(
            state.engine, _text(form, "name", 64), _text(form, "role", 16),
            _text(form, "team", 64) or None, _text(form, "password", 256), user.name,
            _text(form, "agent_id", 200) or None,  # past 64: refused, not cut
        ))  # fmt: skip
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/users/{user_id}/active")
    async def set_active(request: Request, user_id: int) -> Response:
        user = _admin(request)
        form = await _posted(request)
        active = _text(form, "active") == "1"
        _apply(lambda: auth.set_active(state.engine, user_id, active, user.name))
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/tokens")
    async def add_token(request: Request) -> Response:
        """A new API token, shown on this answer only (not a redirect: it is never stored)."""
        user = _admin(request)
        form = await _posted(request)
        made: list[tokens.NewToken] = []
        _apply(lambda: made.append(tokens.create_token(
            state.engine, _text(form, "name", 64), _text(form, "label", 200), user.name
        )))  # fmt: skip
        return users_page(request, user, made[0].secret)

    @app.post("/admin/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, token_id: int) -> Response:
        user = _admin(request)
        await _posted(request)
        _apply(lambda: tokens.revoke_token(state.engine, token_id, user.name))
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/audit")
    def audit(request: Request) -> Response:
        user = _reviewer(request)
        return render(request, "audit.html", _context(request, user, rows=entries(state.engine)))

    from qa_pipeline.review.case_routes import case_routes  # it uses this module's helpers

    case_routes(app, state)


def _chart_words(request: Request) -> dict[str, str]:
    """The trend chart's titles and axis labels in the reader's language."""
    t = translator(_language(request))
    return {key: t(f"chart_{key}") for key in CHART_WORDS}


def _admin(request: Request) -> auth.User:
    user = _user(request)
    if user.role != "admin":
        raise HTTPException(403, "only admins manage users")
    return user


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default
