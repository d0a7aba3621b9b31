"""Planning revisit and confirmation callbacks from a verdict (pure; storage saves them)."""
