"""WebSocket hub: topics, per-topic authorization, replay from the last offset (the real-time issue)."""
