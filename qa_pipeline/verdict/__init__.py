"""The verdict of a call as typed, frozen results, and what is derived from them: findings,
serialization at the edges (results.jsonl, the database), digests and summaries."""
