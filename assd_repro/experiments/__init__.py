"""Experiment engine and the paper's experiments.

Engine: configs with three profiles and a content hash (:class:`ExperimentConfig`), atomic
per-scenario result files (:class:`ResultStore`), a resumable runner that executes in-process or
on Dask (:func:`run_scenarios`) and a content-addressed cache of models and importances
(:class:`ArtifactCache`).

Experiments (each a config class and a ``run_*`` function):

- :mod:`~assd_repro.experiments.lambda_study`: Optuna study of SSD's alpha and lambda (Fig. 2);
- :mod:`~assd_repro.experiments.alpha_plateau`: SSD over a grid of alpha, ASSD's pick (Fig. 3);
- :mod:`~assd_repro.experiments.benchmark`: full-class, sub-class, random forgetting (Tables 1-3);
- :mod:`~assd_repro.experiments.error_unlearning`: supply-chain label errors (Table 4, Figs. 4-5);
- :mod:`~assd_repro.experiments.detect_unlearn`: detect label errors with cleanlab, then ASSD;
- :mod:`~assd_repro.experiments.method_comparison`: Table 4's scenarios with every unlearning
  method, defaults or tuned (:mod:`~assd_repro.experiments.method_tuning`), where the wrong-label
  rows go.
"""

from assd_repro.experiments.alpha_plateau import (
    AlphaPlateauConfig,
    plateau_bounds,
    run_alpha_plateau,
)
from assd_repro.experiments.benchmark import (
    BenchmarkConfig,
    paper_ssd_alpha,
    run_benchmark,
)
from assd_repro.experiments.benchmark_report import (
    compare_benchmark_with_paper,
    paper_analogue,
    summarize,
)
from assd_repro.experiments.detect_unlearn import (
    DetectUnlearnConfig,
    detection_scores,
    run_detect_unlearn,
    summarize_detection,
)
from assd_repro.experiments.engine import *  # noqa: F403 - the engine's API, re-exported
from assd_repro.experiments.engine import __all__ as _ENGINE_API
from assd_repro.experiments.error_stats import (
    bootstrap_test_rows,
    cell_statistics,
    compare_sizes,
    compare_table4_with_paper,
    holm_adjust,
    paired_comparisons,
    paired_mde,
    scenario_gains,
    verdict,
)
from assd_repro.experiments.error_unlearning import (
    ErrorUnlearningConfig,
    run_error_unlearning,
    tune_hyperparameters,
)
from assd_repro.experiments.lambda_study import (
    LambdaStudyConfig,
    LambdaStudyResult,
    run_lambda_study,
)
from assd_repro.experiments.method_comparison import (
    MethodComparisonConfig,
    confusion_summary,
    method_gains,
    run_method_comparison,
)
from assd_repro.experiments.method_tuning import tune_all, tune_method

__all__ = [
    "AlphaPlateauConfig",
    "BenchmarkConfig",
    "DetectUnlearnConfig",
    "ErrorUnlearningConfig",
    "LambdaStudyConfig",
    "LambdaStudyResult",
    "MethodComparisonConfig",
    "bootstrap_test_rows",
    "cell_statistics",
    "compare_sizes",
    "compare_benchmark_with_paper",
    "compare_table4_with_paper",
    "confusion_summary",
    "detection_scores",
    "paper_ssd_alpha",
    "plateau_bounds",
    "run_alpha_plateau",
    "run_benchmark",
    "run_detect_unlearn",
    "run_error_unlearning",
    "run_lambda_study",
    "run_method_comparison",
    "holm_adjust",
    "method_gains",
    "paired_comparisons",
    "paired_mde",
    "scenario_gains",
    "verdict",
    "summarize",
    "summarize_detection",
    "tune_all",
    "tune_hyperparameters",
    "tune_method",
]
__all__ += _ENGINE_API
