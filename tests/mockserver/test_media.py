"""The tiny media files parse as what they claim to be (standard-library decoders and parsers)."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from apitwin.mockserver import media


def test_png_has_its_signature_and_every_chunk_crc_holds() -> None:
    data = media.png(width=3, height=2, rgb=(1, 2, 3))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        payload = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + payload) & 0xFFFFFFFF == crc, kind
        chunks[kind] = payload
        position += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (width, height, depth, colour) == (3, 2, 8, 2)
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert pixels == (b"\x00" + bytes([1, 2, 3]) * 3) * 2


def test_wav_opens_with_the_wave_module() -> None:
    with wave.open(io.BytesIO(media.wav(seconds=0.5, rate=8000))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 8000)
        assert reader.getnframes() == 4000
        assert set(reader.readframes(4000)) == {0}


def test_mp3_is_a_run_of_valid_mpeg1_layer3_frame_headers() -> None:
    data = media.mp3(frames=5)
    bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
    rates = [44100, 48000, 32000]
    position, frames = 0, 0
    while position < len(data):
        header = int.from_bytes(data[position : position + 4], "big")
        assert header >> 21 == 0x7FF, "frame sync"
        assert (header >> 19) & 3 == 3 and (header >> 17) & 3 == 1, "MPEG-1 Layer III"
        bitrate = bitrates[(header >> 12) & 15] * 1000
        rate = rates[(header >> 10) & 3]
        padding = (header >> 9) & 1
        position += 144 * bitrate // rate + padding
        frames += 1
    assert position == len(data) and frames == 5


def _boxes(data: bytes) -> dict[bytes, bytes]:
    found, position = {}, 0
    while position < len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        assert size >= 8 and position + size <= len(data), kind
        found[kind] = data[position + 8 : position + size]
        position += size
    return found


def test_mp4_is_a_well_formed_iso_bmff_tree_with_a_video_track() -> None:
    top = _boxes(media.mp4())
    assert list(top) == [b"ftyp", b"moov", b"mdat"]
    assert top[b"ftyp"][:4] == b"isom"
    moov = _boxes(top[b"moov"])
    (timescale, duration) = struct.unpack(">II", moov[b"mvhd"][12:20])
    assert (timescale, duration) == (1000, 1000)
    mdia = _boxes(_boxes(moov[b"trak"])[b"mdia"])
    assert mdia[b"hdlr"][8:12] == b"vide"
    assert set(_boxes(_boxes(mdia[b"minf"])[b"stbl"])) == {b"stsd", b"stts", b"stsc", b"stsz", b"stco"}


def test_jpeg_segments_are_well_formed_and_describe_an_8x8_baseline_image() -> None:
    data = media.jpeg()
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    position, markers = 2, []
    while data[position + 1] != 0xDA:
        assert data[position] == 0xFF
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker == 0xC0:
            precision, height, width, components = struct.unpack(">BHHB", data[position + 4 : position + 10])
            assert (precision, height, width, components) == (8, 8, 8, 1)
        markers.append(marker)
        position += 2 + length
    assert markers == [0xDB, 0xC0, 0xC4, 0xC4]


@pytest.mark.parametrize(
    ("path", "extension"),
    [
        (("video", "url"), "mp4"),
        (("audio_file", "url"), "mp3"),
        (("image_url",), "png"),
        (("results_url",), "jsonl"),
        (("homepage",), None),
    ],
)
def test_the_file_type_comes_from_the_names_along_the_field_path(path: tuple[str, ...], extension: str | None) -> None:
    assert media.extension_for(path) == extension


def test_build_names_the_content_type() -> None:
    assert media.build("mp4")[0] == "video/mp4"  # type: ignore[index]
    assert media.build("wav")[0] == "audio/wav"  # type: ignore[index]
    assert media.build("exe") is None
