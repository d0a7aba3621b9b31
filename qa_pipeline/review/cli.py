"""`qa-pipeline serve` and `qa-pipeline users`, registered by the main command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qa_pipeline.errors import UserError
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
    users.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    users.add_argument("--label", default="", help="what an API token is for (users token)")
    users.add_argument("--db", help=_DB_HELP)
    users.set_defaults(func=_cmd_users)


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
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.users import list_users

    engine = connect(args.db)
    if args.action == "list":
        for user in list_users(engine):
            state = "active" if user.active else "disabled"
            print(f"{user.name:20} {user.role:10} {user.team or '-':10} {state}")
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
        added = auth.add_user(engine, args.name, args.role, args.team, password, "cli")
        team = f", team {added.team}" if added.team else ""
        print(f"user {added.name} added ({added.role}{team})")
        return 0
    match = [u for u in list_users(engine) if u.name == args.name]
    if not match:
        raise UserError(f"no user {args.name!r}")
    auth.set_active(engine, match[0].id, args.action == "enable", "cli")
    print(f"user {args.name} {args.action}d")
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
