"""Running a coordinator's template code in a separate process with limits that really stop it.

A template is code: `{% for %}` loops, filters and string methods run inside the renderer, and a
loop that does not end, a filter asked for a gigabyte of text or a string multiplied a billion
times never returns to Python between instructions, so no signal or tracing budget can stop it.
A forked worker can always be stopped: it is killed when the time limit passes, its address space
is capped, and only the small result (the letter's text) comes back through a pipe. The parent —
which holds the workspace's transaction and its write lock — waits at most `seconds`.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Progress = Callable[[str], None]
_HEADER = struct.Struct("!Q")


class WorkerLimitError(Exception):
    """The work was stopped: it ran out of time, or the worker died (out of memory, say)."""

    def __init__(self, label: str, problem: str) -> None:
        self.label, self.problem = label, problem
        super().__init__(f"{label}: {problem}" if label else problem)


def can_isolate() -> bool:
    """Whether work can run in a worker process here (POSIX fork); elsewhere it runs in-process,
    without the time and memory limits."""
    return hasattr(os, "fork") and hasattr(os, "waitpid")


def run_limited(
    task: Callable[[Progress], T], *, seconds: float, memory_bytes: int, step_seconds: float | None = None
) -> T:
    """Run `task(progress)` in a forked worker and return its (picklable) result, or raise the
    exception it raised. `progress(label)` records what the worker is busy with, so that a time
    limit can name it. Raises `WorkerLimitError` when `seconds` pass in all, or `step_seconds`
    pass after the last `progress` report (the worker is killed), or the worker dies without an
    answer; the worker's memory grows by at most `memory_bytes`.

    `step_seconds` limits each step of work that does many (a site: each page's template), so
    that one step cannot take the whole budget meant for thousands.
    """
    if not can_isolate():
        return task(lambda _label: None)
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # Python 3.12 warns about fork() in a threaded process; the
        warnings.simplefilter("ignore", DeprecationWarning)  # worker touches no lock a thread holds
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the worker, reported through the pipe
        _work(task, read_end, write_end, memory_bytes)
    os.close(write_end)
    try:
        result: T = _await(pid, read_end, seconds, step_seconds)
        return result
    finally:
        os.close(read_end)


def _work(task: Callable[[Progress], Any], read_end: int, write_end: int, memory_bytes: int) -> None:
    try:
        os.close(read_end)
        _limit_memory(memory_bytes)

        def progress(label: str) -> None:
            _send(write_end, ("progress", label))

        try:
            outcome: tuple[str, Any] = ("ok", task(progress))
        except BaseException as exc:  # everything goes back to the parent, which decides
            outcome = ("error", _portable(exc))
        _send(write_end, outcome)
    finally:
        os._exit(0)  # no atexit handlers, no finalisers of the parent's connections


def _limit_memory(extra: int) -> None:  # pragma: no cover - runs in the worker
    try:
        import resource

        pages = int(Path("/proc/self/statm").read_text().split()[0])
        current = pages * os.sysconf("SC_PAGE_SIZE")
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = current + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no rlimits here: the time limit still holds


def _portable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _send(fd: int, message: object) -> None:  # pragma: no cover - runs in the worker
    payload = pickle.dumps(message)
    data = _HEADER.pack(len(payload)) + payload
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _await(pid: int, fd: int, seconds: float, step_seconds: float | None) -> Any:
    started = time.monotonic()
    deadline = started + seconds
    step_deadline = deadline if step_seconds is None else started + step_seconds
    buffer = bytearray()  # grows in place: a large result (a whole site) arrives in many chunks
    label = ""
    try:
        while True:
            while len(buffer) >= _HEADER.size and len(buffer) >= _HEADER.size + _HEADER.unpack_from(buffer)[0]:
                size = _HEADER.unpack_from(buffer)[0]
                with memoryview(buffer) as view, view[_HEADER.size : _HEADER.size + size] as payload:
                    kind, value = pickle.loads(payload)  # read in place: no copy of a large result
                del buffer[: _HEADER.size + size]
                if kind == "progress":
                    label = value
                    if step_seconds is not None:
                        step_deadline = min(deadline, time.monotonic() + step_seconds)
                elif kind == "ok":
                    return value
                else:
                    raise value
            now = time.monotonic()
            if now >= deadline:
                problem = f"took longer than {seconds:g} seconds and was stopped (a loop that does not end?)"
                raise WorkerLimitError(label, problem)
            if now >= step_deadline:
                problem = f"took longer than {step_seconds:g} seconds and was stopped (a loop that does not end?)"
                raise WorkerLimitError(label, problem)
            ready, _, _ = select.select([fd], [], [], min(deadline, step_deadline) - now)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise WorkerLimitError(label, "stopped without an answer (out of memory?)")
            buffer += chunk
            if step_seconds is not None:  # the answer is arriving: its size is not the step's time
                step_deadline = min(deadline, time.monotonic() + step_seconds)
    finally:
        _reap(pid)


def _reap(pid: int) -> None:
    try:
        finished, _status = os.waitpid(pid, os.WNOHANG)
        if finished == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass
