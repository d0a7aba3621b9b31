"""Random-initialised Whisper models in CTranslate2 format, built offline.

Tests and benchmarks need the real faster-whisper code paths (feature extraction, the
CTranslate2 encoder and decoder, word alignment, batching) but no model hub is reachable
and torch/transformers are not installed. This module fills a
``ctranslate2.specs.WhisperSpec`` with numpy weights in the layout that
``ctranslate2.converters.transformers.WhisperLoader`` produces from a Hugging Face
checkpoint, and writes a byte-level BPE ``tokenizer.json`` whose special tokens sit at
the same ids as in OpenAI's multilingual Whisper tokenizer.

The text vocabulary is padded to Whisper's 50,257 regular tokens (and includes an empty
token) on purpose: CTranslate2 decides ``is_multilingual`` from the vocabulary (size
>= 51865 before 4.8; an empty-string token in 4.8.5) and finds the languages by id, so
anything else is an English-only model and faster-whisper silently replaces
``language="zh"`` with ``"en"``. The cost is a 51,865 x d_model embedding: "test-tiny"
is about 6 MB on disk, 4.2 MB of it model.bin.
"""

from __future__ import annotations

import itertools
import json
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers
from ctranslate2.specs import whisper_spec
from faster_whisper.tokenizer import Tokenizer as FasterWhisperTokenizer
from faster_whisper.transcribe import get_suppressed_tokens
from numpy.typing import NDArray
from tokenizers import AddedToken, decoders, models, pre_tokenizers, trainers

__all__ = [
    "SHAPES",
    "WHISPER_LANGUAGES",
    "WhisperShape",
    "build_random_whisper",
    "build_tokenizer",
    "fixed_decode_options",
]

# Regular (BPE) tokens before <|endoftext|>, as in Whisper's multilingual tokenizer.
N_TEXT_TOKENS = 50257
N_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|> in 0.02 s steps
INIT_STD = 0.02  # Hugging Face Whisper's init_std: keeps activations small and finite

# Language tokens in Whisper's token order (openai/whisper tokenizer.LANGUAGES), which is
# *not* the alphabetical order of faster_whisper.tokenizer._LANGUAGE_CODES. large-v3
# shapes (128 mel bins) add "yue" as the 100th language.
WHISPER_LANGUAGES: tuple[str, ...] = (
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar",
    "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu",
    "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa",
    "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne", "mn",
    "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc",
    "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn",
    "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw",
    "su", "yue",
)  # fmt: skip

_TASK_AND_CONTROL_TOKENS = (
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)

# A little telesales-flavoured Chinese and English so the merges (and therefore
# prompts, hotwords and faster-whisper's non-speech token list) look like real text.
_BPE_CORPUS = (
    "您好，我是平安保险的客服，请问您现在方便接听电话吗？",
    "这次来电是想跟您确认一下保单的续费信息，本次通话可能会被录音。",
    "请问您是本人吗？您的年龄是多少岁？我们的产品每个月的费用是一百二十元。",
    "好的，没问题，我明白了，谢谢您的耐心，祝您生活愉快，再见。",
    "不需要了，我现在不方便，请不要再给我打电话了。",
    "您可以考虑一下，我们的服务非常好，犹豫期是十五天，可以无理由退保。",
    "Hello, this is customer service calling about your insurance policy.",
    "This call may be recorded for quality and training purposes.",
    "Are you the account holder? Can you confirm your date of birth, please?",
    "The monthly fee is one hundred and twenty yuan, and you can cancel at any time.",
    "Thank you for your time, have a nice day. Goodbye.",
    "I am not interested, please do not call me again.",
)
_N_MERGES = 400  # upper bound; a corpus this small yields fewer merges at min_frequency 2


@dataclass(frozen=True)
class WhisperShape:
    """Hyper-parameters of a Whisper encoder-decoder (names as in Hugging Face's config)."""

    d_model: int
    encoder_layers: int
    decoder_layers: int
    heads: int
    ffn_dim: int
    num_mel_bins: int
    max_source_positions: int = 1500
    max_target_positions: int = 448

    def __post_init__(self) -> None:
        if self.d_model % self.heads or self.d_model % 2:
            raise ValueError(f"d_model {self.d_model} must be even and divisible by heads")
        if self.num_mel_bins not in (80, 128):
            raise ValueError("faster-whisper's feature extractor needs 80 or 128 mel bins")

    @property
    def num_languages(self) -> int:
        # Only large-v3 (the 128-mel models) has <|yue|>; the count fixes all later ids.
        return 100 if self.num_mel_bins == 128 else 99

    @property
    def vocab_size(self) -> int:
        return N_TEXT_TOKENS + 2 + self.num_languages + len(_TASK_AND_CONTROL_TOKENS) + N_TIMESTAMPS


SHAPES: dict[str, WhisperShape] = {
    "test-tiny": WhisperShape(64, 2, 2, 2, 128, 80),
    "tiny": WhisperShape(384, 4, 4, 6, 1536, 80),
    "base": WhisperShape(512, 6, 6, 8, 2048, 80),
    "small": WhisperShape(768, 12, 12, 12, 3072, 80),
    "medium": WhisperShape(1024, 24, 24, 16, 4096, 80),
    "large-v2": WhisperShape(1280, 32, 32, 20, 5120, 80),
    "large-v3": WhisperShape(1280, 32, 32, 20, 5120, 128),
    "large-v3-turbo": WhisperShape(1280, 32, 4, 20, 5120, 128),
}


# --------------------------------------------------------------------------- tokenizer


def _bytes_to_unicode() -> list[tuple[int, str]]:
    """GPT-2's byte -> printable character table, in GPT-2's id order (so " " is id 220)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table = [(b, chr(b)) for b in printable]
    shifted = (b for b in range(256) if b not in set(printable))
    table += [(b, chr(256 + n)) for n, b in enumerate(shifted)]
    return table


def _trained_merges() -> list[tuple[str, str]]:
    """Byte-level BPE merges learnt from the built-in corpus (deterministic)."""
    trainer_tok = tokenizers.Tokenizer(models.BPE())
    trainer_tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=256 + _N_MERGES,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    trainer_tok.train_from_iterator(_BPE_CORPUS, trainer=trainer)
    merges: list[tuple[str, str]] = []
    for merge in json.loads(trainer_tok.to_str())["model"]["merges"]:
        # Older tokenizers serialise a merge as "a b", newer ones as ["a", "b"].
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        merges.append((str(left), str(right)))
    return merges


def _filler_texts() -> Iterator[str]:
    """Decodable stand-ins for the rest of the 50,257 text tokens.

    CJK ideographs first (a random model then "says" Chinese characters, which exercises
    the zh word splitting), then space-prefixed lowercase pseudo-words for English.
    """
    cjk = (chr(cp) for cp in range(0x4E00, 0x9FA6))
    words = (
        " " + "".join(letters)
        for n in itertools.count(2)
        for letters in itertools.product(string.ascii_lowercase, repeat=n)
    )
    return itertools.chain(cjk, words)


def build_tokenizer(num_languages: int = 99) -> tokenizers.Tokenizer:
    """Byte-level BPE tokenizer with Whisper's special tokens at Whisper's ids.

    Layout: 256 byte tokens, trained merges, fillers up to id 50256, then
    ``<|endoftext|>`` (50257), ``<|startoftranscript|>``, the language tokens, the
    task/control tokens ending in ``<|notimestamps|>``, then the 1,501 timestamps.
    faster-whisper relies on ``timestamp_begin == <|notimestamps|> + 1`` and on all
    specials sorting after ``<|endoftext|>``.
    """
    if num_languages not in (99, 100):
        raise ValueError("Whisper tokenizers have 99 or 100 language tokens")
    byte_table = _bytes_to_unicode()
    to_byte_level = {b: ch for b, ch in byte_table}
    vocab: dict[str, int] = {ch: i for i, (_, ch) in enumerate(byte_table)}
    merges = _trained_merges()
    # faster-whisper's non_speech_tokens suppresses the first token of " -", " '", "♪"
    # and " ♪" unconditionally; make those single units as in GPT-2's vocabulary, or
    # the space token (or the lead byte of all U+2xxx punctuation) would be suppressed.
    music_lead = "".join(to_byte_level[b] for b in "♪".encode()[:2])
    for extra in [
        (to_byte_level[32], "-"),
        (to_byte_level[32], "'"),
        (music_lead[0], music_lead[1]),
        (to_byte_level[32], music_lead),
    ]:
        if extra not in merges:
            merges.append(extra)
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    # Fillers are never produced by encode() (no merges lead to them) but decode to
    # real text, so whatever a random model emits is printable.
    for text in _filler_texts():
        if len(vocab) == N_TEXT_TOKENS - 1:
            break
        vocab.setdefault("".join(to_byte_level[b] for b in text.encode("utf-8")), len(vocab))

    # CTranslate2 4.8.5 treats a Whisper vocabulary as multilingual only if it contains
    # the empty string (WhisperReplica's constructor compares to_id("") with unk_id;
    # seen in the shipped library's disassembly); older releases check size >= 51865.
    # The last regular id (50256) holds it, so both tests pass.
    vocab[""] = len(vocab)

    tok = tokenizers.Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *(f"<|{code}|>" for code in WHISPER_LANGUAGES[:num_languages]),
        *_TASK_AND_CONTROL_TOKENS,
        *(f"<|{i * 0.02:.2f}|>" for i in range(N_TIMESTAMPS)),
    ]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])

    expected = N_TEXT_TOKENS + len(specials)
    if tok.get_vocab_size() != expected or tok.token_to_id("<|endoftext|>") != N_TEXT_TOKENS:
        raise RuntimeError("tokenizer layout does not match Whisper's")  # pragma: no cover
    return tok


# ------------------------------------------------------------------------------ weights


class _Init:
    """Draws every weight from one seeded stream in a fixed order (deterministic)."""

    def __init__(self, seed: int, std: float = INIT_STD) -> None:
        self._rng = np.random.default_rng(seed)
        self._std = np.float32(std)

    def normal(self, *shape: int) -> NDArray[np.float32]:
        # float32 draws directly: half the memory and time of float64 for large shapes.
        values = self._rng.standard_normal(shape, dtype=np.float32)
        values *= self._std
        return values


def _zeros(n: int) -> NDArray[np.float32]:
    return np.zeros(n, dtype=np.float32)


def _sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> NDArray[np.float32]:
    """Whisper's fixed encoder position embedding (openai/whisper model.sinusoids)."""
    log_increment = np.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = np.exp(-log_increment * np.arange(channels // 2))
    scaled = np.arange(length)[:, np.newaxis] * inv_timescales[np.newaxis, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


def _set_layer_norm(spec: Any, d: int) -> None:
    spec.gamma = np.ones(d, dtype=np.float32)
    spec.beta = _zeros(d)


def _set_linear(spec: Any, init: _Init, out_dim: int, in_dim: int) -> None:
    # Hugging Face initialises Linear biases to zero; CTranslate2 weights are (out, in).
    spec.weight = init.normal(out_dim, in_dim)
    spec.bias = _zeros(out_dim)


def _set_self_attention(spec: Any, init: _Init, d: int) -> None:
    # q, k, v fused into linear[0] as BartLoader.set_attention does; Whisper's k_proj has
    # no bias and fuse_linear pads it with zeros, so a zero fused bias is equivalent.
    _set_linear(spec.linear[0], init, 3 * d, d)
    _set_linear(spec.linear[1], init, d, d)
    _set_layer_norm(spec.layer_norm, d)


def _set_cross_attention(spec: Any, init: _Init, d: int) -> None:
    _set_linear(spec.linear[0], init, d, d)  # q from the decoder
    _set_linear(spec.linear[1], init, 2 * d, d)  # k, v fused, from the encoder output
    _set_linear(spec.linear[2], init, d, d)
    _set_layer_norm(spec.layer_norm, d)


def _set_ffn(spec: Any, init: _Init, d: int, ffn_dim: int) -> None:
    _set_linear(spec.linear_0, init, ffn_dim, d)
    _set_linear(spec.linear_1, init, d, ffn_dim)
    _set_layer_norm(spec.layer_norm, d)


def _build_spec(shape: WhisperShape, seed: int, tok: tokenizers.Tokenizer) -> Any:
    d = shape.d_model
    init = _Init(seed)
    spec = whisper_spec.WhisperSpec(
        shape.encoder_layers, shape.heads, shape.decoder_layers, shape.heads
    )

    enc = spec.encoder
    enc.conv1.weight = init.normal(d, shape.num_mel_bins, 3)
    enc.conv1.bias = _zeros(d)
    enc.conv2.weight = init.normal(d, d, 3)  # stride 2 is implied by the Whisper encoder
    enc.conv2.bias = _zeros(d)
    enc.position_encodings.encodings = _sinusoids(shape.max_source_positions, d)
    _set_layer_norm(enc.layer_norm, d)
    for layer in enc.layer:
        _set_self_attention(layer.self_attention, init, d)
        _set_ffn(layer.ffn, init, d, shape.ffn_dim)

    dec = spec.decoder
    embeddings = init.normal(shape.vocab_size, d)
    dec.embeddings.weight = embeddings
    # Whisper ties proj_out to embed_tokens; optimize() turns the copy into an alias.
    dec.projection.weight = embeddings
    dec.position_encodings.encodings = init.normal(shape.max_target_positions, d)
    _set_layer_norm(dec.layer_norm, d)
    for layer in dec.layer:
        _set_self_attention(layer.self_attention, init, d)
        _set_cross_attention(layer.attention, init, d)
        _set_ffn(layer.ffn, init, d, shape.ffn_dim)

    spec.register_vocabulary([tok.id_to_token(i) for i in range(shape.vocab_size)])
    _set_config(spec.config, shape, tok)
    return spec


def _set_config(config: Any, shape: WhisperShape, tok: tokenizers.Tokenizer) -> None:
    """The fields WhisperLoader.set_config fills from the HF generation config."""
    fw_tok = FasterWhisperTokenizer(tok, multilingual=True, task="transcribe", language="en")
    # HF's suppress_tokens = non-speech symbols + sot/task/lm/prev/nocaptions, which is
    # what faster-whisper itself expands suppress_tokens=[-1] to.
    config.suppress_ids = list(get_suppressed_tokens(fw_tok, [-1]))
    config.suppress_ids_begin = [*tok.encode(" ", add_special_tokens=False).ids, fw_tok.eot]
    config.lang_ids = [
        tok.token_to_id(f"<|{code}|>") for code in WHISPER_LANGUAGES[: shape.num_languages]
    ]
    # The converter's default when no alignment heads are known: every head of the last
    # half of the decoder layers.
    config.alignment_heads = [
        (layer, head)
        for layer in range(shape.decoder_layers // 2, shape.decoder_layers)
        for head in range(shape.heads)
    ]


def _preprocessor_config(shape: WhisperShape) -> dict[str, Any]:
    # faster-whisper keeps only FeatureExtractor.__init__'s parameters (feature_size,
    # sampling_rate, hop_length, chunk_length, n_fft); the rest mirrors HF's file.
    return {
        "chunk_length": 30,
        "feature_extractor_type": "WhisperFeatureExtractor",
        "feature_size": shape.num_mel_bins,
        "hop_length": 160,
        "n_fft": 400,
        "n_samples": 480000,
        "nb_max_frames": 3000,
        "padding_side": "right",
        "padding_value": 0.0,
        "processor_class": "WhisperProcessor",
        "return_attention_mask": False,
        "sampling_rate": 16000,
    }


def build_random_whisper(
    out_dir: Path,
    shape: str | WhisperShape,
    *,
    seed: int = 0,
    quantization: str | None = "int8",
) -> Path:
    """Write a random-weight Whisper model that ``faster_whisper.WhisperModel`` can load.

    The directory gets ``model.bin``, ``config.json`` and ``vocabulary.json`` (from
    ``WhisperSpec.save``), ``tokenizer.json`` and ``preprocessor_config.json``. Output is
    byte-identical for the same shape, seed and quantization. ``quantization`` is any
    CTranslate2 weight type ("int8", "float16", ...) or None to keep float32.
    """
    resolved = SHAPES[shape] if isinstance(shape, str) else shape
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    tok = build_tokenizer(resolved.num_languages)
    spec = _build_spec(resolved, seed, tok)
    spec.validate()
    spec.optimize(quantization=quantization)
    spec.save(str(out))

    tok.save(str(out / "tokenizer.json"), pretty=False)
    (out / "preprocessor_config.json").write_text(
        json.dumps(_preprocessor_config(resolved), indent=2) + "\n", encoding="utf-8"
    )
    return out


# ----------------------------------------------------------------------- decode control


def _decoded_length(prompt_len: int, max_new_tokens: int) -> int:
    """Tokens CTranslate2 4.8's Whisper ``generate`` emits when nothing stops it early.

    faster-whisper passes ``max_length = prompt_len + max_new_tokens``; CTranslate2's
    ``WhisperReplica::generate`` then decodes at most
    ``min(max_length / 2, max_length - start_step)`` steps, ``start_step`` being the
    prompt minus its last token. Matches every length measured (1 to 224).
    """
    max_length = prompt_len + max_new_tokens
    return min(max_length // 2, max_length - (prompt_len - 1))


def fixed_decode_options(model_dir: Path | str, n_tokens: int) -> dict[str, Any]:
    """``transcribe()`` keyword arguments that make every window decode ``n_tokens`` ids.

    For ``WhisperModel.transcribe`` and ``BatchedInferencePipeline.transcribe`` (same
    keywords); pass ``language`` yourself so the prompt is the 4 tokens
    ``<|startoftranscript|> <|lang|> <|transcribe|> <|notimestamps|>``, and leave
    ``initial_prompt``, ``prefix`` and ``hotwords`` unset (they lengthen the prompt).
    Measured with faster-whisper 1.2.1 / CTranslate2 4.8.5 on random models, 60 s of
    audio: each 30 s window gives one segment with exactly ``n_tokens`` tokens
    (checked for 1-11, 31-33, 100, 199, 223 and 224), sequential and batched alike:

    * ``<|endoftext|>`` and all special and timestamp ids are suppressed, so decoding
      only stops at the length limit and no timestamp token can split a window or move
      ``seek`` (the window always advances by 30 s);
    * greedy, a single temperature and no thresholds: no fallback re-decoding, and no
      window is dropped as silence (random weights give avg_logprob around -10);
    * ``max_new_tokens`` is not the number of new tokens: CTranslate2 caps decoding at
      ``max_length // 2`` (see ``_decoded_length``), so ``max_new_tokens=32`` yields 18
      tokens; the smallest value that yields ``n_tokens`` is chosen here.

    The batched pipeline still needs ``clip_timestamps`` (or ``vad_filter=True``) for
    audio of 30 s or more. 224 is the ceiling: prompt plus ``max_new_tokens`` may not
    exceed Whisper's 448 positions.
    """
    prompt_len = 4
    candidates = [
        m for m in range(448 - prompt_len + 1) if _decoded_length(prompt_len, m) == n_tokens
    ]
    if not candidates:
        raise ValueError(f"n_tokens must be between 1 and 224, got {n_tokens}")
    tok = tokenizers.Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    eot = tok.token_to_id("<|endoftext|>")
    if eot is None:
        raise ValueError(f"{model_dir} has no Whisper tokenizer.json")
    return {
        "beam_size": 1,
        "best_of": 1,
        "temperature": 0.0,
        "without_timestamps": True,
        "condition_on_previous_text": False,
        "word_timestamps": False,
        "suppress_blank": False,
        "suppress_tokens": list(range(eot, tok.get_vocab_size())),
        "max_new_tokens": candidates[0],
        "compression_ratio_threshold": None,
        "log_prob_threshold": None,
        "no_speech_threshold": None,
    }
