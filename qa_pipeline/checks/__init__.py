"""Check types. Importing this package registers every built-in check type."""

from qa_pipeline.checks import (  # noqa: F401  (imported to register)
    competence,
    consent,
    disclosures,
    forbidden,
    hangup,
    holder,
    outcome,
    script,
)
