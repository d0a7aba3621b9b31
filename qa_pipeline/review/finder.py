"""Finding calls fast: saved queue filters (a user's named query strings of /queue) and
full-text transcript search (storage/search.py) shown with the matched text highlighted, within
the user's team scope and masked for their role."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from qa_pipeline.errors import SavedFilterError, SearchQueryError
from qa_pipeline.review.auth import User, mask_spoken_numbers
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.storage import claims as stored
from qa_pipeline.storage.claims import SavedFilter
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.search import search_lines
from qa_pipeline.storage.transaction import transaction

# The queue's filters, as its query string names them (a saved filter keeps only these).
FILTER_KEYS = (
    "date_from", "date_to", "team", "agent", "campaign", "criterion", "severity", "state",
    "holder",
)  # fmt: skip
MAX_NAME = 40
MAX_QUERY = 100  # characters of a search query
MAX_HITS = 200


def _printable(text: str) -> str:
    """Without control and format characters (a NUL would stop PostgreSQL)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def clean_filter(query: str) -> str:
    """A /queue query string reduced to the known filters with a value, in a stable order."""
    given = {k: v[:200] for k, v in parse_qsl(query) if k in FILTER_KEYS and v.strip()}
    return urlencode([(k, given[k]) for k in FILTER_KEYS if k in given])


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME or _printable(cleaned) != cleaned:
        raise SavedFilterError(
            f"filter name {name[:60]!r}: use 1-{MAX_NAME} characters, no control characters",
            "filter_bad_name", limit=str(MAX_NAME),
        )  # fmt: skip
    return cleaned


def save_filter(engine: Engine, user: User, name: str, query: str, now: datetime) -> str:
    """Keep the queue filter `query` as `name` (replacing one of that name); the name kept."""
    cleaned = check_name(name)
    with transaction(engine) as tx:
        stored.save_filter(tx, user.id, cleaned, clean_filter(query), now)
    return cleaned


def delete_filter(engine: Engine, user: User, filter_id: int) -> str:
    with transaction(engine) as tx:
        name = stored.delete_filter(tx, user.id, filter_id)
    if name is None:
        raise SavedFilterError(f"you have no saved filter {filter_id}", "filter_unknown")
    return name


def filters_of(engine: Engine, user: User) -> list[SavedFilter]:
    return stored.saved_filters(engine, user.id)


def clean_search(query: str) -> str:
    """The query as searched: printable, spaces collapsed; too long is an error."""
    cleaned = " ".join(_printable(query).split())
    if len(cleaned) > MAX_QUERY:
        raise SearchQueryError(
            f"search query of {len(cleaned)} characters; at most {MAX_QUERY}",
            "search_too_long", limit=str(MAX_QUERY),
        )  # fmt: skip
    return cleaned


@dataclass(frozen=True)
class HitView:
    call_id: str
    start: float
    role: str
    team: str
    agent_id: str
    local_date: str
    before: str
    match: str
    after: str


def _split(text: str, query: str) -> tuple[str, str, str] | None:
    found = re.search(re.escape(query), text, re.IGNORECASE)
    if found is None:
        return None
    return text[: found.start()], found.group(0), text[found.end() :]


def search(
    engine: Engine, user: User, query: str, settings: ReviewSettings, mode: str | None = None
) -> list[HitView]:
    """Transcript lines holding `query` within the user's scope, each split around the match.
    For a role that sees numbers masked, the text is masked first and a line whose match the
    mask hid is left out (a search must not confirm a number the page would hide). `mode`:
    the database's search mode, when the caller has it already."""
    if not query:
        return []
    masked = user.role not in settings.unmask_roles
    hits = []
    found = search_lines(engine, query, user.scope_team, MAX_HITS, user.scope_agent, mode)
    for hit in found:
        text = mask_spoken_numbers(hit.text) if masked else hit.text
        parts = _split(text, query)
        if parts is not None:
            hits.append(HitView(hit.call_id, hit.start, hit.role, hit.team, hit.agent_id,
                                hit.local_date, *parts))  # fmt: skip
    return hits
