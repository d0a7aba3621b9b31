"""Accuracy on an exchange bank, in one run: short excerpts (identity, permission, consent,
a booked sale) each judged as a call of its campaign, the one item it is about compared with
the label.

A bank is JSONL, one excerpt a line: {"id", "item": identity|permission|consent|booked,
"campaign", "turns": [[speaker, text], ...], "expect": true|false, "note"}. The banks in
tests/data/exchangebank were written without sight of the rules; the `tune` halves may be
fixed against, the `test` halves measure.

    python bench/exchanges.py tests/data/exchangebank/zh.test.jsonl [--show]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.judging.judge import Judge, load_rules  # noqa: E402
from qa_pipeline.judging.understand import configured_reader  # noqa: E402
from qa_pipeline.verdict.model import CallVerdict, Item  # noqa: E402
from testing.excerpts import excerpt_call, read_bank  # noqa: E402

READ: dict[str, Callable[[CallVerdict], tuple[bool, str]]] = {
    "identity": lambda v: _said(v.item("account_holder_verified", "identity")),
    "permission": lambda v: _said(v.item("account_holder_verified", "permission")),
    "consent": lambda v: _said(v.item("explicit_consent")),
    "booked": lambda v: (v.outcome.value == "sale", v.outcome.reason),
}


def _said(item: Item) -> tuple[bool, str]:
    return bool(item.passed), item.reason


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("banks", nargs="+", type=Path)
    parser.add_argument("--rules-only", action="store_true", help="without the understanding model")
    parser.add_argument("--show", action="store_true", help="print every wrong excerpt")
    args = parser.parse_args()
    ruleset = load_rules()
    engine = Judge(ruleset, reader=None if args.rules_only else configured_reader(ruleset))
    for bank in args.banks:
        language, lines = read_bank(bank)
        right, total = Counter[str](), Counter[str]()
        wrong_by: Counter[tuple[str, bool]] = Counter()
        for line in lines:
            call = excerpt_call(
                line["turns"], campaign=line["campaign"], language=language, call_id=line["id"]
            )
            got, reason = READ[line["item"]](engine.judge(call))
            total[line["item"]] += 1
            if got == line["expect"]:
                right[line["item"]] += 1
                continue
            wrong_by[(line["item"], line["expect"])] += 1
            if args.show:
                last = line["turns"][-1]
                print(f"  WRONG {line['id']} expected {line['expect']}: {reason} | "
                      f"{last[0]}: {last[1]}")  # fmt: skip
        all_right, all_total = sum(right.values()), sum(total.values())
        print(f"{bank}: accuracy {all_right / all_total:.3f} ({all_right}/{all_total})")
        for item in sorted(total):
            misses = wrong_by[(item, True)]
            false_passes = wrong_by[(item, False)]
            print(f"  {item:10} {right[item]:3d}/{total[item]:3d} = {right[item] / total[item]:.2f}"
                  f"  (true judged false {misses}, false judged true {false_passes})")  # fmt: skip


if __name__ == "__main__":
    main()
