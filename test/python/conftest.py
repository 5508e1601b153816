"""Shared fixtures of the deltanet Python tests (the package comes from PYTHONPATH)."""

import os
import sys

import numpy as np
import pytest

# The project's own generators (test/lib) provide independent float64 references.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))


@pytest.fixture
def rng(request):
    """A generator seeded from the test's name: reproducible, different per test."""
    seed = sum(map(ord, request.node.nodeid)) % (2**32)
    return np.random.default_rng(seed)
