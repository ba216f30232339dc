"""Broadcast server (brief #39): a WebSocket chat room and its terminal client, on kernel realtime.

`broadcast-server start` (also `stackyard broadcast start`) serves every path; each text frame
a client sends is broadcast to every client of every server sharing `--redis`.
`broadcast-server connect` is the interactive client. Command line only: no HTTP router.
"""
