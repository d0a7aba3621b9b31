"""Loading and validating the rule data in `rules/` (campaigns, language packs, forbidden
phrases, criteria). The data lives in `rules/`; this package is the code that reads it."""

from qa_pipeline.ruleset.loader import Ruleset, default_rules_dir, load_ruleset

__all__ = ["Ruleset", "default_rules_dir", "load_ruleset"]
