"""What the ASR stage hears, with real weights, on calls synthesised from the dev set (two
espeak-ng voice pairs, alternating), against the calls' own text: one run, ratios only.

Systems, all on the same audio and model (CTranslate2 int8 on CPU):
- plain: `WhisperModel.transcribe` per channel, whole channel, `vad_filter=True`, no prompt;
  plain-t0 the same at temperature 0 only (its default ladder samples, so runs differ);
- calls / channels / channel: our packing across calls, across the two channels of one call,
  or per channel only, the calls of one prompt in one `transcribe_calls` as the Listener runs
  them; each with the quality gate (a poor window decoded again whole, a region still poor
  alone, what stays poor marked suspect), and each also without it (`-nogate`);
- default: the Listener's own, the language's packing, context and beam from models.yaml
  (`asr.packing`), gated; `--pad` does not apply to it, `--beam` does (to every packed system;
  without it the others are greedy).

English calls speak their numbers as an agent says them (`SynthOptions.spoken_numbers`: "$9.99"
as "9 dollars 99", "611" digit by digit); `--espeak-numbers` lets espeak-ng read them as written
("dollar nine point nine nine"), as this bench did before 2026-12-05 12:00 UTC.

Figures: WER (CER for zh) of every reference turn against the words placed on its channel in
its time, reference segments that got no word at all ("lost"), encoder windows, suspects and
retried regions, ASR seconds (wall, decoding only) and x-realtime per core: audio seconds / CPU
seconds of the whole stage (VAD included: the plain loop's vad_filter is in its time), and
verdict agreement (outcome, valid_sale) with the same calls' clean transcripts, rules only, and
"labels": the share of every label the eval scores (`LabelSet.names`: outcome, each graded
criterion and item, hang-up, valid_sale, revisit) over all calls whose value from the heard
transcript equals its value from the clean one, counted by `evaluate` with the clean verdicts as
gold; `--disagreements` lists the labels that differ and where, `--transcripts DIR` writes
what each system heard per call.

    python bench/asr_real.py [--language en] [--calls 6] [--model tiny.en] [--systems ...]
                             [--threads 2] [--pad S] [--phases] [--disagreements]
                             [--transcripts DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from qa_pipeline.asr.packing import PackingMode  # noqa: E402
from qa_pipeline.asr.prompt import Prompt, build_prompt  # noqa: E402
from qa_pipeline.asr.quality import DEFAULT_GATE, QualityGate, prompt_clauses  # noqa: E402
from qa_pipeline.asr.transcribe import AsrRun, CallAudio, ChannelWord, transcribe_calls  # noqa: E402
from qa_pipeline.asr.whisper import AsrOptions, Transcriber  # noqa: E402
from qa_pipeline.audio.decode import Audio, decode  # noqa: E402
from qa_pipeline.audio.vad import speech_regions  # noqa: E402
from qa_pipeline.diarize.turns import channel_segments  # noqa: E402
from qa_pipeline.evaluation.labels import LabelSet  # noqa: E402
from qa_pipeline.evaluation.metrics import Report, evaluate  # noqa: E402
from qa_pipeline.ingest.call_file import load_call  # noqa: E402
from qa_pipeline.ingest.model import Call  # noqa: E402
from qa_pipeline.judging.judge import Judge, load_rules  # noqa: E402
from qa_pipeline.languages import get as get_language  # noqa: E402
from qa_pipeline.verdict.model import CallResult, CallVerdict  # noqa: E402
from testing.audio_synth import RoleVoices, SynthCall, SynthOptions, Voice, synthesize_call  # noqa: E402
from testing.real_models import models_config, real_asr_model  # noqa: E402

DEV = ROOT.parent / "shared" / "dev-calls"
SLACK_S = 0.3
VOICES: dict[str, tuple[RoleVoices, ...]] = {
    "en": (
        RoleVoices(Voice("en-us+f3", pitch=60, speed=165), Voice("en-gb", pitch=35, speed=160)),
        RoleVoices(Voice("en-gb+f2", pitch=55, speed=170), Voice("en-us+m3", pitch=40, speed=160)),
    ),
    "zh": (
        RoleVoices(Voice("cmn-latn-pinyin+f2", pitch=65, speed=200),
                   Voice("cmn-latn-pinyin", pitch=30, speed=180)),
        RoleVoices(Voice("cmn-latn-pinyin+f4", pitch=55, speed=190),
                   Voice("cmn-latn-pinyin+m3", pitch=40, speed=185)),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Heard:
    words: tuple[ChannelWord, ...]
    windows: int
    suspects: int
    retried: int


@dataclass
class Tally:
    errors: int = 0
    reference: int = 0
    lost: int = 0
    segments: int = 0
    windows: int = 0
    suspects: int = 0
    retried: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    echo: int = 0  # prompt characters heard beyond what the reference says
    outcome_agree: int = 0
    sale_agree: int = 0
    calls: int = 0
    clean: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    heard: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    per_call: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)  # errors, ref


def _tokens(text: str, spaced: bool) -> list[str]:
    """Words, or Chinese characters in simplified script (base often writes traditional)."""
    text = text.lower() if spaced else get_language("zh").canonical_script(text).lower()
    if spaced:
        return re.findall(r"[a-z0-9']+", text)
    return re.findall(r"[\u4e00-\u9fff0-9a-z]", text)


def _score(
    synth: SynthCall, call_id: str, words: Sequence[ChannelWord], spaced: bool, tally: Tally
) -> None:
    for turn in synth.turns:
        heard = [
            w.text
            for w in words
            if w.channel == turn.channel_index
            and turn.start - SLACK_S <= (w.start + w.end) / 2 <= turn.end + SLACK_S
        ]
        ref = _tokens(turn.text, spaced)
        hyp = _tokens(" ".join(heard) if spaced else "".join(heard), spaced)
        tally.errors += Levenshtein.distance(ref, hyp)
        tally.reference += len(ref)
        errors, total = tally.per_call.get(call_id, (0, 0))
        tally.per_call[call_id] = (errors + Levenshtein.distance(ref, hyp), total + len(ref))
        tally.segments += 1
        tally.lost += not hyp


def _echo(synth: SynthCall, words: Sequence[ChannelWord], clauses: tuple[str, ...]) -> int:
    """Characters of prompt clauses in the heard text beyond their count in the reference."""
    heard = re.sub(r"[^\w]+", "", "".join(w.text for w in words).lower())
    said = re.sub(r"[^\w]+", "", "".join(t.text for t in synth.turns).lower())
    return sum(max(0, heard.count(c) - said.count(c)) * len(c) for c in clauses)


def _plain(transcriber: Transcriber, audio: Audio, language: str, greedy: bool) -> Heard:
    """faster-whisper's own loop per channel; `greedy`: temperature 0 only (beam 5 still), so
    that runs repeat (its default ladder samples when a decode looks poor)."""
    model = transcriber._model  # the same loaded weights, used as a plain user would
    ladder: dict[str, Any] = {"temperature": 0.0} if greedy else {}
    words: list[ChannelWord] = []
    for channel in range(len(audio.channels)):
        segments, _ = model.transcribe(
            audio.floats(channel),
            language=language,
            vad_filter=True,
            word_timestamps=True,
            **ladder,
        )
        words += [ChannelWord(channel, w.start, w.end, w.word, w.probability)
                  for s in segments for w in s.words or ()]  # fmt: skip
    return Heard(tuple(words), 0, 0, 0)


def _heard(runs: Sequence[AsrRun], windows: int) -> list[Heard]:
    return [
        Heard(r.words, windows if i == 0 else 0, len(r.suspects), r.retried_regions)
        for i, r in enumerate(runs)
    ]


def _windows(runs: Sequence[AsrRun]) -> int:
    return round(sum(r.windows for r in runs))


# (model, calls, language, prompt, seconds of context each region carries) -> what was heard
System = Callable[[Transcriber, list[CallAudio], str, Prompt, float], list[Heard]]


def _packed(mode: PackingMode, gate: QualityGate | None, beam_size: int | None = None) -> System:
    """Our ASR stage as the Listener runs it: the calls of one language and prompt in one
    `transcribe_calls`, `mode` deciding what shares a window; `beam_size` None: `--beam`, else
    greedy."""

    def run(
        t: Transcriber, calls: list[CallAudio], language: str, prompt: Prompt, pad_s: float
    ) -> list[Heard]:
        runs = transcribe_calls(calls, t, language, prompt, gate, mode, pad_s, beam_size)
        return _heard(runs, _windows(runs))

    return run


SYSTEMS: dict[str, System] = {
    "calls": _packed("calls", DEFAULT_GATE),
    "calls-nogate": _packed("calls", None),
    "channels": _packed("channels", DEFAULT_GATE),
    "channels-nogate": _packed("channels", None),
    "channel": _packed("channel", DEFAULT_GATE),
    "channel-nogate": _packed("channel", None),
}


def label_values(labels: LabelSet, call_id: str, verdict: CallVerdict) -> dict[str, Any]:
    """A verdict in the eval's label vocabulary (as `eval` reads a results.jsonl row)."""
    return labels.predicted(CallResult(call_id, "ok", None, "bench", "", verdict=verdict))


def label_agreement(
    labels: LabelSet, clean: dict[str, dict[str, Any]], heard: dict[str, dict[str, Any]]
) -> tuple[float, Report]:
    """Share of (call, label) pairs whose heard value equals the clean one, and the eval's
    report with the clean values as gold (per-label accuracy = agreement; `wrong` = where)."""
    report = evaluate(clean, heard, [], labels.names)
    total = sum(s.total for s in report.labels.values())
    return sum(s.correct for s in report.labels.values()) / total if total else 1.0, report


def disagreement_lines(report: Report) -> list[str]:
    """The labels where heard and clean verdicts differ, then each call's differences (clean
    for the eval's expected, heard for its got)."""
    differ = sorted(report.labels.values(), key=lambda s: s.accuracy)
    lines = ["labels agreeing: " + ", ".join(
        f"{s.name} {s.correct}/{s.total}" for s in differ if s.correct < s.total
    )]  # fmt: skip
    for call_id, problems in report.wrong.items():
        lines.append(f"{call_id}: " + "; ".join(
            p.replace("expected", "clean").replace("got", "heard") for p in problems
        ))  # fmt: skip
    return lines


def _verdict_agreement(
    judge: Judge,
    labels: LabelSet,
    call: Call,
    heard: Heard,
    audio: CallAudio,
    tally: Tally,
    model: str,
) -> Call:
    clean = judge.judge(call)
    segments = channel_segments(heard.words, audio.regions, ("agent", "customer"))
    heard_call = dataclasses.replace(call, segments=segments, heard_by=model)
    verdict = judge.judge(heard_call)
    tally.outcome_agree += verdict.outcome.value == clean.outcome.value
    tally.sale_agree += verdict.valid_sale == clean.valid_sale
    tally.calls += 1
    tally.clean[call.call_id] = label_values(labels, call.call_id, clean)
    tally.heard[call.call_id] = label_values(labels, call.call_id, verdict)
    return heard_call


def _write_transcript(folder: Path, system: str, heard_call: Call) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{s.start:7.2f} {s.end:7.2f} {s.speaker:9} {s.text}" for s in heard_call.segments]
    (folder / f"{heard_call.call_id}.{system}.txt").write_text("\n".join(lines) + "\n")


class _Phases:
    """CPU seconds and calls of the model's parts (encoder windows, decoding, word alignment),
    wrapped around the loaded CTranslate2 model: where a system's time goes (--phases)."""

    def __init__(self, model: Any) -> None:
        self.inner = model
        self.cpu: dict[str, float] = {}
        self.items: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _timed(self, part: str, items: int, call: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        cpu = time.process_time()
        out = call(*args, **kw)
        self.cpu[part] = self.cpu.get(part, 0.0) + time.process_time() - cpu
        self.items[part] = self.items.get(part, 0) + items
        return out

    def encode(self, features: Any, **kw: Any) -> Any:
        return self._timed("encode", features.shape[0], self.inner.encode, features, **kw)

    def generate(self, *args: Any, **kw: Any) -> Any:
        return self._timed("generate", 1, self.inner.generate, *args, **kw)

    def align(self, *args: Any, **kw: Any) -> Any:
        return self._timed("align", 1, self.inner.align, *args, **kw)

    def said(self) -> str:
        return ", ".join(f"{p} {self.cpu[p]:.1f} s ({self.items[p]})" for p in self.cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="en", choices=sorted(VOICES))
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--model", default=None, help="default: tiny.en (en), base (zh)")
    parser.add_argument("--systems", nargs="+", default=["plain", *SYSTEMS])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=None, help="beam size of our decodes")
    parser.add_argument("--no-prompt", action="store_true", help="decode without the prompt")
    parser.add_argument(
        "--espeak-numbers",
        action="store_true",
        help="let espeak-ng read numbers as written ('dollar nine point nine nine'; before 12-05 "
        "12:00 UTC), not as an agent says them",
    )
    parser.add_argument(
        "--pad",
        type=float,
        nargs="+",
        default=None,
        help="seconds of context each region carries; several: every system at each",
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also print CPU s per model part (encoder windows, decode, align)",
    )
    parser.add_argument(
        "--disagreements", action="store_true", help="list the labels that differ, per call"
    )
    parser.add_argument("--per-call", action="store_true", help="print WER/CER per call")
    parser.add_argument(
        "--calls-dir",
        type=Path,
        nargs="+",
        default=[DEV],
        help="folders of call files (default: the shared dev set; tests/data/heldout*: held out)",
    )
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N calls")
    parser.add_argument(
        "--transcripts", type=Path, default=None, help="write what each system heard per call"
    )
    args = parser.parse_args()
    pads = args.pad if args.pad is not None else [0.0]
    language = args.language
    spaced = get_language(language).spaced
    model_name = args.model or ("tiny.en" if language == "en" else "base")
    folder = real_asr_model(model_name)
    options = AsrOptions(model=str(folder), cpu_threads=args.threads)
    if args.beam is not None:
        options = dataclasses.replace(options, beam_size=args.beam)
    transcriber = Transcriber(options, models_config())
    ruleset = load_rules(ROOT / "rules")
    judge = Judge(ruleset)
    labels = LabelSet(ruleset.criteria)
    found = [p for folder in args.calls_dir for p in sorted(folder.glob(f"{language}-*.json"))]
    paths = found[args.skip : args.skip + args.calls]
    calls = [load_call(p) for p in paths]
    with tempfile.TemporaryDirectory() as tmp:
        synths = [
            synthesize_call(call, Path(tmp) / f"{call.call_id}.wav",
                            SynthOptions(voices={language: VOICES[language][n % 2]},
                                         spoken_numbers=not args.espeak_numbers))
            for n, call in enumerate(calls)
        ]  # fmt: skip
        audios = []
        vad_cpu = 0.0  # our VAD is part of the ASR stage, as vad_filter is of the plain loop's
        for s in synths:
            audio = decode(s.path)
            cpu = time.process_time()
            regions = tuple(speech_regions(audio, c) for c in range(len(audio.channels)))
            vad_cpu += time.process_time() - cpu
            audios.append(CallAudio(audio, regions))
    template = models_config().file.asr.prompts.get(language)
    prompts = [
        Prompt("", "") if args.no_prompt else build_prompt(ruleset.campaigns[c.campaign], template)
        for c in calls
    ]
    audio_s = sum(s.duration_s for s in synths)
    print(f"{len(calls)} {language} calls ({', '.join(c.call_id for c in calls)}), "
          f"{audio_s:.0f} s of audio, model {model_name}, {args.threads} threads, "
          f"VAD {vad_cpu:.1f} CPU s (in every packed system's x-rt/core), "
          f"region context {', '.join(f'{p:g}' for p in pads)} s")  # fmt: skip
    print(f"{'system':14} {'WER' if spaced else 'CER':>6} {'lost':>9} {'windows':>8} "
          f"{'retried':>8} {'suspect':>8} {'echo':>5} {'ASR s':>7} {'x-rt/core':>9} "
          f"{'outcome':>8} {'sale':>6} {'labels':>7}")  # fmt: skip
    phases = None
    if args.phases:
        phases = _Phases(transcriber._model.model)
        transcriber._model.model = phases
    own = options.packing_for(models_config().file.asr, language)  # --beam holds for it too
    SYSTEMS["default"] = _packed(own.mode, DEFAULT_GATE, own.beam_size)
    single = {"plain": 0.0, "plain-t0": 0.0, "default": own.pad_s}
    if "default" in args.systems:
        print(f"default: {own.mode}, region context {own.pad_s:g} s, beam {own.beam_size}"
              " (models.yaml)")  # fmt: skip
    runs = [(n, p) for n in args.systems for p in ([single[n]] if n in single else pads)]
    for name, pad_s in runs:
        label = name if len(pads) == 1 or name in single else f"{name}+{pad_s:g}"
        if phases is not None:
            phases.cpu.clear()
            phases.items.clear()
        tally = Tally()
        started, cpu = time.perf_counter(), time.process_time()
        plain = name in ("plain", "plain-t0")  # their own vad_filter is in their time
        if plain:
            heard = [_plain(transcriber, a.audio, language, name == "plain-t0") for a in audios]
        else:  # calls of one campaign share a prompt; the dev set's calls are grouped by it
            heard = [Heard((), 0, 0, 0)] * len(calls)
            for prompt in dict.fromkeys(prompts):
                idx = [i for i, p in enumerate(prompts) if p == prompt]
                got = SYSTEMS[name](transcriber, [audios[i] for i in idx], language, prompt, pad_s)
                for i, h in zip(idx, got, strict=True):
                    heard[i] = h
        tally.seconds = time.perf_counter() - started
        tally.cpu = time.process_time() - cpu + (0.0 if plain else vad_cpu)
        for s, h, call, call_audio, prompt in zip(synths, heard, calls, audios, prompts,
                                                  strict=True):  # fmt: skip
            _score(s, call.call_id, h.words, spaced, tally)
            tally.echo += _echo(s, h.words, prompt_clauses(prompt.initial, DEFAULT_GATE, spaced))
            tally.windows += h.windows
            tally.suspects += h.suspects
            tally.retried += h.retried
            heard_call = _verdict_agreement(judge, labels, call, h, call_audio, tally, model_name)
            if args.transcripts is not None:
                _write_transcript(args.transcripts, label, heard_call)
        agreement, report = label_agreement(labels, tally.clean, tally.heard)
        print(
            f"{label:14} {tally.errors / tally.reference:6.3f} "
            f"{tally.lost:4}/{tally.segments:<4} {tally.windows:8} {tally.retried:8} "
            f"{tally.suspects:8} {tally.echo:5} {tally.seconds:7.1f} {audio_s / tally.cpu:9.1f} "
            f"{tally.outcome_agree / tally.calls:8.2f} {tally.sale_agree / tally.calls:6.2f} "
            f"{agreement:7.3f}"
        )
        if args.per_call:
            print(f"{'':14} {'WER' if spaced else 'CER'} per call: " + ", ".join(
                f"{c} {e / max(n, 1):.3f}" for c, (e, n) in tally.per_call.items()
            ))  # fmt: skip
        if args.disagreements:
            for line in disagreement_lines(report):
                print(f"{'':14} {line}")
        if phases is not None:
            print(f"{'':14} CPU: {phases.said()}")


if __name__ == "__main__":
    main()
