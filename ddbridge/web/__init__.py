"""The page's server-side parts: the sound library, waveforms and the map, form checks, request guards.

``ddbridge.frontends.web`` puts them together behind aiohttp; the page itself is in ``ddbridge/assets/web``.
"""
