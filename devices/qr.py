"""QR codes for labels, many at a time: the same module matrices segno makes, fast.

segno takes about 1 ms a code (most of it Reed–Solomon and masking in pure Python), so a
sheet of 1,000 labels spent a second before drawing anything. For a fixed version, error
level, mode and mask, a QR code is an *affine* function of its data bits: every stage after
the data (the byte-mode header of a fixed length, padding, Reed–Solomon error correction,
placement, masking, format and version information) is either fixed or linear over GF(2).
So for codes of the same length

    matrix(d) = matrix(d0) XOR  sum over the bytes p where d differs from d0 of  delta(p, d[p])

and each ``delta`` is made by segno itself from codes that differ from ``d0`` in one bit.
A batch of 1,000 URLs that differ only in their last few characters costs a few dozen
segno calls and then a handful of integer XORs a code. ``tests/test_labels.py`` proves the
matrices equal segno's for random data.

A matrix is one Python integer: row ``r``, column ``c`` is bit ``r * (n + 1) + c`` (1 =
dark); the spare bit at the end of each row is always 0, so a run of dark modules never
joins the next row.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno

QR_MASK = 2  # any mask is valid QR and scanners read all of them; choosing the best costs 8×
QR_OPTIONS = {"error": "m", "mask": QR_MASK, "boost_error": False, "mode": "byte"}
# Below this many codes of one length, segno for each is quicker than preparing the deltas.
BATCH_FROM = 48


@dataclass(frozen=True)
class Matrix:
    size: int  # modules across (no quiet zone)
    bits: int  # see the module docstring

    def rows(self) -> list[list[int]]:
        """The modules as rows of 0/1, as segno's ``matrix`` has them."""
        stride = self.size + 1
        return [
            [(self.bits >> (r * stride + c)) & 1 for c in range(self.size)]
            for r in range(self.size)
        ]

    def runs(self):
        """(row, first column, length) of every horizontal run of dark modules."""
        stride = self.size + 1
        x = self.bits
        while x:
            low = x & -x
            start = low.bit_length() - 1
            x += low  # the carry clears the run and sets the bit just after it
            end = (x & -x).bit_length() - 1
            x -= 1 << end
            row, col = divmod(start, stride)
            yield row, col, end - start


def _to_bits(matrix) -> int:
    n = len(matrix)
    stride = n + 1
    bits = 0
    for r, row in enumerate(matrix):
        value = 0
        for dark in reversed(row):
            value = (value << 1) | (dark & 1)
        bits |= value << (r * stride)
    return bits


def _segno(data: bytes, version=None) -> segno.QRCode:
    return segno.make_qr(data, version=version, **QR_OPTIONS)


def qr_matrix(data: str) -> Matrix:
    """The QR code of ``data`` (UTF-8, byte mode, error level M, mask 2), by segno."""
    code = _segno(data.encode())
    return Matrix(len(code.matrix), _to_bits(code.matrix))


class _SameLength:
    """Codes of one data length, worked out from one reference code and its bit deltas."""

    def __init__(self, reference: bytes):
        code = _segno(reference)
        self.reference = reference
        self.version = code.version
        self.size = len(code.matrix)
        self.base = _to_bits(code.matrix)
        self._bit: dict[tuple[int, int], int] = {}
        self._byte: dict[tuple[int, int], int] = {}

    def _bit_delta(self, position: int, bit: int) -> int:
        key = (position, bit)
        if key not in self._bit:
            changed = bytearray(self.reference)
            changed[position] ^= 1 << bit
            code = _segno(bytes(changed), self.version)
            self._bit[key] = _to_bits(code.matrix) ^ self.base
        return self._bit[key]

    def _delta(self, position: int, value: int) -> int:
        key = (position, value)
        delta = self._byte.get(key)
        if delta is None:
            flipped = value ^ self.reference[position]
            delta = 0
            for bit in range(8):
                if flipped >> bit & 1:
                    delta ^= self._bit_delta(position, bit)
            self._byte[key] = delta
        return delta

    def matrix(self, data: bytes) -> Matrix:
        bits = self.base
        reference = self.reference
        for position, value in enumerate(data):
            if value != reference[position]:
                bits ^= self._delta(position, value)
        return Matrix(self.size, bits)


def qr_matrices(texts: list[str]) -> list[Matrix]:
    """``qr_matrix`` of each text, in order: equal results, much faster for many codes."""
    encoded = [t.encode() for t in texts]
    by_length: dict[int, list[int]] = {}
    for i, data in enumerate(encoded):
        by_length.setdefault(len(data), []).append(i)
    out: list[Matrix | None] = [None] * len(texts)
    for indexes in by_length.values():
        if len(indexes) < BATCH_FROM:
            for i in indexes:
                code = _segno(encoded[i])
                out[i] = Matrix(len(code.matrix), _to_bits(code.matrix))
            continue
        group = _SameLength(encoded[indexes[0]])
        for i in indexes:
            out[i] = group.matrix(encoded[i])
    return out  # type: ignore[return-value]
