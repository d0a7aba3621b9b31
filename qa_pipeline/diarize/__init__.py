"""Who spoke when: stereo channels by configuration, mono recordings by pyannote.audio."""
