"""Sample packs: a TOML spec -> finished, checked, foldered sounds with a manifest, on one machine or a Ray cluster."""
