"""A transcript made ready for the checks: ASR cleanup (hallucinations, loops, script) and
speaker roles."""
