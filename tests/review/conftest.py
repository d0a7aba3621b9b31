"""Seeded workbench databases: the sample calls judged and stored, one call whose transcript
holds a script tag, a real WAV recording for zh-s-004, and one user of each role."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import struct
import wave
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from qa_pipeline.batch.run import run_batch
from qa_pipeline.review.auth import add_user
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.scorecards.frame import load_frame
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.storage.tables import RecordingRow
from tests.conftest import ROOT

PASSWORD = "correct-horse-1"
XSS = "<script>window.__xss = 1</script>"
SPOKEN = "我另一个号码是13912345678，身份证一一零一零五一九四九"  # numbers said in the call
USERS = (
    ("lead", "qa_lead", None),
    ("sup1", "supervisor", "T1"),
    ("sup2", "supervisor", "T2"),
    ("admin", "admin", None),
)


def write_tone(path: Path, seconds: float, rate: int = 8000) -> None:
    """A mono 16-bit WAV of a quiet 440 Hz tone: a real file the browser can load and seek."""
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def seed(url: str, folder: Path, ruleset: Ruleset) -> Engine:
    calls = folder / "calls"
    calls.mkdir(parents=True)
    for path in (ROOT / "samples" / "calls").glob("*.json"):
        shutil.copy(path, calls)
    hostile = json.loads((calls / "zh-s-004.json").read_text(encoding="utf-8"))
    hostile |= {"call_id": "zh-x-001", "team": "T1", "agent_id": "S199",
                "customer_number": "13812341234"}  # fmt: skip
    hostile["segments"][1]["text"] = f"是啊，什么事？{XSS}{SPOKEN}"
    (calls / "zh-x-001.json").write_text(json.dumps(hostile, ensure_ascii=False), "utf-8")
    store = Store(connect(url))
    run_batch(calls, folder / "out", ruleset, store=store)
    rebuild(store.engine, set(load_frame(store.engine)["local_date"]))
    wav = folder / "zh-s-004.wav"
    write_tone(wav, 70)
    digest = hashlib.sha256(wav.read_bytes()).hexdigest()
    with store.engine.begin() as connection:
        connection.execute(
            insert(RecordingRow).values(call_id="zh-s-004", path=str(wav), content_hash=digest)
        )
    for name, role, team in USERS:
        add_user(store.engine, name, role, team, PASSWORD, "test")
    return store.engine


@pytest.fixture
def seeded(db_url: str, tmp_path: Path, ruleset: Ruleset) -> tuple[str, Engine]:
    """A seeded database on SQLite and on PostgreSQL."""
    return db_url, seed(db_url, tmp_path, ruleset)


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory: pytest.TempPathFactory, ruleset: Ruleset) -> Path:
    """Seeded once per session (judging, scorecards and password hashes take seconds)."""
    folder = tmp_path_factory.mktemp("seeded")
    url = f"sqlite:///{folder / 'review.db'}"
    seed(url, folder, ruleset).dispose()
    return folder / "review.db"


@pytest.fixture
def seeded_sqlite(tmp_path: Path, _seeded_template: Path) -> tuple[str, Engine]:
    """A copy of the seeded SQLite database of its own (the WAV stays shared, read-only)."""
    path = tmp_path / "review.db"
    shutil.copy(_seeded_template, path)
    url = f"sqlite:///{path}"
    return url, connect(url)
