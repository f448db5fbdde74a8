"""Plotting and table helpers for the book's notebooks (matplotlib and seaborn, imported lazily).

One module per chapter family (``lambda_plateau``, ``benchmark``, ``supply_chain``); shared
style and formatting live here. Notebooks call these helpers and hold no plotting logic of
their own beyond choosing what to show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "METHOD_COLORS",
    "METHOD_LABELS",
    "format_mean_std",
    "glue_numbers",
    "use_book_style",
]

#: Display names of the methods, in the order the book shows them.
METHOD_LABELS: dict[str, str] = {
    "baseline": "Baseline",
    "retrain": "Retrain",
    "finetune": "Fine-tune",
    "ssd": "SSD",
    "assd": "ASSD",
}

#: One colour per method, the same in every figure of the book (colour-blind safe palette).
METHOD_COLORS: dict[str, str] = {
    "baseline": "#4d4d4d",
    "retrain": "#0072b2",
    "finetune": "#009e73",
    "ssd": "#e69f00",
    "assd": "#d55e00",
}


def use_book_style() -> None:
    """Matplotlib settings shared by every figure: readable fonts, light grid, 150 dpi."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    mpl.rcParams.update(
        {"figure.dpi": 150, "savefig.dpi": 150, "figure.figsize": (7.0, 3.6),
         "axes.titlesize": "medium", "legend.frameon": False}
    )


def format_mean_std(mean: float, std: float | None = None, digits: int = 2) -> str:
    """``"76.38 ± 0.55"``; ``"76.38"`` when std is None or NaN; ``"–"`` when mean is NaN."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def glue_numbers(numbers: Mapping[str, Any], into: dict[str, Any] | None = None, *,
                 as_float: bool = False) -> dict[str, Any]:
    """Glue every ``name -> value`` for the book's text (``{glue:text}`name```), hidden.

    Args:
        numbers: the values; numpy scalars are glued as the Python scalars they hold.
        into: a dict that collects everything glued (for claim tables and checks); updated
            in place.
        as_float: glue every value as a float (for example so that an int renders as ``50.0``
            under a ``:.1f`` format just as a float would).

    Returns:
        ``into`` (a new dict when None), updated with ``numbers``.
    """
    from myst_nb import glue

    collected = {} if into is None else into
    for name, value in numbers.items():
        value = value.item() if hasattr(value, "item") and not isinstance(value, str) else value
        value = float(value) if as_float else value
        glue(name, value, display=False)
        collected[name] = value
    return collected
