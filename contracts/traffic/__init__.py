"""Offline checks of recorded traffic (HAR files, schemathesis cassettes) against a spec."""
