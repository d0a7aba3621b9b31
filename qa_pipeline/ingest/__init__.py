"""Reading batches of calls."""
