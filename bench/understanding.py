"""The understanding stage's cost, one run on the same calls:

1. The judging stage with the encoder, per three-minute call, as a share of the ASR stage's
   time on the same calls (Whisper base, int8, CPU, one thread; a real model folder with
   --asr-model, else a random-weight model of the base shape with a fixed 32-token decode, which
   times the same network). Target: at most 5%.
2. Warm rejudge: calls per second on one core when every sentence encoding is already cached
   (as `rejudge` finds them in the database), the rules alone and with the stage in the same
   run. Twice: with the per-text memos as a batch leaves them (the forbidden-phrase scan's and
   the stage's: the same calls judged round after round, every text seen before), and with
   every memo emptied before each call (no text recurs across calls; only the encodings are
   cached). Target: at least 100 three-minute calls a second.
3. Memory: peak RSS judging 200 vs 2,000 calls (flat in batch size).

    python bench/understanding.py [--asr-model DIR] [--calls 4] [--skip-asr] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.asr.quality import DEFAULT_GATE  # noqa: E402
from qa_pipeline.asr.whisper import AsrOptions  # noqa: E402
from qa_pipeline.hearing.listener import Listener  # noqa: E402
from qa_pipeline.ingest.batch import transcript_files  # noqa: E402
from qa_pipeline.ingest.call_file import load_call  # noqa: E402
from qa_pipeline.ingest.model import Call  # noqa: E402
from qa_pipeline.ingest.recordings import RecordingCall  # noqa: E402
from qa_pipeline.judging.judge import Judge, load_rules  # noqa: E402
from qa_pipeline.judging.understand import configured_reader  # noqa: E402
from qa_pipeline.ruleset.loader import Ruleset  # noqa: E402
from qa_pipeline.understanding.pipeline import reader_of  # noqa: E402
from testing.audio_synth import synthesize_call  # noqa: E402
from testing.random_model import build_random_whisper, fixed_decode_options  # noqa: E402

CALLS = ROOT / "samples" / "calls"
THREE_MINUTES = 180.0


def _judging(calls: list[Call]) -> float:
    """Seconds to judge the calls with a fresh understanding stage (encodings computed)."""
    ruleset = load_rules()
    reader = configured_reader(ruleset)
    assert reader is not None
    judge = Judge(ruleset, reader=reader)
    judge.judge(calls[0])  # pipelines and encoder loaded, as in a running batch
    for language in ruleset.languages:  # forget what the warm-up encoded: time cold encodings
        nlp = reader.pipeline(language)
        if nlp is not None:
            reader_of(nlp).encoder.forget()
            reader_of(nlp).forget()
    started = time.perf_counter()
    for call in calls:
        judge.judge(call)
    return time.perf_counter() - started


def _asr(calls: list[Call], folder: Path, model: Path, fixed: bool) -> float:
    """Seconds for the ASR stage (decode, VAD, Whisper) on the calls as stereo recordings."""
    recordings = []
    for call in calls:
        wav = folder / f"{call.call_id}.wav"
        synthesize_call(call, wav)
        side = folder / f"{call.call_id}.json"
        data = {"call_id": call.call_id, "campaign": call.campaign, "agent_id": call.agent_id,
                "team": call.team, "customer_number": call.customer_number,
                "started_at": call.started_at.isoformat()}  # fmt: skip
        side.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        recordings.append(RecordingCall(call.call_id, (wav,), side, (), (), None))
    extra = fixed_decode_options(model, 32) if fixed else {}
    # random weights fail every quality check: decoded once, as before the gate
    options = AsrOptions(model=str(model), cpu_threads=1, extra=extra,
                         quality=None if fixed else DEFAULT_GATE)  # fmt: skip
    listener = Listener(load_rules(), options)
    listener.transcriber()  # the model loads once per batch, outside the timing
    started = time.perf_counter()
    for recording in recordings:
        listener.hear_group([recording])
    return time.perf_counter() - started


def _forget_memos(ruleset: Ruleset) -> None:
    """Every per-text memo but the encodings: the forbidden-phrase scan's and the stage's."""
    reader = configured_reader(ruleset)
    for language, pack in ruleset.languages.items():
        pack.memo.clear()
        nlp = reader.pipeline(language) if reader is not None else None
        if nlp is not None:
            reader_of(nlp).forget()


def _warm(calls: list[Call], rounds: int, stage: bool, memos: bool) -> float:
    """Calls per CPU second judging with every encoding cached (one thread); `memos`: kept
    from call to call, else emptied before each."""
    ruleset = load_rules()
    judge = Judge(ruleset, reader=configured_reader(ruleset) if stage else None)
    for call in calls:
        judge.judge(call)
    spent = 0.0
    for _ in range(rounds):
        for call in calls:
            if not memos:
                _forget_memos(ruleset)
            started = time.process_time()  # CPU time: other jobs on a shared machine do not count
            judge.judge(call)
            spent += time.process_time() - started
    return rounds * len(calls) / spent


def _peak_rss(count: int) -> float:
    code = (
        f"import sys, tempfile; from pathlib import Path; sys.path.insert(0, {str(ROOT)!r});"
        "from testing.synthetic import replicate; from qa_pipeline.batch.run import run_batch;"
        "from qa_pipeline.judging.judge import load_rules;"
        f"d = Path(tempfile.mkdtemp()); replicate(Path({str(CALLS)!r}), d / 'in', {count});"
        "run_batch(d / 'in', d / 'out', load_rules())"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-c", code], check=True)
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asr-model", type=Path, help="a CTranslate2 Whisper base folder")
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--skip-asr", action="store_true", help="warm rejudge and memory only")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--rounds", type=int, default=20, help="warm rejudge rounds")
    args = parser.parse_args()
    calls = [load_call(p) for p in transcript_files(CALLS)][: args.calls]
    seconds = sum(c.duration_s for c in calls)
    per_3min = THREE_MINUTES / seconds
    print(f"{len(calls)} calls, {seconds:.0f} s of audio")
    if not args.skip_asr:
        judging = _judging(calls)
        with tempfile.TemporaryDirectory() as folder:
            model = args.asr_model or build_random_whisper(Path(folder) / "base", "base")
            asr = _asr(calls, Path(folder), model, args.asr_model is None)
        print(f"judging with the understanding stage: {judging * per_3min:.3f} s per 3-minute call")
        print(f"ASR stage (base int8, CPU, 1 thread): {asr * per_3min:.2f} s per 3-minute call")
        print(f"judging / ASR: {judging / asr:.2%}")
    for memos, what in ((True, "memos kept"), (False, "memos emptied before each call")):
        rules = _warm(calls, args.rounds, stage=False, memos=memos)
        warm = _warm(calls, args.rounds, stage=True, memos=memos)
        print(f"warm rejudge, {what}: with the stage {warm:.0f} calls/s = "
              f"{warm / len(calls) / per_3min:.0f} three-minute calls/s on one core; rules alone "
              f"{rules:.0f} calls/s = {rules / len(calls) / per_3min:.0f}; rules alone / with the "
              f"stage {rules / warm:.2f}")  # fmt: skip
    if not args.skip_memory:
        small, large = _peak_rss(200), _peak_rss(2000)
        print(f"peak RSS: {small:.0f} MiB at 200 calls, {large:.0f} MiB at 2,000 "
              f"({large / small:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
