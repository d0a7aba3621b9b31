"""Defaults of a batch run that the command line needs before anything heavy is imported."""

DEFAULT_CALL_BUDGET_S = 60.0  # a call judges in well under a second; models load in seconds
