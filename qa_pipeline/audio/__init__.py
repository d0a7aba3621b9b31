"""Recordings: decoding, voice activity and the audio signals of a call."""
