"""Benchmarks of the mock server: ``python -m bench`` (``make bench``).

``http``: apitwin against Stoplight Prism and a bare Starlette endpoint under wrk, as ratios.
``sse``: 1,000 concurrent event streams on one worker (completion, first event, memory).
Results are written to ``bench/results/`` as Markdown tables plus the raw numbers as JSON.
"""
