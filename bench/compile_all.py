"""``python -m bench.compile_all FILE``: the mock's memory once every operation of a spec has been compiled.

``apitwin serve`` builds an operation's validators, generators and behaviours on its first request, so the RSS
after start is the floor. This builds all of them (what a server ends up with once a fuzzer has visited every
operation) and prints ``{"seconds": …, "rss_mib": …}``: the ceiling the RSS target is also held to.
"""

from __future__ import annotations

import json
import os
import sys
import time

from apitwin.mockserver.app import create_app
from bench import proc


def main(path: str) -> dict[str, float]:
    server = create_app([path], state="memory").server
    started = time.perf_counter()
    for api in server.apis.values():
        for operation in api.operations:
            for body in operation.bodies.values():
                _ = body.validator, body.variants
            for parameter in operation.parameters:
                _ = parameter.validator
            for response in operation.responses.values():
                for media in response.media.values():
                    _ = media.stream, media.generator, media.validator
            server.behaviours_of(api, operation)
    return {"seconds": time.perf_counter() - started, "rss_mib": proc.rss_kib(os.getpid()) / 1024}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
