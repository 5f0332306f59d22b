"""Sound I/O: ``audio`` finishes and loads audio (DC, trim, fade, normalisation, resampling), ``render``
writes WAV files atomically, never over an existing one, with their metadata."""
