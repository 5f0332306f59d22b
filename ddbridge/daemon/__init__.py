"""The daemon's parts, below its front ends.

``core`` is the API every front end calls; ``orders`` turns a checked request into ``engine`` work;
``jobs`` queues and runs it; ``results`` finishes the audio and ``outputs`` decides where it is written;
``pool``, ``pool_keeper`` and ``pool_check`` keep ready sounds per category; ``slots`` are the MIDI
pads; ``config`` holds the settings. ``ddbridge.serve`` puts them together with the front ends.
"""
