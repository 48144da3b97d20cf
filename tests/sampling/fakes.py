"""Fakes shared by the sampling tests: a CUDA runtime and events that record what they were asked."""

import warnings

import numpy as np
import torch

from sampling.pinned import page_size

PAGE = page_size()


class FakeRuntime:
    """Records registrations; fails on request; keeps a sticky last error like the CUDA runtime."""

    def __init__(self, fail_on_call=None, read_only=False):
        self.registered = {}  # start -> size
        self.foreign = []  # (lo, hi) ranges pinned by "someone else"
        self.log = []
        self.calls = 0
        self.fail_on_call = fail_on_call
        self.last_error = 0
        self.read_only = read_only

    def host_register(self, ptr, size, flags):
        self.calls += 1
        if self.fail_on_call == self.calls:
            self.last_error = 2  # cudaErrorMemoryAllocation
            return 2
        lo, hi = ptr // PAGE, -(-(ptr + size) // PAGE)
        for start, sz in self.registered.items():
            if lo < -(-(start + sz) // PAGE) and start // PAGE < hi:
                self.last_error = 712
                return 712
        self.registered[ptr] = size
        self.log.append(("register", ptr, size, flags))
        return 0

    def host_unregister(self, ptr):
        self.log.append(("unregister", ptr))
        return 0 if self.registered.pop(ptr, None) is not None else 713

    def clear_error(self):
        err, self.last_error = self.last_error, 0
        return err

    def error_string(self, code):
        return f"fake error {code}"

    def is_host_registered(self, ptr):
        spans = [(s, s + n) for s, n in self.registered.items()] + self.foreign
        return any(lo // PAGE * PAGE <= ptr < -(-hi // PAGE) * PAGE for lo, hi in spans)

    def read_only_supported(self):
        return self.read_only


class FakeEvent:
    def __init__(self, log):
        self.log, self.done = log, False

    def query(self):
        return self.done

    def synchronize(self):
        self.log.append(("synchronize",))
        self.done = True


def read_only_tensor(path):
    """A tensor over a read-only ``np.memmap`` of ``path`` (torch warns once that it is not writable)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(np.load(path, mmap_mode="r"))
