"""Loading and validating the rule data in `rules/` (campaigns, language packs, forbidden
phrases, criteria). The data lives in `rules/`; this package is the code that reads it. Load
with `qa_pipeline.judging.load_rules`, which validates check specs against the registered
check types."""

from qa_pipeline.ruleset.loader import Ruleset, default_rules_dir

__all__ = ["Ruleset", "default_rules_dir"]
