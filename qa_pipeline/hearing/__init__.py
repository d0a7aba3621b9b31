"""Hearing: a recording becomes a transcript (decode, voice activity, ASR, speakers, signals)."""
