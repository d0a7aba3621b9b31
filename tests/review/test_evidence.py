"""The evidence pack end to end: a call spoken into a stereo WAV (espeak-ng), judged by `run`
from its recording and sidecar transcript, reviewed in the workbench, then packed by the
command line and over HTTP; the ZIP is opened and checked: clips cut at the evidence times
(the recording's own samples), hashes that verify, numbers masked for a masked role, a Chinese
page without an English reason, the review history and its sign-off, team scope. Plus packs of
calls whose recording is missing, corrupt or absent."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import wave
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from qa_pipeline.cli import main
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.review import actions
from qa_pipeline.review.app import create_app
from qa_pipeline.review.auth import User, add_user
from qa_pipeline.review.evidence import evidence_pack
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage import review as stored
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.tables import RecordingRow
from qa_pipeline.verdict.reasons import Reason
from testing import audio_synth as synth
from tests.conftest import ROOT, require_tool
from tests.review.conftest import PASSWORD, SPOKEN, XSS
from tests.review.test_http import csrf, login

SETTINGS = ReviewSettings(calibration_share=0.0, calibration_share_recent_failures=0.0)
CALL = "en-s-002"  # an invalid sale: price never stated, trial end not given, weak consent
NUMBER = "13912345678"  # said by the customer in the synthesized call
ITEMS = {
    "identity": "account_holder_verified.identity",
    "permission": "account_holder_verified.permission",
    "price": "disclosures.fees",
    "trial_end": "disclosures.trial_end",
    "cancel_method": "disclosures.cancel_method",
    "consent": "explicit_consent",
}


def _client(url: str) -> TestClient:
    return TestClient(
        create_app(url, SETTINGS), base_url="https://testserver", follow_redirects=False
    )


@dataclasses.dataclass(frozen=True)
class Judged:
    url: str
    wav: Path
    row: dict[str, Any]  # the call's results.jsonl row


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Judged:
    """The call spoken (with a phone number said by the customer), judged by `run` from the
    recording and a sidecar of the spoken turns, and stored; users of three roles."""
    require_tool(synth.espeak_available(), "espeak-ng")
    folder = tmp_path_factory.mktemp("evidence")
    calls = folder / "calls"
    calls.mkdir()
    call = load_call(ROOT / "samples" / "calls" / f"{CALL}.json")
    segments = list(call.segments)
    said = f"{segments[1].text} My other number is {NUMBER}."
    segments[1] = dataclasses.replace(segments[1], text=said)
    spoken = synth.synthesize_call(
        dataclasses.replace(call, segments=tuple(segments)), calls / f"{CALL}.wav"
    )
    sidecar = json.loads((ROOT / "samples" / "calls" / f"{CALL}.json").read_text("utf-8"))
    sidecar["duration_s"] = spoken.duration_s
    sidecar["segments"] = [
        {"start": t.start, "end": t.end, "speaker": t.role, "text": t.text} for t in spoken.turns
    ]
    (calls / f"{CALL}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    url = f"sqlite:///{folder / 'qa.db'}"
    assert main(["run", str(calls), "--out", str(folder / "out"), "--db", url, "-q"]) == 0
    row = json.loads((folder / "out" / "results.jsonl").read_text("utf-8").splitlines()[0])
    assert row["status"] == "ok" and row["recordings"], row.get("error")
    engine = connect(url)
    for name, role, team in (("lead", "qa_lead", None), ("supE", "supervisor", "E1"),
                             ("supT", "supervisor", "T1")):  # fmt: skip
        add_user(engine, name, role, team, PASSWORD, "test")
    _review(url, engine)
    engine.dispose()
    return Judged(url, calls / f"{CALL}.wav", row)


def _review(url: str, engine: Engine) -> None:
    """The lead confirms every flagged finding but the consent one, which is overturned, each
    with a note (one saying the number again): the call is reviewed and signed off."""
    with _client(url) as client:
        assert login(client, "lead") == 303
        token = csrf(client, f"/calls/{CALL}")
        item = stored.review_item(engine, CALL)
        assert item is not None
        for finding in stored.findings(engine, item.verdict_id):
            action = "overturn" if finding.code == "explicit_consent" else "confirm"
            note = f"客户两次报了号码{NUMBER}" if action == "confirm" else "同意很明确"
            answer = client.post(
                f"/calls/{CALL}/findings/{finding.id}/review",
                data={"csrf_token": token, "action": action, "note": note},
            )
            assert answer.status_code == 303, answer.text
    item = stored.review_item(engine, CALL)
    assert item is not None and item.status == "reviewed"


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify_hashes(files: dict[str, bytes]) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(files["manifest.json"])
    listed = manifest["files"]
    assert set(listed) == set(files) - {"manifest.json", "SHA256SUMS"}
    for name, entry in listed.items():
        assert entry == {"sha256": _sha(files[name]), "bytes": len(files[name])}, name
    sums = dict(
        reversed(line.split("  ", 1))  # type: ignore[misc]
        for line in files["SHA256SUMS"].decode().splitlines()
    )
    assert set(sums) == set(files) - {"SHA256SUMS"}
    assert all(sums[name] == _sha(files[name]) for name in sums)
    return manifest


def _evidence_span(row: dict[str, Any], code: str) -> tuple[float, float] | None:
    criterion, _, item = code.partition(".")
    node = row["criteria"][criterion]
    evidence = (node["items"][item] if item else node)["evidence"]
    if not evidence:
        return None
    return min(e["start"] for e in evidence), max(e["end"] for e in evidence)


def _check_clips(files: dict[str, bytes], manifest: dict[str, Any], judged: Judged) -> None:
    """Each clip spans its item's evidence times, and holds the recording's own samples."""
    with wave.open(str(judged.wav), "rb") as source:
        rate, channels, width = source.getframerate(), source.getnchannels(), source.getsampwidth()
        original = source.readframes(source.getnframes())
    clipped = 0
    for entry in manifest["items"]:
        span = _evidence_span(judged.row, ITEMS[entry["item"]])
        assert (entry["evidence_start"], entry["evidence_end"]) == (span or (None, None))
        if span is None:
            assert entry["clip"] is None
            continue
        clipped += 1
        assert entry["clip"] == f"clips/{list(ITEMS).index(entry['item']) + 1}-{entry['item']}.wav"
        assert abs(entry["clip_start"] - span[0]) < 1 / rate
        duration = len(original) / (rate * channels * width)
        assert abs(entry["clip_end"] - min(span[1], duration)) < 1 / rate
        with wave.open(io.BytesIO(files[entry["clip"]]), "rb") as clip:
            assert (clip.getframerate(), clip.getnchannels()) == (rate, channels)
            seconds = clip.getnframes() / rate
            frames = clip.readframes(clip.getnframes())
        assert abs(seconds - (span[1] - span[0])) <= 1 / rate, entry["item"]
        first = round(span[0] * rate) * channels * width
        assert frames == original[first : first + len(frames)]
    assert clipped == 6  # every item of this call has evidence with times


def _text(files: dict[str, bytes]) -> str:
    return files["index.html"].decode("utf-8") + files["manifest.json"].decode("utf-8")


def test_pack_by_the_command_line_masked_in_chinese(
    judged: Judged, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pack.zip"
    args = ["evidence", CALL, "--db", judged.url, "--out", str(out), "--lang", "zh"]
    assert main([*args, "--role", "supervisor"]) == 0
    assert f"evidence pack of {CALL} -> {out} (6 clips" in capsys.readouterr().out
    files = _unzip(out.read_bytes())
    manifest = _verify_hashes(files)
    _check_clips(files, manifest, judged)
    page = files["index.html"].decode("utf-8")
    # masked for a supervisor: the customer's number and the number said (transcript, notes)
    text = _text(files)
    assert NUMBER not in text and "2125550246" not in text
    assert "139****5678" in page and "212***0246" in page
    assert manifest["numbers_masked"] is True
    assert manifest["call"]["customer_number"] == "212***0246"
    # in Chinese: every item's reason rendered from its template, none of the English ones
    criteria = judged.row["criteria"]
    items = [criteria["account_holder_verified"]["items"]["identity"],
             criteria["disclosures"]["items"]["fees"], criteria["explicit_consent"]]  # fmt: skip
    for item in items:
        assert item["reason"] not in page
        why = Reason(item["why"]["key"], item["why"]["params"]).text("zh")
        assert why.replace('"', "&#34;") in page or why in page
    # what the page says itself: past the head and metadata, without the call's own words
    plain = re.sub(r'<ol class="excerpt">.*?</ol>|<ul class="said">.*?</ul>', "",
                   page.split("<h2>", 1)[1], flags=re.S)  # fmt: skip
    plain = re.sub(r"<[^>]+>", " ", plain)
    assert not re.findall(r"\b(?:the|agent|customer|never)\b [a-z]{3,}", plain)
    # the price never said: the stretch searched, as the call page shows it
    price = manifest["items"][2]
    assert price["item"] == "price" and price["passed"] is False and price["searched"]
    assert "已查找，未找到，范围" in page
    # the review history, with who and notes, and the sign-off
    assert [s for s in ("确认", "推翻", "lead", "同意很明确") if s not in page] == []
    assert "客户两次报了号码139****5678" in page
    assert manifest["verdict"]["signed_off_by"] == "lead" and manifest["verdict"]["reviewed"]
    assert manifest["verdict"]["valid_sale"] is False  # the fees finding stands
    assert 'id="sign-off"' in page and "签核人" in page
    assert {i["item"]: i["review"] for i in manifest["items"]}["consent"] == "overturn"
    # a failed item's times are those of its finding's jump-to-time on the call page
    engine = connect(judged.url)
    item = stored.review_item(engine, CALL)
    assert item is not None
    found = {f.code: f for f in stored.findings(engine, item.verdict_id)}
    failed = [i for i in manifest["items"] if i["passed"] is False]
    assert len(failed) == 3
    for entry in failed:
        evidence = found[entry["code"]].evidence
        assert entry["evidence_start"] == min(e.start for e in evidence)
        assert entry["evidence_end"] == max(e.end for e in evidence)
    engine.dispose()


def test_pack_over_http_scoped_and_masked_by_role(judged: Judged) -> None:
    path = f"/calls/{CALL}/evidence.zip"
    with _client(judged.url) as client:
        assert client.get(path).status_code == 303  # signed in only
        assert login(client, "lead") == 303
        assert f'href="{path}?lang=zh"' in client.get(f"/calls/{CALL}").text  # the link
        answer = client.get(f"{path}?lang=en")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
        assert f'filename="evidence-{CALL}.zip"' in answer.headers["content-disposition"]
        files = _unzip(answer.content)
        manifest = _verify_hashes(files)
        _check_clips(files, manifest, judged)
        assert NUMBER in _text(files) and manifest["numbers_masked"] is False  # a QA lead
        assert manifest["generated_by"] == "lead" and manifest["language"] == "en"
        assert "Signed off by" in files["index.html"].decode()
        assert client.get(f"{path}?lang=fr").status_code == 400
        assert "evidence_pack" in client.get("/audit").text
    for name, status in (("supE", 200), ("supT", 404)):
        with _client(judged.url) as client:
            assert login(client, name) == 303
            answer = client.get(path)
            assert answer.status_code == status, name
            if status == 200:
                assert NUMBER not in _text(_unzip(answer.content))
                assert json.loads(_unzip(answer.content)["manifest.json"])["language"] == "zh"


@pytest.fixture
def seeded_client(seeded_sqlite: tuple[str, Engine]) -> Iterator[tuple[TestClient, Engine]]:
    url, engine = seeded_sqlite
    with _client(url) as client:
        assert login(client, "sup1") == 303  # team T1, masked
        yield client, engine


def test_pack_without_a_recording_masks_chinese_numerals(
    seeded_client: tuple[TestClient, Engine],
) -> None:
    client, _ = seeded_client
    files = _unzip(client.get("/calls/zh-x-001/evidence.zip").content)
    manifest = _verify_hashes(files)
    page = files["index.html"].decode("utf-8")
    assert manifest["recording"]["file"] is None and not any(i["clip"] for i in manifest["items"])
    assert "此通话没有录音：本证据包只含转写。" in page
    assert "13912345678" not in page and "一一零一零五一九四九" not in page  # SPOKEN, masked
    assert SPOKEN[:6] in page  # the words around the numbers stay
    assert XSS not in page and "&lt;script&gt;" in page  # escaped, as on the call page
    assert '<mark class="evidence">' in page  # the identity answer highlighted
    # an item that does not apply (a product without a free trial) says why, and has no clip
    files = _unzip(client.get("/calls/zh-s-002/evidence.zip").content)
    trial = json.loads(files["manifest.json"])["items"][3]
    assert trial["item"] == "trial_end" and trial["passed"] is None and trial["clip"] is None
    section = files["index.html"].decode("utf-8").split('id="item-trial_end"')[1]
    section = section.split("</section>")[0]
    assert "不适用" in section and Reason.of("trial_end.no_trial").text("zh") in section


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_pack_of_a_call_whose_recording_is_lost(
    seeded_sqlite: tuple[str, Engine],
    tmp_path: Path,
    damage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, engine = seeded_sqlite
    broken = tmp_path / "zh-s-004.wav"
    if damage == "corrupt":
        broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot a recording at all")
    with engine.begin() as connection:
        connection.execute(
            update(RecordingRow).where(RecordingRow.call_id == "zh-s-004").values(path=str(broken))
        )
    out = tmp_path / "pack.zip"
    assert main(["evidence", "zh-s-004", "--db", url, "--out", str(out), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {broken}: " in err and "the pack holds the transcript only" in err
    files = _unzip(out.read_bytes())
    manifest = _verify_hashes(files)
    assert manifest["recording"]["problem"] == ("missing" if damage == "missing" else "unreadable")
    page = files["index.html"].decode("utf-8")
    assert "zh-s-004.wav" in page and "this pack holds the transcript only" in page
    assert page.count("No clip: this pack has no readable recording.") == 6
    assert len(files) == 3  # the page, the manifest, the sums: no clips


def test_command_line_errors_name_what_is_wrong(
    seeded_sqlite: tuple[str, Engine], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = seeded_sqlite
    assert main(["evidence", "nope", "--db", url]) == 2
    assert "[E110] no call 'nope'" in capsys.readouterr().err
    assert main(["evidence", "zh-s-004", "--db", url, "--out", str(tmp_path / "x.pdf")]) == 2
    assert "[E094] --out" in capsys.readouterr().err
    assert main(["evidence", "zh-s-004", "--db", url, "--lang", "fr"]) == 2
    assert "--lang fr: not one of ['en', 'zh']" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "dir" / "p.zip"
    assert main(["evidence", "zh-s-004", "--db", url, "--out", str(missing)]) == 2
    assert f"cannot write the pack to {missing}" in capsys.readouterr().err


def test_no_pack_of_a_pending_blind_calibration_call(seeded_sqlite: tuple[str, Engine]) -> None:
    """Its verdict stays hidden until it is judged: no link, and the route says why."""
    url, _ = seeded_sqlite
    drawn = ReviewSettings(calibration_share=1.0, calibration_share_recent_failures=1.0)
    client = TestClient(create_app(url, drawn), base_url="https://testserver",
                        follow_redirects=False)  # fmt: skip
    with client:
        assert login(client, "lead") == 303
        assert "blind-form" in client.get("/calls/zh-s-001").text  # a passed sale, drawn
        assert 'id="evidence-pack"' not in client.get("/calls/zh-s-001").text
        answer = client.get("/calls/zh-s-001/evidence.zip")
        assert answer.status_code == 400 and "pending blind calibration call" in answer.text


def test_history_in_order_on_both_databases(seeded: tuple[str, Engine], ruleset: Ruleset) -> None:
    """Confirmed, disputed, the dispute upheld (which overturns): four steps in time order,
    the decision before the overturn it caused, on SQLite and PostgreSQL."""
    url, engine = seeded
    settings = SETTINGS.with_rules(ruleset.criteria)
    with _client(url):  # queues the flagged calls
        pass
    lead, sup = User(1, "lead", "qa_lead", None), User(2, "sup2", "supervisor", "T2")
    item = stored.review_item(engine, "zh-s-004")
    assert item is not None
    arguing = next(f for f in stored.findings(engine, item.verdict_id)
                   if f.code == "forbidden.arguing")  # fmt: skip
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    actions.review_finding(engine, ruleset, settings, lead, "zh-s-004", arguing.id, "confirm",
                           "争辩", start)  # fmt: skip
    dispute = actions.raise_dispute(engine, sup, "zh-s-004", arguing.id, "语气正常",
                                    start + timedelta(minutes=5))  # fmt: skip
    actions.decide_dispute(engine, ruleset, settings, lead, dispute, "upheld", "同意申诉",
                           start + timedelta(minutes=9))  # fmt: skip
    call = stored.visible_call(engine, "zh-s-004", None)
    assert call is not None
    pack = evidence_pack(
        engine, call, "qa_lead", "zh", settings, "lead", start + timedelta(hours=1)
    )
    page = _unzip(pack.data)["index.html"].decode("utf-8")
    steps = re.findall(r'<tr data-action="([a-z]+)">', page)
    assert steps == ["confirm", "dispute", "upheld", "overturn"]
    assert page.index("语气正常") < page.index("同意申诉") and "2026年11月20日 09:09" in page
