"""The client side: ``connection`` (the ZeroMQ ``Client`` and the event stream), ``delivery`` (writing
the audio a daemon sent in its reply), ``via_daemon`` (the rendering commands' ``--via-daemon``)."""
