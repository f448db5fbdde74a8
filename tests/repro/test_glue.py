"""glue_numbers: every value glued hidden, numpy scalars as Python scalars, collected."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from assd_repro.plots import glue_numbers


@pytest.fixture
def glued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object, bool]]:
    calls: list[tuple[str, object, bool]] = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: calls.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    return calls


def test_values_are_glued_hidden_as_python_scalars(glued) -> None:
    found = {"earlier": 1}
    out = glue_numbers({"a": np.float64(0.5), "b": np.int64(3), "c": "text", "d": True}, found)
    assert out is found and found == {"earlier": 1, "a": 0.5, "b": 3, "c": "text", "d": True}
    assert [(n, type(v), d) for n, v, d in glued] == [
        ("a", float, False), ("b", int, False), ("c", str, False), ("d", bool, False)]


def test_as_float(glued) -> None:
    out = glue_numbers({"n": 50, "x": np.float32(0.25)}, as_float=True)
    assert out == {"n": 50.0, "x": 0.25} and all(type(v) is float for _, v, _ in glued)
