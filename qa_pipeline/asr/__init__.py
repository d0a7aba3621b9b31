"""Speech recognition helpers built on faster-whisper (CTranslate2)."""
