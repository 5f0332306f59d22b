"""The wire protocol between the daemon and its clients.

``messages`` parses and validates requests and builds replies and events; ``schema`` holds the JSON
Schemas they are checked against and the error table, ``osc_map`` the OSC addresses, ``errors`` the
exception behind each error code; ``published`` writes it all out as ``plugin_protocol/``; ``remote``
holds the CURVE keys that secure a daemon reached over the network. Nothing here imports torch.
"""
