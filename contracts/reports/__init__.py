"""Reporters of a fuzz run: terminal, JUnit XML, a self-contained HTML page, and shard merging."""
