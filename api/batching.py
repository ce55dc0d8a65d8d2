"""Adaptive micro-batching: concurrent /v1/predict calls share one model call.

scikit-learn spends about the same time validating and dispatching 1 row as 1,000, so when many
requests arrive together, predicting them as one matrix costs little more than predicting one. A
request's validated features join a queue; the first one schedules a flush after `max_wait_s` (0
means: after the event loop has taken in whatever requests are already readable, no added delay),
and the flush predicts everything queued, up to `max_rows`, in one call, then hands each request
its own rows. A lone request is therefore never delayed by more than one loop turn plus
`max_wait_s`. Requests are validated before they queue, so one bad record fails only its own
request; a model error fails the requests of that batch only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from api.model import Features, LoadedModel, Prediction


@dataclass
class _Pending:
    model: LoadedModel
    features: Features
    rows: int
    future: asyncio.Future[Prediction]


class MicroBatcher:
    """Coalesces predictions for one event loop (one per worker process)."""

    def __init__(self, *, max_rows: int, max_wait_s: float) -> None:
        self.max_rows = max_rows
        self.max_wait_s = max_wait_s
        self._queue: list[_Pending] = []
        self._flush_scheduled = False
        self.batches = 0  # how many model calls were made (the tests check that requests coalesced)

    async def predict(self, model: LoadedModel, features: Features) -> Prediction:
        loop = asyncio.get_running_loop()
        pending = _Pending(model, features, len(features), loop.create_future())
        self._queue.append(pending)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            if self.max_wait_s > 0:
                loop.call_later(self.max_wait_s, self._flush)
            else:
                # Two loop turns: the first lets already-readable requests parse and queue.
                loop.call_soon(loop.call_soon, self._flush)
        return await pending.future

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._queue:
            batch = self._take_batch()
            self._run(batch)

    def _take_batch(self) -> list[_Pending]:
        """Queued requests for the same model version, in order, up to max_rows (at least one)."""
        first = self._queue[0]
        batch, rows = [first], first.rows
        index = 1
        while index < len(self._queue):
            item = self._queue[index]
            if item.model is not first.model or rows + item.rows > self.max_rows:
                break
            batch.append(item)
            rows += item.rows
            index += 1
        del self._queue[:index]
        return batch

    def _run(self, batch: list[_Pending]) -> None:
        self.batches += 1
        model = batch[0].model
        try:
            result = model.predict_features(model.combine([item.features for item in batch]))
        except Exception as exc:  # the model's own error: fail this batch's requests, not the worker
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        start = 0
        for item in batch:
            if not item.future.done():  # a client that went away cancelled its future
                item.future.set_result(result.rows(start, start + item.rows))
            start += item.rows
