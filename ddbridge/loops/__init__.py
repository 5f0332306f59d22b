"""Drum loops: genres and tempi, the pattern grammar, and the rhythm measures that judge a loop."""
