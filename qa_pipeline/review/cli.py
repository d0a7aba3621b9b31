"""`qa-pipeline serve` and `qa-pipeline users`, registered by the main command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qa_pipeline.errors import EvidenceError, OptionValueError, UserError
from qa_pipeline.review.roles import ROLES

_DB_HELP = "database URL (default: SQLite file under QA_PIPELINE_DATA_DIR or ./data)"


def register(sub: Any) -> None:
    """Add the workbench's subcommands to the main parser's subparsers."""
    serve = sub.add_parser("serve", help="the review workbench web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--db", help=_DB_HELP)
    serve.add_argument("--rules", type=Path, help="rules folder (default: the bundled rules/)")
    serve.add_argument("--settings", type=Path, help="review settings YAML (docs/review.md)")
    serve.set_defaults(func=_cmd_serve)

    users = sub.add_parser("users", help="workbench users")
    users.add_argument(
        "action", choices=["add", "list", "disable", "enable", "token", "tokens", "revoke-token"]
    )
    users.add_argument("name", nargs="?", help="a user's name (revoke-token: the token's ID)")
    users.add_argument("--role", choices=list(ROLES))
    users.add_argument("--team", help="a supervisor's team")
    users.add_argument("--agent", help="an agent's id in the call records (role agent)")
    users.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    users.add_argument("--label", default="", help="what an API token is for (users token)")
    users.add_argument("--db", help=_DB_HELP)
    users.set_defaults(func=_cmd_users)

    pack = sub.add_parser(
        "evidence", help="one call's evidence pack for a complaint (ZIP: page, clips, manifest)"
    )
    pack.add_argument("call_id", metavar="CALL_ID")
    pack.add_argument("--db", help=_DB_HELP)
    pack.add_argument("--out", type=Path, help="the ZIP file (default: evidence-CALL_ID.zip)")
    pack.add_argument(
        "--role",
        choices=list(ROLES),
        default="supervisor",
        help="numbers masked as the call page masks them for this role (default supervisor: "
        "masked unless the settings' unmask_roles has it)",
    )
    pack.add_argument("--lang", help="zh or en (default: the settings' default_language)")
    pack.add_argument("--settings", type=Path, help="review settings YAML (docs/review.md)")
    pack.set_defaults(func=_cmd_evidence)


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from qa_pipeline.review.app import create_app
    from qa_pipeline.review.settings import load_settings

    settings = load_settings(args.settings)
    app = create_app(args.db, settings, args.rules)
    if settings.secure_cookies:
        print(
            "session cookies are Secure: browsers send them over HTTPS only (serve behind an "
            "HTTPS proxy, or set secure_cookies: false for plain-HTTP use on this machine)",
            file=sys.stderr,
        )
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False)
    return 0


def _cmd_users(args: argparse.Namespace) -> int:
    from qa_pipeline.review import auth
    from qa_pipeline.storage.cases import agent_has_calls
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.users import list_users

    engine = connect(args.db)
    if args.action == "list":
        for user in list_users(engine):
            state = "active" if user.active else "disabled"
            agent = f" agent {user.agent_id}" if user.agent_id else ""
            print(f"{user.name:20} {user.role:10} {user.team or '-':10} {state}{agent}")
        return 0
    if not args.name:
        raise UserError(f"users {args.action} needs a NAME")
    if args.action in ("token", "tokens", "revoke-token"):
        return _cmd_tokens(engine, args.action, args.name, args.label)
    if args.action == "add":
        if not args.role:
            raise UserError("users add needs --role " + "|".join(ROLES))
        if not args.password_stdin:
            raise UserError("give the password on standard input with --password-stdin")
        password = sys.stdin.readline().rstrip("\n")
        added = auth.add_user(engine, args.name, args.role, args.team, password, "cli",
                              args.agent)  # fmt: skip
        team = f", team {added.team}" if added.team else ""
        agent = f", agent {added.agent_id}" if added.agent_id else ""
        print(f"user {added.name} added ({added.role}{team}{agent})")
        if added.agent_id and not agent_has_calls(engine, added.agent_id):
            print(f"note: no calls of agent {added.agent_id} in the database yet; check the id "
                  "if this agent has taken calls", file=sys.stderr)  # fmt: skip
        return 0
    match = [u for u in list_users(engine) if u.name == args.name]
    if not match:
        raise UserError(f"no user {args.name!r}")
    auth.set_active(engine, match[0].id, args.action == "enable", "cli")
    print(f"user {args.name} {args.action}d")
    return 0


def _cmd_evidence(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from qa_pipeline.review.evidence import evidence_pack, record_export
    from qa_pipeline.review.i18n import LANGUAGES
    from qa_pipeline.review.settings import load_settings
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.review import visible_call

    if args.out is not None and args.out.suffix.lower() != ".zip":
        raise OptionValueError("--out", str(args.out), "the evidence pack is a ZIP file: give "
                               "a name ending in .zip")  # fmt: skip
    settings = load_settings(args.settings)
    language = args.lang or settings.default_language
    if language not in LANGUAGES:
        raise OptionValueError("--lang", language, f"not one of {list(LANGUAGES)}")
    engine = connect(args.db)
    call = visible_call(engine, args.call_id, None)
    if call is None:
        raise EvidenceError(f"no call {args.call_id!r} in the database (the call id as `run` "
                            "stored it; --db reads another database)")  # fmt: skip
    pack = evidence_pack(engine, call, args.role, language, settings, "cli", datetime.now(UTC))
    out = args.out or Path(pack.name)
    try:
        out.write_bytes(pack.data)
    except OSError as exc:
        raise EvidenceError(f"cannot write the pack to {out}: {exc.strerror or exc}") from exc
    record_export(engine, "cli", call.call_id, pack)
    if pack.recording_problem:
        print(f"warning: {pack.recording_problem}", file=sys.stderr)
    masked = "numbers masked" if pack.masked else "numbers not masked"
    print(f"evidence pack of {call.call_id} -> {out} ({pack.clips} clips, {len(pack.data)} "
          f"bytes; {language}; {masked} for role {args.role})")  # fmt: skip
    return 0


def _cmd_tokens(engine: Any, action: str, name: str, label: str) -> int:
    """API tokens (docs/api.md): a new one is printed once, only its hash is kept."""
    from qa_pipeline.errors import TokenError
    from qa_pipeline.review import tokens

    if action == "token":
        made = tokens.create_token(engine, name, label, "cli")
        print(made.secret)
        print(f"API token {made.record.id} of {name} created; it is shown only now",
              file=sys.stderr)  # fmt: skip
        return 0
    if action == "tokens":
        for t in tokens.list_tokens(engine, name):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            print(f"{t.id:<6} {t.prefix}…  {t.label or '-':20} {t.created_at:%Y-%m-%d %H:%M}  "
                  f"{used:16} {state}")  # fmt: skip
        return 0
    if not name.isdigit():
        raise TokenError(f"users revoke-token needs a token ID (a number), not {name!r}")
    revoked = tokens.revoke_token(engine, int(name), "cli")
    print(f"API token {revoked.id} ({revoked.label or 'no label'}) revoked")
    return 0
