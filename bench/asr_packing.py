"""ASR stage, one run on the same calls: speech-only windows packed across both channels and
decoded by the batched pipeline, against a naive per-channel, full-length
`WhisperModel.transcribe` loop. Both use one random-initialised Whisper of the real `small`
shape (CTranslate2 int8 on CPU, float16 on GPU) and a fixed decode length per window, so the
ratio measures the work saved, not what random weights happen to emit.

Also: encoder windows per call against 1.15 x (speech seconds / 30), and peak memory of
decode + VAD + packing + ASR (tiny model) on a 10-minute vs a 2-hour stereo recording;
`--memory-real DIR` measures that peak with real weights instead (the quality gate on, as `run`
hears), e.g. models/asr/tiny.en or models/asr/base from `make models`.

    python bench/asr_packing.py [--calls 6] [--shape small] [--tokens 32] [--skip-memory]
    python bench/asr_packing.py --memory-only [--memory-real models/asr/tiny.en]
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.asr.prompt import Prompt  # noqa: E402
from qa_pipeline.asr.quality import QualityGate  # noqa: E402
from qa_pipeline.asr.transcribe import (  # noqa: E402
    AsrRun,
    CallAudio,
    plan_windows,
    transcribe_calls,
    transcribe_channels,
)
from qa_pipeline.asr.whisper import AsrOptions, Transcriber, pick_device  # noqa: E402
from qa_pipeline.audio.decode import decode  # noqa: E402
from qa_pipeline.audio.vad import speech_regions  # noqa: E402
from qa_pipeline.ingest.batch import transcript_files  # noqa: E402
from qa_pipeline.ingest.call_file import load_call  # noqa: E402
from testing.audio_synth import synthesize_call, write_long_recording  # noqa: E402
from testing.random_model import build_random_whisper, fixed_decode_options  # noqa: E402


def _naive(model_dir: Path, paths: list[Path], languages: list[str], tokens: int) -> float:
    from faster_whisper import WhisperModel

    device, compute = pick_device("auto", "auto")
    model = WhisperModel(str(model_dir), device=device, compute_type=compute)
    options = fixed_decode_options(model_dir, tokens)
    started = time.perf_counter()
    for path, language in zip(paths, languages, strict=True):
        audio = decode(path)
        for channel in range(len(audio.channels)):
            segments, _ = model.transcribe(
                audio.floats(channel), language=language, vad_filter=False, **options
            )
            list(segments)
    return time.perf_counter() - started


def _packed(
    model_dir: Path, paths: list[Path], languages: list[str], tokens: int, across: bool
) -> tuple[float, list[AsrRun]]:
    """Decode, VAD and packed ASR, per call or (`across`) with the calls of one language
    sharing windows, as `qa-pipeline run` hears a group of recordings."""
    options = AsrOptions(model=str(model_dir), extra=fixed_decode_options(model_dir, tokens))
    transcriber = Transcriber(options)
    runs: dict[Path, AsrRun] = {}
    started = time.perf_counter()
    groups: dict[str, list[Path]] = {}
    for path, language in zip(paths, languages, strict=True):
        groups.setdefault(language if across else str(path), []).append(path)
    for group in groups.values():
        calls = [_opened(path) for path in group]
        language = languages[paths.index(group[0])]
        # random weights: decoded once (the quality gate would re-decode every region)
        found = transcribe_calls(calls, transcriber, language, Prompt("", ""), None,
                                 "calls" if across else "channels")  # fmt: skip
        runs.update(zip(group, found, strict=True))
    return time.perf_counter() - started, [runs[p] for p in paths]


def _opened(path: Path) -> CallAudio:
    audio = decode(path)
    return CallAudio(audio, [speech_regions(audio, c) for c in range(len(audio.channels))])


def _group_windows(opened: list[CallAudio], languages: list[str], size: int = 16) -> None:
    """Windows per call when a batch is large enough to fill `run`'s groups (16 calls of one
    language): planned by the same packing `run` uses, no model needed. The calls are the bench
    calls repeated, so the figure is about packing, not about new speech."""
    print(f"encoder windows per call in groups of {size} calls of one language (packing only):")
    for language in sorted(set(languages)):
        mine = [c for c, lang in zip(opened, languages, strict=True) if lang == language]
        group = [mine[n % len(mine)] for n in range(size)]
        packing, _ = plan_windows(group, "calls")
        speech = packing.speech_s
        ratio = len(packing.windows) / (speech / 30)
        print(f"  {language}: {len(packing.windows)} windows for {speech:.0f} s of speech: "
              f"{ratio:.3f} x speech/30 for every call (target <= 1.15)")  # fmt: skip


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _memory_child(path: str, model: str, real: bool) -> None:
    """Peak resident memory above a baseline taken once the model is loaded and warm,
    sampled every 10 ms (ru_maxrss would include the import and load peaks). Real weights
    decode as `run` does (the quality gate re-decoding poor regions); random ones a fixed
    length per window, no gate."""
    extra = {} if real else fixed_decode_options(model, 8)
    transcriber = Transcriber(AsrOptions(model=model, extra=extra))
    transcriber.transcribe(np.zeros(16000 * 30, np.float32), [(0.0, 30.0)], "en", None, None)
    base, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    audio = decode(Path(path))
    regions = [speech_regions(audio, c) for c in range(len(audio.channels))]
    gate = QualityGate() if real else None
    started = time.perf_counter()
    run = transcribe_channels(audio, regions, transcriber, "en", Prompt("", ""), gate)
    took = time.perf_counter() - started
    done.set()
    sampler.join()
    pcm = sum(c.nbytes for c in audio.channels)
    total = _rss() if real else 0  # the process whole, model included
    print(f"{audio.duration_s} {pcm} {peak[0] - base} {run.windows} {took} {total}")


def _memory(work: Path, real: Path | None = None) -> None:
    what = f"real weights {real}, quality gate on" if real else "a tiny random model"
    print(f"\npeak memory (decode + VAD + packing + ASR with {what}), one process each:")
    model = real or build_random_whisper(work / "tiny", "test-tiny")
    rows = []
    for seconds in (600, 7200):
        path = write_long_recording(work / f"long-{seconds}.wav", seconds, 8000).path
        command = [sys.executable, __file__, "--memory-child", str(path), "--model", str(model)]
        out = subprocess.run(
            [*command, *(["--real"] if real else [])], check=True, capture_output=True, text=True
        ).stdout.split()
        duration, pcm, grown, windows = float(out[0]), int(out[1]), int(out[2]), float(out[3])
        took, total = float(out[4]), int(out[5])
        rows.append((duration, pcm, grown))
        whole = f", process {total / 2**20:.0f} MiB at the end" if real else ""
        print(
            f"  {duration / 60:5.0f} min: int16 audio {pcm / 2**20:6.1f} MiB, peak growth "
            f"{grown / 2**20:6.1f} MiB ({grown / pcm:.2f} x the audio), {windows:.0f} windows, "
            f"ASR {took:.0f} s{whole}"
        )
    (_, pcm_a, grown_a), (_, pcm_b, grown_b) = rows
    extra_a, extra_b = grown_a - pcm_a, grown_b - pcm_b
    print(
        f"  beyond the audio itself: {extra_a / 2**20:.1f} MiB vs {extra_b / 2**20:.1f} MiB "
        f"for 12x the length (flat is the target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--shape", default="small")
    parser.add_argument("--tokens", type=int, default=32, help="decoded tokens per window")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--memory-real", type=Path, help="a real Whisper model folder")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--real", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        _memory_child(args.memory_child, args.model, args.real)
        return
    if args.memory_only:
        with tempfile.TemporaryDirectory() as tmp:
            _memory(Path(tmp), args.memory_real)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        model = build_random_whisper(work / "model", args.shape)
        print(f"random {args.shape} model built in {time.perf_counter() - started:.1f}s")
        samples = transcript_files(ROOT / "samples" / "calls")[: args.calls]
        paths, languages = [], []
        for sample in samples:
            call = load_call(sample)
            paths.append(synthesize_call(call, work / f"{call.call_id}.wav").path)
            languages.append(call.language)
        opened = [_opened(path) for path in paths]  # untimed: shapes and group windows
        shapes = [(c.audio.duration_s, len(c.audio.channels)) for c in opened]
        seconds = sum(duration for duration, _ in shapes)
        naive = _naive(model, paths, languages, args.tokens)
        alone, alone_runs = _packed(model, paths, languages, args.tokens, across=False)
        packed, per_call = _packed(model, paths, languages, args.tokens, across=True)
        speech = sum(r.speech_s for r in per_call)
        windows = sum(r.windows for r in per_call)
        naive_windows = sum(math.ceil(duration / 30) * count for duration, count in shapes)
        alone_windows = sum(r.windows for r in alone_runs)
        print(f"{len(paths)} stereo calls, {seconds:.0f} s of calls, {speech:.0f} s of speech")
        print(f"naive per-channel full-length loop:   {naive:6.1f}s  ({naive_windows} windows)")
        print(f"packed per call, batched:             {alone:6.1f}s  ({alone_windows:.0f} windows)")
        print(f"packed across calls:                  {packed:6.1f}s  ({windows:.0f} windows)")
        print(f"speed-up {naive / packed:.2f}x across calls, {naive / alone:.2f}x per call "
              "(target >= 2x)")  # fmt: skip
        print("encoder windows per call (its share of shared windows) vs 1.15 x speech/30:")
        for run, path in zip(per_call, paths, strict=True):
            bound = 1.15 * run.speech_s / 30
            verdict = "ok" if run.windows <= bound else "over"
            print(f"  {path.stem:10} {run.windows:5.2f} windows, speech {run.speech_s:5.1f}s, "
                  f"bound {bound:4.2f} {verdict}")  # fmt: skip
        print(f"  all calls: {windows:.2f} windows vs bound {1.15 * speech / 30:.2f}")
        _group_windows(opened, languages)
        if not args.skip_memory:
            _memory(work, args.memory_real)


if __name__ == "__main__":
    main()
