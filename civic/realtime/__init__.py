"""WebSocket hub: topics, per-topic authorization, replay from the last offset (PROTOCOL.md).

- `endpoint`: `/ws`, the handshake (origin, session cookie) and one socket's tasks.
- `protocol`: parsing client frames, building server frames, close codes.
- `subscriptions`: authorize, replay or reset, then go live — in the order that loses nothing.
- `topics`: who may follow which topic (the HTTP pages' checks).
- `hub`: the one follower per process and the fan-out to sockets.
- `connection`: a socket's subscriptions, bounded queue and sender.
- `config`: the limits.
"""
