"""Redis Streams backend for production: every web process and worker sees the same log.

Per topic: a stream `{prefix}:t:{topic}` whose entry ids are `{offset}-0`, so a reconnecting client
replays with XRANGE from its offset; a counter for the offsets; all trimmed to a bounded history
(`XADD … MAXLEN ~`). Each topic entry also carries the event's offsets and global position, so a
replayed event is the same `Published` a follower read. One global stream `{prefix}:all` that each
web process follows with its own XREAD (no consumer group: a group would split the events between
processes).

One Lua script publishes an event to all its streams atomically and refuses an event id it has
seen in the last day, so a relay that crashed after publishing but before marking the row
publishes nothing twice. Redis does not roll back a script that fails half-way, so the script
reads and checks everything before its first write, and remembers the id only after its last one:
a failed publish leaves nothing behind and the relay's retry publishes the event whole.

Redis restarted from a snapshot (RDB, or an AOF that lost its last second) comes back with the
old epoch but without the newest events, and would hand their offsets out again: clients that
received the lost events would drop the new ones as repeats, and a reconnecting client would
skip them. So the publisher remembers the last global position it wrote; when the global log
ends before it, Redis lost our writes and the script starts a new epoch (clients reset).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import redis

from civic.events.backends import History, Published
from civic.events.envelope import Envelope

_PUBLISH = """
local prefix, maxlen, event_id, body, ttl, new_epoch = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local written = ARGV[7]  -- the last global position this publisher wrote ('' if none yet)
local seen = prefix .. ':seen:' .. event_id
if redis.call('EXISTS', seen) == 1 then
  return false
end
-- Reads and checks only, so that a failure here leaves Redis as it was.
local all = prefix .. ':all'
local kind = redis.call('TYPE', all)['ok']
if kind ~= 'none' and kind ~= 'stream' then
  return redis.error_reply('WRONGTYPE ' .. all .. ' is not a stream')
end
local epoch = redis.call('GET', prefix .. ':epoch')
if written ~= '' then
  -- Trimming never removes the newest entry: a log that ends before what we wrote lost it.
  local newest = redis.call('XREVRANGE', all, '+', '-', 'COUNT', 1)[1]
  local lost = newest == nil
  if not lost then
    local nm, ns = string.match(newest[1], '^(%d+)-(%d+)$')
    local wm, ws = string.match(written, '^(%d+)-(%d+)$')
    nm, ns, wm, ws = tonumber(nm), tonumber(ns), tonumber(wm), tonumber(ws)
    lost = nm < wm or (nm == wm and ns < ws)
  end
  if lost then
    epoch = nil
  end
end
local offsets, topics = {}, {}
for i = 8, #ARGV do
  local topic = ARGV[i]
  if not offsets[topic] then
    local offset = tonumber(redis.call('GET', prefix .. ':off:' .. topic) or '0')
    -- XREVRANGE also refuses a key that is not a stream. If the counter was lost while the
    -- stream survived, continue after the stream's last entry instead of failing every publish.
    local last = redis.call('XREVRANGE', prefix .. ':t:' .. topic, '+', '-', 'COUNT', 1)[1]
    if last then
      offset = math.max(offset, tonumber(string.match(last[1], '^(%d+)')))
    end
    offsets[topic] = offset + 1
    topics[#topics + 1] = topic
  end
end
-- Writes.
if not epoch then
  epoch = new_epoch
  redis.call('SET', prefix .. ':epoch', epoch)
end
local encoded = '{}'
if #topics > 0 then encoded = cjson.encode(offsets) end
local position = redis.call('XADD', all, 'MAXLEN', '~', maxlen, '*',
  'e', body, 'o', encoded, 'p', epoch, 'i', event_id)
for _, topic in ipairs(topics) do
  redis.call('SET', prefix .. ':off:' .. topic, offsets[topic])
  redis.call('XADD', prefix .. ':t:' .. topic, 'MAXLEN', '~', maxlen, offsets[topic] .. '-0',
    'e', body, 'o', encoded, 'g', position, 'i', event_id)
end
redis.call('SET', seen, '1', 'EX', ttl)
return {epoch, encoded, position}
"""


class RedisStreamsBackend:
    def __init__(
        self, url: str, *, prefix: str = "civic", history: int = 10_000, dedupe_seconds: int = 86_400
    ):
        self.redis = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
        self.prefix = prefix
        self.history_size = history
        self.dedupe_seconds = dedupe_seconds
        self._publish = self.redis.register_script(_PUBLISH)
        self._written = ""  # the last global position this publisher wrote (see the module doc)

    def current_epoch(self) -> str:
        epoch = self.redis.get(f"{self.prefix}:epoch")
        if epoch is None:
            self.redis.set(f"{self.prefix}:epoch", uuid.uuid4().hex[:12], nx=True)
            epoch = self.redis.get(f"{self.prefix}:epoch")
        return str(epoch)

    def publish(self, envelopes: Sequence[Envelope]) -> list[Published | None]:
        pipe = self.redis.pipeline(transaction=False)
        bodies = []
        for envelope in envelopes:
            body = envelope.wire_json()
            bodies.append(body)
            self._publish(
                keys=[],
                args=[
                    self.prefix,
                    self.history_size,
                    envelope.id,
                    body,
                    self.dedupe_seconds,
                    uuid.uuid4().hex[:12],
                    self._written,
                    *envelope.topics,
                ],
                client=pipe,
            )
        results = pipe.execute()
        out: list[Published | None] = []
        for envelope, body, result in zip(envelopes, bodies, results, strict=True):
            if not result:
                out.append(None)
                continue
            epoch, offsets, position = result
            self._written = position
            out.append(Published(envelope.id, body, epoch, json.loads(offsets) or {}, position))
        return out

    def history(self, topic: str, after_offset: int, epoch: str, limit: int = 1000) -> History:
        if epoch != self.current_epoch():
            return History(events=[], reset=True)
        last = self.last_offset(topic)
        if after_offset < 0 or after_offset > last:
            return History(events=[], reset=True)
        if after_offset == last:
            return History(events=[])
        entries = self.redis.xrange(
            f"{self.prefix}:t:{topic}", min=f"({after_offset}-0", max="+", count=limit
        )
        if not entries or int(entries[0][0].split("-")[0]) > after_offset + 1:
            return History(events=[], reset=True)
        return History(events=[self._from_topic_entry(topic, epoch, *entry) for entry in entries])

    @staticmethod
    def _from_topic_entry(topic: str, epoch: str, entry_id: str, fields: dict[str, str]) -> Published:
        """The same `Published` a follower read from the global log: every offset, global position."""
        body = fields["e"]
        if "g" in fields:
            return Published(fields["i"], body, epoch, json.loads(fields["o"]), fields["g"])
        # Written before topic entries carried their global place: only this topic's offset is known.
        return Published(json.loads(body)["id"], body, epoch, {topic: int(entry_id.split("-")[0])}, entry_id)

    def read(self, after_position: str | None, block_seconds: float, limit: int = 500) -> list[Published]:
        after = after_position or "$"
        # BLOCK 0 would wait forever: a wait shorter than a millisecond still waits one.
        block = max(1, round(block_seconds * 1000)) if block_seconds > 0 else None
        reply = self.redis.xread({f"{self.prefix}:all": after}, count=limit, block=block)
        out = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                out.append(
                    Published(fields["i"], fields["e"], fields["p"], json.loads(fields["o"]), entry_id)
                )
        return out

    def end_position(self) -> str:
        last = self.redis.xrevrange(f"{self.prefix}:all", "+", "-", count=1)
        return str(last[0][0]) if last else "0-0"

    def last_offset(self, topic: str) -> int:
        return int(self.redis.get(f"{self.prefix}:off:{topic}") or 0)

    def ping(self) -> bool:
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self.redis.close()
