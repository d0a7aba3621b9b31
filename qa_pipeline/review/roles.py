"""The workbench's roles (what each may do: docs/review.md), in a module of their own so the
command line lists them without loading settings or rules."""

ROLES = ("qa_lead", "supervisor", "admin", "agent")
