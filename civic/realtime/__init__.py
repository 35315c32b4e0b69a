"""WebSocket hub: topics, per-topic authorization, replay from the last offset (PROTOCOL.md).

- `endpoint`: `/ws`, the handshake (origin, session cookie) and one socket's tasks.
- `protocol`: parsing client frames, building server frames, close codes.
- `subscriptions`: authorize, replay or reset, then go live — in the order that loses nothing.
- `topics`: who may follow which topic (the HTTP pages' checks).
- `hub`: the one follower per process, the fan-out to sockets, heartbeats and presence rounds.
- `connection`: a socket's subscriptions, direct writes and bounded backlog.
- `eager`: starting a write without a task, finishing it in one only if it has to wait.
- `presence`: how many sockets follow a consultation, across processes (Redis) or here.
- `config`: the limits.
"""
