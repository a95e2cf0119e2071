#!/usr/bin/python3
# llmsbx-bench-asyncio.py: ten runs on ten sessions gathered with asyncio,
# next to ten runs one after the other on one session, in one process.
#
# Both sides are the same runs through Llmsbx.AsyncSandboxSession: the
# concurrent one shows what the _async methods overlap (the engine's work
# and the code's own waiting), the sequential one is its floor. Sessions are
# opened before and closed after the timed part. Needs dockerd and
# llmsbx/python:bookworm; prints, asserts nothing.
import argparse
import asyncio
import statistics
import sys
import time

import gi

gi.require_version('Llmsbx', '1.0')
from gi.repository import Llmsbx  # noqa: E402

WORKLOADS = [
    ('print', 'print(1)'),
    ('sleep 0.5 s', 'import time\ntime.sleep(0.5)\nprint(1)'),
]


async def sequential(session, code, count):
    started = time.perf_counter()
    for _ in range(count):
        result = await session.run(code)
        assert result.exit_code == 0, result.stderr
    return time.perf_counter() - started


async def concurrent(sessions, code):
    started = time.perf_counter()
    results = await asyncio.gather(*(session.run(code) for session in sessions))
    elapsed = time.perf_counter() - started
    for result in results:
        assert result.exit_code == 0, result.stderr
    return elapsed


async def main(args):
    sessions = [Llmsbx.AsyncSandboxSession(lang='python', backend=args.backend,
                                           skip_environment_setup=True)
                for _ in range(args.sessions)]
    await asyncio.gather(*(session.open() for session in sessions))
    try:
        print('libllmsbx bench-asyncio: backend %s, %d sessions, %d rounds (median)'
              % (sessions[0].session.props.backend, args.sessions, args.rounds))
        print('%-14s %14s %14s %8s' % ('workload', 'sequential', 'gathered', 'ratio'))
        for name, code in WORKLOADS:
            await sessions[0].run(code)  # warm
            one = statistics.median([await sequential(sessions[0], code, args.sessions)
                                     for _ in range(args.rounds)])
            many = statistics.median([await concurrent(sessions, code) for _ in range(args.rounds)])
            print('%-14s %11.1f ms %11.1f ms %7.2fx' % (name, one * 1e3, many * 1e3, many / one))
    finally:
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--backend', default=Llmsbx.SandboxBackend.DOCKER)
    parser.add_argument('--sessions', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=3)
    sys.exit(asyncio.run(main(parser.parse_args())))
