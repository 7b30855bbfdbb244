"""Cutting ``<ReferenceList>`` elements out of a PubMed XML byte stream before parsing.

A modern efetch record carries its reference list (often a third or more of the file); no
record field comes from it, and building it into a tree is most of what parsing such a file
costs.
"""

from __future__ import annotations

import gzip
from typing import IO


class WithoutReferenceLists:
    """A binary stream without ``<ReferenceList>…</ReferenceList>`` elements (nested too).

    Each cut is replaced by as many newlines as it held, so line numbers stay true. An element
    whose end is missing (a truncated file) is passed through, so the parser reports it.
    (Cutting smaller, frequent elements such as affiliations costs more than it saves.)
    """

    _CHUNK = 1 << 20
    _OPEN = b"<ReferenceList"
    _CLOSE = b"</ReferenceList>"

    def __init__(self, raw: IO[bytes] | gzip.GzipFile) -> None:
        self.raw = raw
        self.pending = b""
        self.ready = bytearray()
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        while not self.eof and (size < 0 or len(self.ready) < size):
            self._fill()
        if size < 0 or size >= len(self.ready):
            out = bytes(self.ready)
            self.ready.clear()
        else:
            out = bytes(self.ready[:size])
            del self.ready[:size]
        return out

    def _fill(self) -> None:
        data = self.raw.read(self._CHUNK)
        if not data:
            self.eof = True
            self.ready += self.pending
            self.pending = b""
            return
        buf = self.pending + data
        view = memoryview(buf)
        pos = search = 0
        while True:
            start = buf.find(self._OPEN, search)
            if start < 0:
                keep = max(pos, len(buf) - len(self._OPEN))
                self.ready += view[pos:keep]
                self.pending = buf[keep:]
                return
            end = self._end_of(buf, start)
            if end == -1:  # not complete in this buffer: wait for more
                self.ready += view[pos:start]
                self.pending = buf[start:]
                return
            if end == -2:  # "<ReferenceListX": another element; keep it
                search = start + 1
                continue
            self.ready += view[pos:start]
            self.ready += b"\n" * buf.count(b"\n", start, end)
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
