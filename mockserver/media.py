"""Tiny but valid media files, for the URLs a mocked job or generation points to.

Built with the standard library only, deterministic, a few hundred bytes each: a PNG (zlib +
CRC-checked chunks), a baseline JPEG (one 8×8 grey block), a WAV (``wave``), an MP3 (MPEG-1
Layer III frames of silence) and an MP4 (ISO BMFF ``ftyp``/``moov``/``mdat`` with one video
track). A decoder opens each of them; none of them shows anything interesting, by design.
"""

from __future__ import annotations

import io
import struct
import wave
import zlib
from collections.abc import Callable

MEDIA_PREFIX = "/_apitwin/media/"


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (64, 128, 192)) -> bytes:
    """An RGB PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * height))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def jpeg() -> bytes:
    """A baseline JPEG of one 8×8 mid-grey block: every coefficient zero, Huffman tables of one code each."""
    quantisation = b"\x00" + bytes([1] * 64)  # table 0, 8-bit precision, all ones
    frame = struct.pack(">BHHB", 8, 8, 8, 1) + bytes([1, 0x11, 0])  # 8×8, one component, quantisation table 0
    dc_table = _huffman_table(0, 0, 0x00)  # DC difference category 0 (value 128 after the level shift)
    ac_table = _huffman_table(1, 0, 0x00)  # end-of-block
    scan_header = bytes([1, 1, 0x00, 0, 63, 0])  # one component, tables 0/0, spectral selection 0..63
    return (
        b"\xff\xd8"
        + _segment(0xDB, quantisation)
        + _segment(0xC0, frame)
        + _segment(0xC4, dc_table)
        + _segment(0xC4, ac_table)
        + _segment(0xDA, scan_header)
        + _pack_bits("0" + "0")  # DC code, then end-of-block
        + b"\xff\xd9"
    )


def _huffman_table(table_class: int, table_id: int, symbol: int) -> bytes:
    counts = bytes([1] + [0] * 15)  # one code of length 1 ("0")
    return bytes([table_class << 4 | table_id]) + counts + bytes([symbol])


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _pack_bits(bits: str) -> bytes:
    bits += "1" * (-len(bits) % 8)  # pad with ones, as the standard asks
    data = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    return data.replace(b"\xff", b"\xff\x00")  # byte stuffing


def wav(seconds: float = 0.25, rate: int = 8000) -> bytes:
    """Mono 16-bit PCM silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


MP3_SAMPLE_RATE = 32000
MP3_BITRATE = 32000
MP3_SAMPLES_PER_FRAME = 1152


def mp3(frames: int = 10) -> bytes:
    """MPEG-1 Layer III, 32 kbit/s, 32 kHz, mono: frames of silence (zero side info, zero main data)."""
    # sync 0xFFF, MPEG-1, Layer III, no CRC | bitrate index 1 (32k), 32 kHz, no padding | mono, original
    header = bytes([0xFF, 0xFB, 0x18, 0xC4])
    length = 144 * MP3_BITRATE // MP3_SAMPLE_RATE
    return (header + bytes(length - len(header))) * frames


def mp4(width: int = 16, height: int = 16, seconds: int = 1) -> bytes:
    """An ISO BMFF file (``isom``/``mp42``): ``ftyp``, ``moov`` with one video track of no samples, empty ``mdat``."""
    timescale = 1000
    duration = seconds * timescale
    identity = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(
        b"mvhd",
        0,
        struct.pack(">IIII", 0, 0, timescale, duration)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + bytes(10)
        + identity
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, duration)
        + bytes(8)
        + struct.pack(">HHHH", 0, 0, 0, 0)
        + identity
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(
        b"mdhd", 0, struct.pack(">IIII", 0, 0, timescale, duration) + struct.pack(">HH", 0x55C4, 0)
    )  # language "und"
    hdlr = _full_box(b"hdlr", 0, struct.pack(">I", 0) + b"vide" + bytes(12) + b"apitwin video\x00")
    vmhd = _full_box(b"vmhd", 1, bytes(8))
    dinf = _box(b"dinf", _full_box(b"dref", 0, struct.pack(">I", 1) + _full_box(b"url ", 1, b"")))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, struct.pack(">I", 0))
        + _full_box(b"stts", 0, struct.pack(">I", 0))
        + _full_box(b"stsc", 0, struct.pack(">I", 0))
        + _full_box(b"stsz", 0, struct.pack(">II", 0, 0))
        + _full_box(b"stco", 0, struct.pack(">I", 0)),
    )
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + _box(b"minf", vmhd + dinf + stbl)))
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41")
    return ftyp + _box(b"moov", mvhd + trak) + _box(b"mdat", b"")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, flags: int, payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", flags & 0xFFFFFF) + payload)


BUILDERS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "png": ("image/png", png),
    "jpg": ("image/jpeg", jpeg),
    "wav": ("audio/wav", wav),
    "mp3": ("audio/mpeg", mp3),
    "mp4": ("video/mp4", mp4),
}
"""File extension → (Content-Type, builder)."""

EXTENSIONS = {media_type: extension for extension, (media_type, _) in BUILDERS.items()} | {"application/jsonl": "jsonl"}

KIND_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("video", "movie", "clip"), "mp4"),
    (("audio", "music", "speech", "voice", "sound", "song"), "mp3"),
    (("image", "picture", "photo", "thumbnail"), "png"),
    (("result", "output", "file"), "jsonl"),
)
"""Words in a field's path that say what its URL serves (the meaning of common names, as in errors.py)."""


def extension_for(path: tuple[str, ...]) -> str | None:
    """The file type a URL field serves, from the names along its path (``video.url`` → ``mp4``)."""
    for name in reversed(path):
        lowered = name.lower()
        for words, extension in KIND_WORDS:
            if any(word in lowered for word in words):
                return extension
    return None


def build(extension: str) -> tuple[str, bytes] | None:
    """(Content-Type, bytes) of the tiny file for ``extension``, or ``None`` for an unknown one."""
    entry = BUILDERS.get(extension)
    if entry is None:
        return None
    media_type, builder = entry
    return media_type, builder()
