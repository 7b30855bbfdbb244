"""Cutting ``<ReferenceList>`` elements out of a PubMed XML byte stream before parsing.

A modern efetch record carries its reference list (often a third or more of the file); no
record field comes from it, and building it into a tree is most of what parsing such a file
costs.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def close(self) -> None: ...


class WithoutReferenceLists:
    """A binary stream without ``<ReferenceList>…</ReferenceList>`` elements (nested too).

    Each cut is replaced by as many newlines as it held, so line numbers stay true. An element
    whose end is missing (a truncated file) is passed through, so the parser reports it.
    (Cutting smaller, frequent elements such as affiliations costs more than it saves.)
    """

    _CHUNK = 1 << 20
    _OPEN = b"<ReferenceList"
    _CLOSE = b"</ReferenceList>"

    def __init__(self, raw: Readable) -> None:
        self.raw = raw
        self.pending = b""  # the end of the last chunk read, not yet known to be outside a cut
        self.pieces: deque[memoryview] = deque()  # what is kept, in order, none empty
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all the rest for -1). Fewer is not the end; ``b""`` is."""
        if size < 0:
            while not self.eof:
                self._fill()
            out = b"".join(self.pieces)
            self.pieces.clear()
            return out
        while not self.pieces and not self.eof:
            self._fill()
        if not self.pieces:
            return b""
        piece = self.pieces.popleft()
        if len(piece) > size:
            self.pieces.appendleft(piece[size:])
            piece = piece[:size]
        return bytes(piece)

    def _keep(self, piece: memoryview | bytes) -> None:
        if len(piece):
            self.pieces.append(piece if isinstance(piece, memoryview) else memoryview(piece))

    def _fill(self) -> None:
        data = self.raw.read(self._CHUNK)
        if not data:
            self.eof = True
            self._keep(self.pending)
            self.pending = b""
            return
        buf = self.pending + data if self.pending else data
        view = memoryview(buf)
        pos = search = 0
        while True:
            start = buf.find(self._OPEN, search)
            if start < 0:
                keep = max(pos, len(buf) - len(self._OPEN))
                self._keep(view[pos:keep])
                self.pending = buf[keep:]
                return
            end = self._end_of(buf, start)
            if end == -1:  # not complete in this buffer: wait for more
                self._keep(view[pos:start])
                self.pending = buf[start:]
                return
            if end == -2:  # "<ReferenceListX": another element; keep it
                search = start + 1
                continue
            self._keep(view[pos:start])
            self._keep(b"\n" * buf.count(b"\n", start, end))
            pos = search = end

    def _end_of(self, buf: bytes, start: int) -> int:
        after = start + len(self._OPEN)
        if after >= len(buf):
            return -1
        if buf[after] not in b" \t\r\n>/":
            return -2
        tag_end = buf.find(b">", after)
        if tag_end < 0:
            return -1
        if buf[tag_end - 1] == ord("/"):
            return tag_end + 1  # <ReferenceList/>
        depth, pos = 1, tag_end + 1
        while depth:
            end = buf.find(self._CLOSE, pos)
            if end < 0:
                return -1
            nested = buf.find(self._OPEN, pos, end)
            if nested >= 0:
                depth, pos = depth + 1, nested + len(self._OPEN)
            else:
                depth, pos = depth - 1, end + len(self._CLOSE)
        return pos

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> WithoutReferenceLists:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
