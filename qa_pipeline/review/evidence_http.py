"""`GET /calls/{id}/evidence.zip`: the call's evidence pack (review/evidence.py), scoped and
masked for the signed-in user as the call page is: another team's call is 404, and numbers are
masked unless the user's role is in `unmask_roles`. `?lang=zh|en` picks the pack's language
(default: the reader's). Each pack made is in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from qa_pipeline.errors import QAPipelineError
from qa_pipeline.review.auth import User
from qa_pipeline.review.evidence import evidence_pack, record_export
from qa_pipeline.storage.review import CallRecord

if TYPE_CHECKING:
    from qa_pipeline.review.app import AppState


def evidence_router(
    state: AppState,
    user_of: Callable[[Request], User],
    call_of: Callable[[AppState, User, str], CallRecord],
    language_of: Callable[[Request], str],
) -> APIRouter:
    """The route, given the app's own session, scope and language lookups."""
    router = APIRouter()

    @router.get("/calls/{call_id}/evidence.zip")
    def evidence(request: Request, call_id: str, lang: str | None = None) -> Response:
        user = user_of(request)
        call = call_of(state, user, call_id)
        try:
            pack = evidence_pack(state.engine, call, user.role, lang or language_of(request),
                                 state.settings, user.name, state.clock())  # fmt: skip
        except QAPipelineError as exc:
            raise HTTPException(400, exc.message) from exc
        record_export(state.engine, user.name, call.call_id, pack)
        headers = {
            "Content-Disposition": f'attachment; filename="{pack.name}"',
            "Cache-Control": "private, no-store",
        }
        return Response(pack.data, media_type="application/zip", headers=headers)

    return router
