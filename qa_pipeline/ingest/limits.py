"""What a call file may hold: the one constraint set the parser enforces and the database's
columns are built from (storage/tables.py sizes its String columns with these), so SQLite and
PostgreSQL refuse exactly what the parser refuses, with the same reason, and a value never
reaches a database that would truncate, reject or silently keep it.

The JSON limits bound the work one file can cause: nesting depth (a deep file would exhaust the
recursion of the parser), the length of a number literal (Python refuses to read an integer of
more than 4,300 digits) and the time span a call may claim.
"""

from __future__ import annotations

import hashlib
from types import MappingProxyType

CALL_ID = 128  # also every column that names a call: revisit_of, tasks, reviews, audit
CAMPAIGN = 64
LANGUAGE = 8
AGENT_ID = 64
TEAM = 64
CUSTOMER_NUMBER = 32

# The call fields stored in String columns, with their column length.
FIELD_LENGTHS = MappingProxyType(
    {
        "call_id": CALL_ID,
        "campaign": CAMPAIGN,
        "language": LANGUAGE,
        "agent_id": AGENT_ID,
        "team": TEAM,
        "customer_number": CUSTOMER_NUMBER,
        "revisit_of": CALL_ID,
    }
)

MAX_DEPTH = 32  # a call file needs 4 (call, segments, segment, value); metadata may nest more
MAX_NUMBER_CHARS = 64  # a number literal longer than this is no time or duration
MAX_SECONDS = 7 * 24 * 3600.0  # a segment time or duration past a week is a broken file
FIRST_YEAR = 1970  # started_at must fall in [FIRST_YEAR, LAST_YEAR]: date arithmetic on it
LAST_YEAR = 2200  # (trial ends, weeks, UTC offsets) then never leaves Python's range


def printable(text: str) -> str:
    """`text` as any database and JSON writer takes it: unpaired surrogates (from a file name
    that is not UTF-8, or a JSON escape) and NULs written as backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def row_call_id(name: str) -> str:
    """A call id for a failed row named after its file: printable, and cut to the column's
    length with a hash of the whole name so two long names stay two rows."""
    name = printable(name)
    if len(name) <= CALL_ID:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    return f"{name[: CALL_ID - 13]}~{digest}"
