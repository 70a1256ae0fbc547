"""The sink a streaming provider feeds its reply's text to, as it arrives
(sealed.llm.base.TextSink). Each chunk goes through the turn's screen before
anything else sees it; what the screen lets through is the reply's text, and
how far it has come rides on the attempt's heartbeats, where the Temporal UI
and `temporal activity describe` show it while the model is still writing."""

from __future__ import annotations

from pydantic import Field

from sealed.redaction.screen import ScreenedStream
from sealed.types import Strict

# The end of the redacted text so far that a heartbeat carries: enough to
# watch a reply being written, small enough for every beat.
TAIL = 200
# Chunks are screened together once this many characters wait. The redactor
# holds back its longest possible match (sealed.redaction.redactor) however
# the text is cut, so screening each token alone would let nothing through
# sooner, at the cost of scanning that much text again for every token.
SCAN_EVERY = 512


class StreamProgress(Strict):
    """A heartbeat's detail while a reply streams in."""

    chunks: int = Field(ge=0, description="chunks received so far")
    received: int = Field(ge=0, description="characters received so far")
    tail: str = Field(description="the end of the redacted text let through so far")


class ReplyStream:
    def __init__(self, screened: ScreenedStream) -> None:
        self._screened = screened
        self._waiting: list[str] = []
        self._waiting_chars = 0
        self._out: list[str] = []
        self._tail = ""
        self.chunks = 0
        self.received = 0

    def __call__(self, chunk: str) -> None:
        self.chunks += 1
        self.received += len(chunk)
        self._waiting.append(chunk)
        self._waiting_chars += len(chunk)
        if self._waiting_chars >= SCAN_EVERY:
            self._screen()

    def close(self) -> str:
        """The whole reply, redacted: what was let through and what was held
        back to the end (a possible value's start that never completed)."""
        self._screen()
        self._let_through(self._screened.flush())
        return "".join(self._out)

    def _screen(self) -> None:
        text = "".join(self._waiting)
        self._waiting.clear()
        self._waiting_chars = 0
        self._let_through(self._screened.feed(text))

    def progress(self) -> StreamProgress:
        return StreamProgress(chunks=self.chunks, received=self.received, tail=self._tail)

    def _let_through(self, text: str) -> None:
        if text:
            self._out.append(text)
            self._tail = (self._tail + text)[-TAIL:]
