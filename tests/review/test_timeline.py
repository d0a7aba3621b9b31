"""The call page's timeline (issue 14): lanes of turns, silences and overlaps from the transcript
or the audio, sentiment readings, labelled pins that do not overprint; and the page drawing it
in the reader's language, with every bar and pin seeking the player."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from qa_pipeline.judging.judge import load_rules
from qa_pipeline.review.timeline import LEFT, timeline
from qa_pipeline.verdict.model import TranscriptLine
from tests.review.test_http import _client, login

SIGNALS = load_rules(None).signals  # min_silence_s 1.0, min_overlap_s 0.3, interruption_s 0.8


def _lines() -> list[TranscriptLine]:
    return [
        TranscriptLine(0.0, 4.0, "agent", "您好"),
        TranscriptLine(6.0, 8.0, "customer", "嗯"),  # a 2 s silence before it
        TranscriptLine(7.5, 12.0, "agent", "价格是每月5元"),  # 0.5 s over the customer
        TranscriptLine(10.0, 14.0, "customer", "等一下"),  # 2 s over the agent: interruption
    ]


def test_turns_silences_and_overlaps_from_the_transcript() -> None:
    drawn = timeline(_lines(), 20.0, None, [], None, SIGNALS, {})
    assert [(b.kind, b.start) for b in drawn.turns] == [
        ("agent", 0.0), ("customer", 6.0), ("agent", 7.5), ("customer", 10.0),
    ]  # fmt: skip
    assert [(e.kind, e.start, e.end) for e in drawn.events] == [
        ("silence", 4.0, 6.0), ("overlap", 7.5, 8.0), ("interruption", 10.0, 12.0),
    ]  # fmt: skip
    assert drawn.turns[0].x == LEFT and drawn.turns[-1].x + drawn.turns[-1].width <= 100
    assert [t.label for t in drawn.ticks] == ["00:00", "00:05", "00:10", "00:15", "00:20"]


def test_pins_take_rows_so_their_labels_do_not_overprint() -> None:
    labels = {"a": "机主核实：身份", "b": "业务告知：资费", "c": "x"}
    findings = [("a", 5.0), ("b", 5.5), ("c", 19.9)]
    drawn = timeline(_lines(), 20.0, None, findings, None, SIGNALS, labels)
    rows = {p.code: (p.row, p.anchor) for p in drawn.pins}
    assert rows["a"][0] != rows["b"][0]  # half a second apart: one above the other
    assert rows["c"] == (0, "end")  # at the right edge: its label ends at its pin


@pytest.fixture
def client(seeded_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    with _client(seeded_sqlite[0]) as test_client:
        yield test_client


def test_the_call_page_draws_the_timeline_in_the_readers_language(client: TestClient) -> None:
    login(client, "lead")
    page = client.get("/calls/zh-s-004").text
    svg = page[page.index('<svg class="timeline"') : page.index("</svg>")]
    assert (
        svg.count('class="turn role-agent"') == 5 and svg.count('class="turn role-customer"') == 4
    )
    assert ">坐席</text>" in svg and ">客户</text>" in svg and "通话时间轴" in page
    # a finding pin per finding with evidence, seeking where its evidence starts
    findings = re.findall(
        r'class="pin marker kind-finding" data-code="([^"]+)" data-seek="([^"]+)"', svg
    )
    assert dict(findings) == {
        "account_holder_verified.permission": "9.1", "explicit_consent": "47.8",
        "forbidden.arguing": "47.8", "agent_hung_up_first": "63.3",
    }  # fmt: skip
    assert ">明确同意办理</text>" in svg and ">业务告知：资费</text>" in svg  # a passed item too
    # the customer's sentiment readings, in Chinese
    assert svg.count('class="reading sentiment-') == 4 and "情绪：中性" in svg
    assert not re.search(r">[^<]*\b(agent|customer|neutral|silence)\b[^<]*<", svg)
    client.get("/lang/en")
    english = client.get("/calls/zh-s-004").text
    assert ">Agent</text>" in english and "Call timeline" in english


def test_the_timeline_masks_numbers_said_in_tooltips(client: TestClient) -> None:
    login(client, "sup1")
    page = client.get("/calls/zh-x-001").text
    svg = page[page.index('<svg class="timeline"') : page.index("</svg>")]
    assert "139****5678" in svg and "13912345678" not in page


def test_hangup_disagreements_and_signal_thresholds_read_in_chinese(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    """The hang-up decision with its source, and each source that disagrees, in the reader's
    language (results.jsonl keeps them in English); the audio card states its thresholds; the
    timeline takes the audio's silences and overlaps."""
    import dataclasses

    from sqlalchemy import select, update
    from sqlalchemy.orm import Session

    from qa_pipeline.audio.signals import AudioSignals, Overlap, RoleSignals
    from qa_pipeline.storage.tables import VerdictRow

    agent = RoleSignals(talk_s=20.0, talk_share=0.6, turns=5, speech_rate=300.0,
                        rate_unit="chars/min", too_fast=False, interruptions=1)  # fmt: skip
    audio = AudioSignals(duration_s=60.0, roles={"agent": agent}, total_silence_s=3.0,
                         longest_silence_s=3.0, longest_silence_at=30.0,
                         silences=((30.0, 33.0),),
                         overlaps=(Overlap(40.0, 41.5, "customer", "agent", True),),
                         first_agent_word_s=0.4, talking_at_end=("customer",))  # fmt: skip
    disagreeing = [
        "audio: the recording ended while only the customer was talking",
        "transcript: the call record says the agent hung up",  # a template with a parameter
    ]
    engine = seeded_sqlite[1]
    with Session(engine) as session:
        verdict = session.scalars(select(VerdictRow).where(VerdictRow.call_id == "zh-s-002")).one()
        result = dict(verdict.result)
        result["agent_hung_up_first"] = dict(result["agent_hung_up_first"]) | {
            "disagreements": disagreeing
        }
        result["audio"] = dataclasses.asdict(audio)
        session.execute(update(VerdictRow).where(VerdictRow.id == verdict.id).values(result=result))
        session.commit()
    login(client, "lead")
    page = client.get("/calls/zh-s-002").text
    items = re.findall(r'<li data-source="(\w+)">(.*?)</li>', page)
    assert items == [("audio", "不一致 — 录音：录音结束时只有客户在说话"),
                     ("transcript", "不一致 — 转写：通话记录显示由坐席挂断")]  # fmt: skip
    shown = re.search(r'<p id="hangup" class="hangup">(.*?)</p>', page, re.S)
    assert shown is not None and "依据：" in shown.group(1)
    assert not re.search(r"[a-z]{3,} [a-z]{3,}", re.sub(r"<[^>]+>", "", shown.group(1)))
    thresholds = re.search(r'id="signal-thresholds">(.*?)</p>', page)
    assert thresholds is not None
    assert (
        thresholds.group(1) == "判定阈值：静音 ≥ 1.0 s；重叠 ≥ 0.3 s；抢话 ≥ 0.8 s；语速 上限 330"
    )
    svg = page[page.index('<svg class="timeline"') : page.index("</svg>")]
    assert re.findall(r'data-event="(\w+)" data-seek="([\d.]+)"', svg) == [
        ("silence", "30.0"), ("interruption", "40.0"),
    ]  # fmt: skip
    client.get("/lang/en")
    english = client.get("/calls/zh-s-002").text
    assert "Disagrees — audio: the recording ended while only the customer was talking" in english
