"""Recorded traffic as plain values: HAR 1.2 files and schemathesis cassettes, read once for every reader.

The mock replays recordings, the proxy writes them, ``check-traffic`` and ``specs drift`` judge them; this
package knows only the file formats, so none of those has to import another to read a recording.
"""
