"""Mono calls diarized offline by the bundled speaker encoder, on dev-set calls synthesised in
stereo and summed to one channel: diarization error rate per voice pair (mixed-gender and
same-gender espeak-ng voices), with and without a 1 s interruption, and the verdicts of the
mono version against the stereo version of the same calls (both heard by the same Whisper
model through the whole recordings path): agreement per label the eval scores (forbidden
phrases as the set of categories found), and each version's accuracy on the dev labels. One
run, ratios only.

    python bench/mono_diarization.py [--calls 6] [--skip 0] [--model tiny.en] [--no-verdicts]
                                     [--pairs mixed,female] [--packing channel]
                                     [--dump DIR]

`--dump DIR` writes each judged call's two transcripts and labels (DIR/<call>.<pair>.json), to
read where the mono verdict differs and why.

`--skip 6` takes the next calls, a held-out set for settings chosen on the first six; the
`male-2` pair (other espeak voices) is a held-out check on same-gender voices.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.asr.whisper import AsrOptions  # noqa: E402
from qa_pipeline.audio.decode import decode  # noqa: E402
from qa_pipeline.batch.run import judge_paths  # noqa: E402
from qa_pipeline.diarize.embedding import EmbeddingDiarizer  # noqa: E402
from qa_pipeline.evaluation.labels import LabelSet  # noqa: E402
from qa_pipeline.hearing.listener import Listener  # noqa: E402
from qa_pipeline.ingest.call_file import load_call  # noqa: E402
from qa_pipeline.ingest.recordings import RecordingCall  # noqa: E402
from qa_pipeline.judging.judge import load_rules  # noqa: E402
from qa_pipeline.verdict.model import CallResult  # noqa: E402
from qa_pipeline.verdict.serialize import read_results  # noqa: E402
from testing.audio_synth import (  # noqa: E402
    RoleVoices,
    SynthCall,
    SynthOptions,
    Voice,
    read_wav,
    synthesize_call,
)
from testing.der import diarization_error  # noqa: E402
from testing.real_models import models_config, real_asr_model, real_speaker_encoder  # noqa: E402

DEV = ROOT.parent / "shared" / "dev-calls"
PAIRS = {
    "mixed": RoleVoices(Voice("en-us+f3", pitch=60, speed=165),
                        Voice("en-gb", pitch=35, speed=160)),
    "female": RoleVoices(Voice("en-us+f3", pitch=60, speed=165),
                         Voice("en-gb+f2", pitch=55, speed=170)),
    "male": RoleVoices(Voice("en-gb", pitch=35, speed=160),
                       Voice("en-us+m3", pitch=40, speed=160)),
    "male-2": RoleVoices(Voice("en-gb-x-rp+m2", pitch=45, speed=155),
                         Voice("en-us+m5", pitch=35, speed=170)),
}  # fmt: skip


def _mono(made: SynthCall, path: Path) -> Path:
    samples, rate = read_wav(made.path)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        pcm = np.clip(samples.sum(axis=1), -1, 32767 / 32768) * 32768
        out.writeframes(pcm.astype("<i2").tobytes())
    return path


def _sidecar(folder: Path, path: Path) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("segments", "hangup_by", "duration_s"):
        data.pop(key)
    target = folder / path.name
    target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return target


def _labels(labels: LabelSet, result: CallResult) -> dict[str, object]:
    """A result in the eval's label vocabulary; forbidden phrases as their categories."""
    values = labels.predicted(result)
    values["forbidden"] = sorted({f["category"] for f in values["forbidden"]})
    return values


def _transcript(result: CallResult) -> list[str]:
    """The judged lines, then why the outcome and who has which role."""
    verdict = result.verdict
    if verdict is None:
        return [f"failed: {result.error}"]
    lines = [f"{t.start:6.1f}-{t.end:6.1f} {t.role:8} {t.text}" for t in verdict.transcript]
    roles = verdict.roles
    said = f"roles: {roles.source} {dict(roles.mapping)} confidence {roles.confidence}"
    return [*lines, f"outcome: {verdict.outcome.reason}", said]


def _agreement(rows: list[dict[str, dict[str, object]]], gold: dict[str, dict[str, object]]
               ) -> None:  # fmt: skip
    """Per label: mono against stereo, and each against the dev labels."""
    n = len(rows)
    print(f"{'label':26} {'mono=stereo':>11} {'stereo=gold':>11} {'mono=gold':>9}")
    for name in rows[0]["stereo"]:
        same = sum(r["mono"][name] == r["stereo"][name] for r in rows) / n
        right = {k: sum(r[k][name] == _gold(gold[r["call"]], name) for r in rows) / n  # type: ignore[index]
                 for k in ("stereo", "mono")}  # fmt: skip
        print(f"{name:26} {same:11.2f} {right['stereo']:11.2f} {right['mono']:9.2f}")
    every = sum(r["mono"] == r["stereo"] for r in rows) / n
    print(f"{'all labels at once':26} {every:11.2f}")


def _gold(row: dict[str, object], name: str) -> object:
    if name == "forbidden":
        return sorted({f["category"] for f in row["forbidden"]})  # type: ignore[attr-defined]
    return row[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--skip", type=int, default=0, help="dev calls passed over first")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--no-verdicts", action="store_true")
    parser.add_argument("--packing", default="channel", choices=("channel", "channels", "calls"),
                        help="what may share a window, in both versions")  # fmt: skip
    parser.add_argument("--pairs", default=",".join(PAIRS), help="voice pairs, comma-separated")
    parser.add_argument("--dump", type=Path, help="folder for each call's two transcripts")
    args = parser.parse_args()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    paths = sorted(DEV.glob("en-d-*.json"))[args.skip : args.skip + args.calls]
    diarizer = EmbeddingDiarizer(real_speaker_encoder())
    ruleset = load_rules(ROOT / "rules")
    options = AsrOptions(model=str(real_asr_model(args.model)), packing=args.packing)
    listener = Listener(ruleset, options, models_config())
    print(f"{len(paths)} en calls ({', '.join(p.stem for p in paths)})")
    print(f"{'voices':8} {'overlap':>7} {'DER':>6} {'DER 0.25 collar':>16} {'x-rt':>6}")
    labels = LabelSet(ruleset.criteria)
    lines = (DEV / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    gold = {row["call_id"]: row for row in map(json.loads, filter(None, lines))}
    judged: list[dict[str, dict[str, object]]] = []
    heard = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for pair in args.pairs.split(","):
            voices = PAIRS[pair]
            for overlap in (0.0, 1.0):
                errors, collared, audio_s, cpu = [], [], 0.0, 0.0
                for path in paths:
                    call = load_call(path)
                    made = synthesize_call(call, folder / f"{call.call_id}.wav",
                                           SynthOptions(voices={"en": voices}),
                                           overlap_s=overlap)  # fmt: skip
                    audio = decode(_mono(made, folder / f"{call.call_id}.mono.wav"))
                    started = time.process_time()
                    turns = diarizer(audio)
                    cpu += time.process_time() - started
                    audio_s += made.duration_s
                    errors.append(diarization_error(made, turns))
                    collared.append(diarization_error(made, turns, 0.25))
                    if args.no_verdicts or pair.startswith("male") or overlap:
                        continue
                    results = {}
                    mono = folder / f"{call.call_id}.mono.wav"
                    for kind, wav in (("stereo", made.path), ("mono", mono)):
                        (folder / kind).mkdir(exist_ok=True)
                        side = _sidecar(folder / kind, path)
                        recording = RecordingCall(call.call_id, (wav,), side, (), (), None)
                        out = folder / kind / "results.jsonl"
                        judge_paths([recording], out, ruleset, listener=listener)
                        results[kind] = next(read_results(out))
                    heard += results["mono"].ok
                    row = {kind: _labels(labels, r) for kind, r in results.items()}
                    judged.append({"call": call.call_id, **row})  # type: ignore[dict-item]
                    if args.dump:
                        dumped = {"gold": gold[call.call_id], **row} | {
                            f"{k} transcript": _transcript(r) for k, r in results.items()
                        }
                        target = args.dump / f"{call.call_id}.{pair}.json"
                        target.write_text(json.dumps(dumped, indent=1), encoding="utf-8")
                print(f"{pair:8} {overlap:7.1f} {np.mean(errors):6.3f} {np.mean(collared):16.3f} "
                      f"{audio_s / cpu:6.0f}")  # fmt: skip
    if judged:
        n = len(judged)
        print(
            f"mono vs stereo verdicts ({n} calls, mixed and female voices, no overlap): "
            f"heard {heard}/{n}"
        )
        _agreement(judged, gold)


if __name__ == "__main__":
    main()
