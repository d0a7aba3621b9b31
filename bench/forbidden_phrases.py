"""Forbidden-phrase recall and precision on a phrase bank, in one run.

A phrase bank is JSONL, one agent utterance a line: {"id", "text", "campaign", "forbidden":
[{"text", "category"}], "note"}; `forbidden` is [] for legitimate speech that must not be
flagged. Each utterance is judged as the agent's only turn of a call of its campaign, so the
figures measure the forbidden-phrase rules alone. The banks in tests/data/phrasebank were
written without sight of the rules; the `tune` halves may be fixed against, the `test` halves
measure.

    python bench/forbidden_phrases.py tests/data/phrasebank/zh.test.jsonl [--show]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.evaluation.metrics import spans_match  # noqa: E402
from qa_pipeline.ingest.model import Call  # noqa: E402
from qa_pipeline.judging.judge import Judge, load_rules  # noqa: E402
from qa_pipeline.judging.understand import configured_reader  # noqa: E402
from testing.excerpts import excerpt_call, read_bank  # noqa: E402


def _call(line: dict[str, Any], language: str) -> Call:
    hello = "hello" if language == "en" else "喂"
    turns = [("customer", hello), ("agent", line["text"])]
    return excerpt_call(turns, campaign=line["campaign"], language=language, call_id=line["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", nargs="+", type=Path)
    parser.add_argument("--rules-only", action="store_true", help="without the understanding model")
    parser.add_argument("--show", action="store_true", help="print every miss and false alarm")
    args = parser.parse_args()
    ruleset = load_rules()
    engine = Judge(ruleset, reader=None if args.rules_only else configured_reader(ruleset))
    for bank in args.banks:
        language, lines = read_bank(bank)
        found, missed, gold_by = Counter[str](), Counter[str](), Counter[str]()
        false_alarms = wrong_category = 0
        negatives = sum(not line["forbidden"] for line in lines)
        for line in lines:
            verdict = engine.judge(_call(line, language))
            got = [{"text": f.text, "category": f.category} for f in verdict.forbidden_phrases]
            for gold in line["forbidden"]:
                gold_by[gold["category"]] += 1
                hit = [g for g in got if spans_match(gold, g)]
                if hit and any(g["category"] == gold["category"] for g in hit):
                    found[gold["category"]] += 1
                    continue
                missed[gold["category"]] += 1
                wrong_category += bool(hit)
                if args.show:
                    said = f" (said {hit[0]['category']})" if hit else ""
                    print(f"  MISS {line['id']} {gold['category']}{said}: {gold['text']}")
            extra = [g for g in got if not any(spans_match(x, g) for x in line["forbidden"])]
            false_alarms += bool(extra and not line["forbidden"])
            if args.show and extra:
                print(f"  EXTRA {line['id']}: {extra[0]['category']}: {extra[0]['text']}")
        total = sum(gold_by.values())
        print(f"{bank}: recall {sum(found.values()) / total:.3f} ({sum(found.values())}/{total}, "
              f"{wrong_category} found under another category); legitimate lines flagged "
              f"{false_alarms}/{negatives}")  # fmt: skip
        for category in sorted(gold_by):
            print(f"  {category:11} {found[category]:3d}/{gold_by[category]:3d}"
                  f" = {found[category] / gold_by[category]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
