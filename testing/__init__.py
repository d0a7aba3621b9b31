"""Test and benchmark tooling, never installed with the library: a random-weight Whisper,
synthesized recordings, calls written as excerpts, replicated batches."""
