"""uvicorn, but returning when stopped, so the proxy can still summarise, write its reports and exit."""

from __future__ import annotations

from types import FrameType

import uvicorn


class ReturningServer(uvicorn.Server):
    """Stops on SIGINT/SIGTERM and returns from ``run()``; uvicorn itself raises the signal again after its
    graceful shutdown, which would end the process before the summary, the reports and the exit code."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
