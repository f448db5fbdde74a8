"""Lambda-insensitivity study (Fig. 2) at the smoke profile: table, fANOVA, resumption, seeding."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pandas as pd
import pytest

from assd_core import forget_importances
from assd_repro.experiments import PROFILES, ArtifactCache, image_pipeline
from assd_repro.experiments.lambda_study import (
    TRIAL_COLUMNS,
    LambdaStudyConfig,
    LambdaStudyResult,
    lambda_study_result,
    lambda_study_rows,
    objective_value,
    run_lambda_study,
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> ArtifactCache:
    """One baseline for the module: every study below shares its model and importances."""
    return ArtifactCache(tmp_path_factory.mktemp("cache"))


FORGET_PASSES: list[int] = []


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory, cache: ArtifactCache) -> LambdaStudyResult:
    """The smoke study, counting the forget-importance passes."""
    def counted(model, loader, full):  # noqa: ANN001, ANN202
        FORGET_PASSES.append(len(loader.dataset))
        return forget_importances(model, loader, full)

    config = LambdaStudyConfig.for_profile("smoke")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(image_pipeline, "forget_importances", counted)
        return run_lambda_study(config, results_dir=tmp_path_factory.mktemp("smoke"),
                                cache=cache, progress=False)


@pytest.mark.slow
def test_table_importances_and_files(smoke: LambdaStudyResult) -> None:
    config = smoke.config
    trials = smoke.trials
    assert list(trials.columns) == TRIAL_COLUMNS
    assert trials["trial"].tolist() == list(range(config.n_trials))
    assert trials["alpha"].between(*config.alpha_range).all()
    assert trials["lam"].between(*config.lam_range).all()
    assert trials["fraction_selected"].between(0, 1).all()
    for _, row in trials.iterrows():
        assert row["objective"] == pytest.approx(objective_value(config.objective, row))
    assert set(smoke.param_importances) == {"alpha", "lam"}
    assert math.fsum(smoke.param_importances.values()) == pytest.approx(1.0)
    assert set(smoke.importances["target"]) == {"objective", "Dr", "Df", "MIA"}
    assert set(smoke.baseline) == {"Dr", "Df", "MIA"}
    # one digit of ten is forgotten: |Df| / |D| = 0.1
    assert smoke.assd["percentile"] == pytest.approx(100 - math.log(1 + 100 * 0.1))
    assert smoke.best["objective"] == trials["objective"].max()
    assert (smoke.folder / "study.db").is_file() and (smoke.folder / "config.json").is_file()
    on_disk = pd.read_parquet(smoke.folder / f"trials-{config.n_trials}.parquet")
    pd.testing.assert_frame_equal(on_disk, trials)


@pytest.mark.slow
def test_result_comes_back_from_its_rows(smoke: LambdaStudyResult) -> None:
    rows = lambda_study_rows(smoke)
    back = lambda_study_result(rows.assign(scenario=0, wall_s=1.0), smoke.config)
    pd.testing.assert_frame_equal(back.trials, smoke.trials, check_dtype=False)
    pd.testing.assert_frame_equal(back.importances, smoke.importances.reset_index(drop=True),
                                  check_dtype=False)
    assert back.baseline == pytest.approx(smoke.baseline)
    assert back.assd == pytest.approx(smoke.assd) and back.best == pytest.approx(smoke.best)
    assert back.param_importances == pytest.approx(smoke.param_importances, nan_ok=True)
    pd.testing.assert_frame_equal(lambda_study_rows(back), rows)
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['part'\]"):
        lambda_study_result(rows.drop(columns="part"), smoke.config)
    with pytest.raises(ValueError, match="hold no assd rows"):
        lambda_study_result(rows[rows["part"] != "assd"], smoke.config)


def test_one_forget_importance_pass_per_study(smoke: LambdaStudyResult) -> None:
    """[]_Df does not depend on alpha or lambda: one pass serves every trial."""
    assert len(FORGET_PASSES) == 1 and smoke.config.n_trials > 1


@pytest.mark.slow
def test_rerun_loads_without_new_trials(smoke: LambdaStudyResult, cache: ArtifactCache) -> None:
    again = run_lambda_study(smoke.config, results_dir=smoke.folder.parents[1], cache=cache,
                             progress=False)
    pd.testing.assert_frame_equal(again.trials, smoke.trials)
    study = optuna.load_study(study_name=smoke.study_name, storage=smoke.storage)
    assert len(study.trials) == smoke.config.n_trials


@pytest.mark.slow
def test_resumed_study_equals_fresh_one(tmp_path: Path, smoke: LambdaStudyResult,
                                        cache: ArtifactCache) -> None:
    """3 trials, then the same study with 6: only 3 more run, and the 6 equal an uninterrupted
    study's (the sampler is seeded per trial, so the same seed gives the same alphas)."""
    short = LambdaStudyConfig.for_profile("smoke", n_trials=3)
    assert short.study_hash() == smoke.config.study_hash()
    first = run_lambda_study(short, results_dir=tmp_path, cache=cache, progress=False)
    assert len(first.trials) == 3
    resumed = run_lambda_study(smoke.config, results_dir=tmp_path, cache=cache, progress=False)
    study = optuna.load_study(study_name=resumed.study_name, storage=resumed.storage)
    assert len(study.trials) == smoke.config.n_trials == len(resumed.trials)
    pd.testing.assert_frame_equal(resumed.trials.head(3), first.trials)
    pd.testing.assert_frame_equal(resumed.trials, smoke.trials)  # fresh study, other folder
    assert resumed.param_importances == smoke.param_importances


@pytest.mark.slow
def test_other_sampler_seed_other_alphas(tmp_path: Path, cache: ArtifactCache,
                                         smoke: LambdaStudyResult) -> None:
    config = LambdaStudyConfig.for_profile("smoke", n_trials=2, sampler_seed=1)
    assert config.study_hash() != smoke.config.study_hash()
    other = run_lambda_study(config, results_dir=tmp_path, cache=cache, progress=False)
    assert other.trials["alpha"].tolist() != smoke.trials["alpha"].head(2).tolist()


@pytest.mark.slow
def test_explicit_storage_url(tmp_path: Path, cache: ArtifactCache) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    config = LambdaStudyConfig.for_profile("smoke", n_trials=1, storage=url)
    result = run_lambda_study(config, results_dir=tmp_path / "results", cache=cache, progress=False)
    assert result.storage == url and (tmp_path / "shared.db").is_file()
    assert not (result.folder / "study.db").exists()
    assert math.isnan(result.param_importances["alpha"])  # one trial: nothing to attribute


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_trials": 0}, "n_trials=0"),
        ({"alpha_range": (0.0, 100.0)}, r"alpha_range=\(0.0, 100.0\)"),
        ({"alpha_range": (10.0, 1.0)}, r"alpha_range=\(10.0, 1.0\)"),
        ({"lam_range": (-1.0, 5.0)}, r"lam_range=\(-1.0, 5.0\)"),
        ({"objective": "accuracy"}, "objective='accuracy'"),
        ({"sampler_seed": -1}, "sampler_seed=-1"),
        ({"storage": ""}, "storage=''"),
    ],
)
def test_bad_values_raise(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LambdaStudyConfig.for_profile("smoke", **overrides)


@pytest.mark.slow
def test_unknown_class_raises_before_any_trial(tmp_path: Path) -> None:
    config = LambdaStudyConfig.for_profile("smoke", forget_class="rocket")
    with pytest.raises(ValueError, match="unknown class 'rocket'"):
        run_lambda_study(config, results_dir=tmp_path, cache=ArtifactCache(None), progress=False)


def test_hash_differs_between_profiles_and_setup_dicts_are_read() -> None:
    hashes = {p: LambdaStudyConfig.for_profile(p).content_hash() for p in PROFILES}
    assert len(set(hashes.values())) == 3
    smoke = LambdaStudyConfig.for_profile("smoke")
    as_dict = LambdaStudyConfig.for_profile("smoke", setup=smoke.to_dict()["setup"])
    assert as_dict == smoke and as_dict.content_hash() == smoke.content_hash()
    assert LambdaStudyConfig.for_profile("smoke", n_trials=99).study_hash() == smoke.study_hash()
    assert LambdaStudyConfig.for_profile("paper").setup.dataset == "cifar100"
