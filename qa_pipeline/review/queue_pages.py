"""Routes for reviewing at speed: bulk actions and claims on the queue, saved queue filters,
and transcript search. Registered by `create_app`; the session, CSRF and scope helpers are the
app's own (read at call time: app.py imports this module)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from qa_pipeline.errors import QueueActionError
from qa_pipeline.review import app as web
from qa_pipeline.review import bulk, claims, finder
from qa_pipeline.review.auth import User
from qa_pipeline.review.i18n import translator
from qa_pipeline.review.queue import QueueEntry
from qa_pipeline.storage.search import TRIGRAM, search_mode
from qa_pipeline.storage.users import list_users
from qa_pipeline.verdict.reasons import word

router = APIRouter()


def said(language: str, key: str, params: dict[str, str]) -> str:
    """An interface text with its {name} parameters filled (values as given, never parsed; a
    finding code by its name in the language)."""
    text = translator(language)(key)
    for name, value in params.items():
        text = text.replace("{" + name + "}", word(value, language) if name == "code" else value)
    return text


def _refused(request: Request, exc: QueueActionError) -> HTTPException:
    message = said(web._language(request), exc.key, exc.params)
    return HTTPException(400, f"{message} ({exc.code})")


def refuse_if_held(request: Request, user: User, call_id: str) -> None:
    """A review of a call someone else holds a live claim on is refused (409), as in bulk."""
    state: web.AppState = request.app.state.review
    held = claims.held_by_other(state.engine, call_id, user, state.clock())
    if held is not None:
        message = said(web._language(request), "claim_held", {"holder": held.holder})
        raise HTTPException(409, message)


def queue_extras(
    request: Request, user: User, rows: Sequence[QueueEntry]
) -> tuple[list[QueueEntry], dict[str, Any]]:
    """The queue narrowed by the holder filter, with what its page shows besides: each call's
    live claim, the user's saved filters, the reviewers a call can be assigned to."""
    state: web.AppState = request.app.state.review
    live = claims.live_claims(state.engine, state.clock())
    holder = request.query_params.get("holder") or ""
    holder = holder if holder in claims.HOLDER_FILTERS else ""
    reviewers = [u.name for u in list_users(state.engine)
                 if u.active and u.role in claims.REVIEW_ROLES]  # fmt: skip
    return claims.by_holder(rows, holder, live, user), {
        "claims": live, "holder": holder, "saved": finder.filters_of(state.engine, user),
        "reviewers": reviewers, "operations": bulk.OPERATIONS,
        "filter_query": finder.clean_filter(str(request.url.query)),
    }  # fmt: skip


def _back(target: str) -> str:
    """Back to the queue page the form came from (only ever a queue page)."""
    return target if target.startswith("/queue") else "/queue"


@router.post("/queue/bulk")
async def bulk_action(request: Request) -> Response:
    state: web.AppState = request.app.state.review
    user = web._user(request)
    form = await web._posted(request)
    if not user.can_review:
        raise HTTPException(403, "only QA leads and admins act on the queue")
    one = web._text(form, "claim_one", 200)  # a row's own claim button
    calls = (one,) if one else tuple(v for v in form.getlist("call") if isinstance(v, str))
    wanted = bulk.BulkRequest(
        "claim" if one else web._text(form, "op", 16), calls, web._text(form, "assignee", 64),
        web._text(form, "code", 64), web._text(form, "note"),
    )  # fmt: skip
    try:
        outcomes = bulk.apply(state.engine, state.ruleset, state.settings, user, wanted,
                              state.clock())  # fmt: skip
    except QueueActionError as exc:
        raise _refused(request, exc) from exc
    back = _back(web._text(form, "next", 2000))
    if one and all(o.ok for o in outcomes):
        return RedirectResponse(back, status_code=303)
    language = web._language(request)
    shown = [(o, said(language, o.key, o.params)) for o in outcomes]
    context = web._context(request, user, outcomes=shown, operation=wanted.operation,
                           code=wanted.code, back=back,
                           failed=sum(not o.ok for o in outcomes))  # fmt: skip
    return state.templates.TemplateResponse(request, "bulk.html", context)


@router.post("/queue/filters")
async def save_filter(request: Request) -> Response:
    state: web.AppState = request.app.state.review
    user = web._user(request)
    form = await web._posted(request)
    query = web._text(form, "query", 2000)
    try:
        finder.save_filter(state.engine, user, web._text(form, "name", 200), query,
                           state.clock())  # fmt: skip
    except QueueActionError as exc:
        raise _refused(request, exc) from exc
    cleaned = finder.clean_filter(query)
    return RedirectResponse("/queue" + (f"?{cleaned}" if cleaned else ""), status_code=303)


@router.post("/queue/filters/{filter_id}/delete")
async def delete_filter(request: Request, filter_id: int) -> Response:
    state: web.AppState = request.app.state.review
    user = web._user(request)
    await web._posted(request)
    try:
        finder.delete_filter(state.engine, user, filter_id)
    except QueueActionError as exc:
        raise _refused(request, exc) from exc
    return RedirectResponse("/queue", status_code=303)


@router.get("/search")
def search(request: Request) -> Response:
    state: web.AppState = request.app.state.review
    user = web._user(request)
    try:
        query = finder.clean_search(request.query_params.get("q") or "")
    except QueueActionError as exc:
        raise _refused(request, exc) from exc
    mode = search_mode(state.engine)  # asked once: the hits and the page both need it
    hits = finder.search(state.engine, user, query, state.settings, mode)
    context = web._context(
        request, user, q=query, hits=hits, mode=mode,
        short=0 < len(query) < TRIGRAM, limit=finder.MAX_HITS,
    )  # fmt: skip
    return state.templates.TemplateResponse(request, "search.html", context)
