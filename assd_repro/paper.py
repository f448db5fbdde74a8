"""The paper's result tables, shipped with the package as cited data.

Schoepf, Foster and Brintrup (2024), "Parameter-tuning-free data entry error unlearning with
adaptive selective synaptic dampening", Tables 1-4, transcribed exactly as printed (values in
percent; see ``paper_data/README.md`` for the transcription notes). The book puts our numbers
beside these; it must build from the repository alone, hence the copy.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import pandas as pd

__all__ = ["PAPER_TABLES", "paper_table"]

PaperTable = Literal["fullclass", "subclass", "random", "error_unlearning"]

PAPER_TABLES: dict[str, str] = {
    "fullclass": "table1_fullclass.csv",
    "subclass": "table2_subclass.csv",
    "random": "table3_random.csv",
    "error_unlearning": "table4_error_unlearning.csv",
}


def paper_table(name: PaperTable) -> pd.DataFrame:
    """One of the paper's tables as a DataFrame.

    Tables 1-3 (``fullclass``, ``subclass``, ``random``) have the columns ``dataset, task,
    forget_class, label_in_paper, model, method, metric, mean, std`` (method in baseline,
    retrain, assd, ssd; metric in Dr, Df, MIA). Table 4 (``error_unlearning``) has
    ``model_size, split, error_pct`` and ``{baseline,retrain,finetune,unlearn}_{mean,std}``
    plus ``p_value`` (a string: ``"<0.05"`` or a number, as printed).

    Raises:
        ValueError: unknown table name (the message lists the valid ones).
    """
    if name not in PAPER_TABLES:
        raise ValueError(f"unknown paper table {name!r}; choose one of {', '.join(PAPER_TABLES)}")
    source = resources.files("assd_repro") / "paper_data" / PAPER_TABLES[name]
    with source.open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"p_value": str, "forget_class": str, "label_in_paper": str},
                           keep_default_na=False, na_values={"mean": [""], "std": [""]})
