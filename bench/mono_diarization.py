"""Mono calls diarized offline by the bundled speaker encoder, on dev-set calls synthesised in
stereo and summed to one channel: diarization error rate per voice pair (mixed-gender and
same-gender espeak-ng voices), with and without a 1 s interruption, and the verdicts of the
mono version against the stereo version of the same calls (both heard by the same Whisper
model through the whole recordings path). One run, ratios only.

    python bench/mono_diarization.py [--calls 6] [--skip 0] [--model tiny.en] [--no-verdicts]

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
from qa_pipeline.hearing.listener import Listener  # noqa: E402
from qa_pipeline.ingest.call_file import load_call  # noqa: E402
from qa_pipeline.ingest.recordings import RecordingCall  # noqa: E402
from qa_pipeline.judging.judge import load_rules  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--skip", type=int, default=0, help="dev calls passed over first")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--no-verdicts", action="store_true")
    args = parser.parse_args()
    paths = sorted(DEV.glob("en-d-*.json"))[args.skip : args.skip + args.calls]
    diarizer = EmbeddingDiarizer(real_speaker_encoder())
    ruleset = load_rules(ROOT / "rules")
    listener = Listener(ruleset, AsrOptions(model=str(real_asr_model(args.model))),
                        models_config())  # fmt: skip
    print(f"{len(paths)} en calls ({', '.join(p.stem for p in paths)})")
    print(f"{'voices':8} {'overlap':>7} {'DER':>6} {'DER 0.25 collar':>16} {'x-rt':>6}")
    agree = {"outcome": 0, "valid_sale": 0, "ok": 0, "calls": 0}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for pair, voices in PAIRS.items():
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
                    rows = {}
                    mono = folder / f"{call.call_id}.mono.wav"
                    for kind, wav in (("stereo", made.path), ("mono", mono)):
                        (folder / kind).mkdir(exist_ok=True)
                        side = _sidecar(folder / kind, path)
                        recording = RecordingCall(call.call_id, (wav,), side, (), (), None)
                        out = folder / kind / "results.jsonl"
                        judge_paths([recording], out, ruleset, listener=listener)
                        rows[kind] = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
                    agree["calls"] += 1
                    agree["ok"] += rows["mono"]["status"] == "ok"
                    for key in ("outcome", "valid_sale"):
                        agree[key] += rows["mono"][key] == rows["stereo"][key]
                print(f"{pair:8} {overlap:7.1f} {np.mean(errors):6.3f} {np.mean(collared):16.3f} "
                      f"{audio_s / cpu:6.0f}")  # fmt: skip
    if agree["calls"]:
        n = agree["calls"]
        print(f"mono vs stereo verdicts ({n} calls, mixed and female voices, no overlap): "
              f"heard {agree['ok']}/{n}, outcome {agree['outcome'] / n:.2f}, "
              f"valid_sale {agree['valid_sale'] / n:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
