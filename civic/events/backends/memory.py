"""In-process event backend for the embedded mode: one process, nothing to install.

The epoch is new with every process, so a browser that outlived a restart is told to reload.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Sequence

from civic.events.backends import History, Published
from civic.events.envelope import Envelope


class MemoryBackend:
    def __init__(self, history: int = 10_000, *, dedupe: int = 50_000) -> None:
        self._history = history
        # Ids remembered to drop a relay's repeat. It must cover at least one relay batch whatever
        # the history size: a relay whose commit failed re-publishes its whole batch.
        self._dedupe = max(dedupe, history * 4)
        self._epoch = uuid.uuid4().hex[:12]
        self._cond = threading.Condition()
        self._offsets: dict[str, int] = {}
        self._topics: dict[str, deque[tuple[int, Published]]] = {}
        self._log: deque[tuple[int, Published]] = deque(maxlen=history)
        self._position = 0
        self._seen: OrderedDict[str, None] = OrderedDict()

    def current_epoch(self) -> str:
        return self._epoch

    def publish(self, envelopes: Sequence[Envelope]) -> list[Published | None]:
        out: list[Published | None] = []
        with self._cond:
            for envelope in envelopes:
                if envelope.id in self._seen:
                    out.append(None)
                    continue
                self._remember(envelope.id)
                offsets = {}
                for topic in envelope.topics:
                    if topic in offsets:
                        continue
                    offsets[topic] = self._offsets.get(topic, 0) + 1
                    self._offsets[topic] = offsets[topic]
                self._position += 1
                published = Published(
                    event_id=envelope.id,
                    event_json=envelope.wire_json(),
                    epoch=self._epoch,
                    offsets=offsets,
                    position=str(self._position),
                )
                for topic, offset in offsets.items():
                    self._topics.setdefault(topic, deque(maxlen=self._history)).append((offset, published))
                self._log.append((self._position, published))
                out.append(published)
            self._cond.notify_all()
        return out

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        while len(self._seen) > self._dedupe:
            self._seen.popitem(last=False)

    def history(self, topic: str, after_offset: int, epoch: str, limit: int = 1000) -> History:
        with self._cond:
            if epoch != self._epoch:
                return History(events=[], reset=True)
            entries = self._topics.get(topic, deque())
            last = self._offsets.get(topic, 0)
            if after_offset < 0 or after_offset > last:
                return History(events=[], reset=True)
            if after_offset == last:
                return History(events=[])
            if not entries or entries[0][0] > after_offset + 1:
                return History(events=[], reset=True)
            events = [p for offset, p in entries if offset > after_offset][:limit]
            return History(events=events)

    def read(self, after_position: str | None, block_seconds: float, limit: int = 500) -> list[Published]:
        with self._cond:
            after = self._position if after_position in (None, "$") else int(after_position)
            if self._position <= after and block_seconds > 0:
                self._cond.wait(timeout=block_seconds)
            return [p for position, p in self._log if position > after][:limit]

    def end_position(self) -> str:
        with self._cond:
            return str(self._position)

    def last_offset(self, topic: str) -> int:
        with self._cond:
            return self._offsets.get(topic, 0)

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
