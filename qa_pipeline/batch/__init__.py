"""A batch run: discover, hear, judge, store and write results, one call at a time."""
