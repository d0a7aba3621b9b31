"""The table formats an export writes, and which one a `--out FILE` asks for: light enough for
the command line to check options before pandas loads."""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.errors import OptionValueError

FORMATS = ("csv", "xlsx", "parquet", "md")


def table_format(out: Path, given: str | None) -> str:
    """The format for `out`: its suffix's (report.xlsx -> xlsx), which `--format` must agree
    with when given; a suffix that is no format (y.xls) is an error naming the ones there are."""
    suffix = out.suffix.lower().lstrip(".")
    choices = ", ".join(f".{f}" for f in FORMATS)
    if suffix not in FORMATS:
        if given is not None and not suffix:
            return given
        raise OptionValueError("--out", str(out), f"unsupported file type; write {choices}")
    if given is not None and given != suffix:
        raise OptionValueError("--out", str(out), f"is .{suffix} but --format says {given}")
    return suffix
