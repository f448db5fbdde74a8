"""DataCo supply-chain data: loader, the paper and leak-free protocols, the synthetic table.

The protocols are checked against a literal transcription of the authors' notebook
(:func:`authors_recipe`, slow and obvious) on the real 6,000-row sample and on synthetic data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MinMaxScaler

from assd_repro.data.dataco import (
    DATACO_COLUMNS,
    DATACO_DATE_COLUMNS,
    DATACO_DOI,
    DATACO_LEAK_COLUMNS,
    DATACO_PAPER_EXCLUDED_COLUMNS,
    DATACO_PAPER_NUMERIC_COLUMNS,
    DataCoSplit,
    delay_classes,
    format_dataco_dates,
    leak_free_protocol,
    load_dataco,
    paper_protocol,
    parse_dataco_dates,
)
from assd_repro.data.dataco_synth import DATACO_SHIPPING_MODES, make_dataco_like

DATACO_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dataco"
SAMPLE = DATACO_DIR / "DataCoSupplyChainDataset.sample6000.csv"
SYNTH_ROWS = 60_000  # about 20,000 COMPLETE orders: accuracies within about 1 point by seed


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    if not SAMPLE.is_file():
        pytest.skip(f"real DataCo sample not found at {SAMPLE} (needs ../shared beside the repo)")
    return load_dataco(SAMPLE)


@pytest.fixture(scope="module")
def synth() -> pd.DataFrame:
    return make_dataco_like(SYNTH_ROWS, seed=0)


def lr_accuracy(split: DataCoSplit) -> float:
    """Test accuracy (%) of a logistic regression fitted on the train rows."""
    model = LogisticRegression(max_iter=3000).fit(split.x_train, split.y_train)
    return 100.0 * model.score(split.x_test, split.y_test)


def authors_recipe(df: pd.DataFrame, *, leak_free: bool = False) -> tuple[np.ndarray, ...]:
    """The authors' notebook cell, transcribed (``leak_free`` drops DATACO_LEAK_COLUMNS too)."""
    df = df.copy()
    df["delay"] = df["Days for shipping (real)"] - df["Days for shipment (scheduled)"]
    df = df.drop(["Days for shipping (real)"], axis=1)
    df["shipping date (DateOrders)"] = pd.to_datetime(df["shipping date (DateOrders)"])
    ship = df["shipping date (DateOrders)"]
    df["time_idx"] = ship.dt.day * 1 + ship.dt.year * 365 + ship.dt.month * 31
    df["time_idx"] -= df["time_idx"].min()
    df = df[df["Order Status"] == "COMPLETE"]
    drop = set(DATACO_PAPER_EXCLUDED_COLUMNS)
    if leak_free:
        drop |= set(DATACO_LEAK_COLUMNS) - {"time_idx"}
    feature_list = [c for c in df.columns if c not in drop]
    categorical = [c for c in feature_list if c not in (*DATACO_PAPER_NUMERIC_COLUMNS, "delay")]
    df_poc = df[feature_list]
    for feature in categorical:
        if len(df_poc[feature].unique()) > 1000:
            df_poc = df_poc.drop([feature], axis=1)
        else:
            df_poc = pd.get_dummies(df_poc, columns=[feature])
    df_poc = df_poc.sort_values("time_idx").reset_index(drop=True)
    test_size = int(len(df_poc) * 20 / 100)
    train_df, test_df = df_poc[:-test_size], df_poc[-test_size:]
    not_x = ["delay", "time_idx"] if leak_free else ["delay"]
    x_train, x_test = train_df.drop(not_x, axis=1), test_df.drop(not_x, axis=1)
    scaler = MinMaxScaler()
    x_train = pd.DataFrame(scaler.fit_transform(x_train), columns=x_train.columns)
    x_test = pd.DataFrame(scaler.transform(x_test), columns=x_test.columns)
    sel = VarianceThreshold(0.12345)
    x_train = pd.DataFrame(sel.fit_transform(x_train), columns=x_train.columns[sel.get_support()])
    x_test = pd.DataFrame(sel.transform(x_test), columns=x_test.columns[sel.get_support()])
    y_train, y_test = train_df["delay"].copy(), test_df["delay"].copy()
    for y, d in ((y_train, train_df["delay"]), (y_test, test_df["delay"])):
        y[d < 0], y[d == 0], y[d >= 1] = 0, 1, 2
    return (
        x_train.to_numpy(np.float32), x_test.to_numpy(np.float32), y_train.to_numpy(np.int64),
        y_test.to_numpy(np.int64), train_df["time_idx"].to_numpy(), np.array(x_train.columns),
    )  # fmt: skip


# ---------------------------------------------------------------- loader and dates


def test_parse_dates_both_formats_and_iso() -> None:
    got = parse_dataco_dates(["1/31/2018 22:56", "02-03-2018", "2018-01-31 22:56:00", None, ""])
    expected = ["2018-01-31 22:56", "2018-02-03 00:00", "2018-01-31 22:56", "NaT", "NaT"]
    assert got.tolist()[:3] == [pd.Timestamp(v) for v in expected[:3]]
    assert got.isna().tolist() == [False, False, False, True, True]
    with pytest.raises(ValueError, match="31/31/2018"):
        parse_dataco_dates(["1/31/2018 22:56", "31/31/2018"], name="order date")


def test_format_dates_like_the_file() -> None:
    dates = pd.Series(pd.to_datetime(["2018-01-31 22:56", "2015-03-04 07:05", None]))
    assert format_dataco_dates(dates).tolist()[:2] == ["1/31/2018 22:56", "3/4/2015 7:05"]
    assert format_dataco_dates(dates).isna().tolist() == [False, False, True]


@pytest.mark.parametrize("dates", [pd.Series(["1/31/2018 22:56"]), ["1/31/2018 22:56"]])
def test_format_dates_refuses_strings_naming_parse_dataco_dates(dates) -> None:
    with pytest.raises(ValueError, match=r"dates (has dtype \w+|is a list); format_dataco_dates "
                                         r"needs a datetime64 series: pass parse_dataco_dates"):
        format_dataco_dates(dates)


def test_delay_classes_refuses_missing_delays() -> None:
    with pytest.raises(ValueError, match="delay has missing values"):
        delay_classes(np.array([1.0, np.nan]))


@pytest.mark.shared
def test_loader_reads_the_real_sample(real: pd.DataFrame) -> None:
    assert real.shape == (6000, 53) and tuple(real.columns) == DATACO_COLUMNS
    for col in DATACO_DATE_COLUMNS:
        assert pd.api.types.is_datetime64_any_dtype(real[col]) and real[col].notna().all()
    assert real["Order Id"].dtype == np.int64 and real["Order Zipcode"].dtype == np.float64
    assert real["Order Country"].isin(["México"]).any()  # non-ASCII text decoded
    raw = load_dataco(SAMPLE, parse_dates=False)
    for col in DATACO_DATE_COLUMNS:
        assert format_dataco_dates(real[col]).tolist() == raw[col].tolist()


@pytest.mark.shared
def test_latin1_copy_and_messy_header_load_identically(real: pd.DataFrame, tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    names = header.split(",")
    names[1] = "Days for shipping (real)     "  # as in the description file
    names[51] = "Shipping date (DateOrders)   "
    latin = tmp_path / "DataCoSupplyChainDataset.csv"
    latin.write_bytes((",".join(names) + "\n" + rest).encode("latin-1"))
    with pytest.raises(UnicodeDecodeError):
        latin.read_bytes().decode("utf-8")
    pd.testing.assert_frame_equal(load_dataco(tmp_path), real)


@pytest.mark.shared
def test_missing_column_is_named(real: pd.DataFrame, tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE)  # the file as it is (``real`` skips when it is absent)
    frame.drop(columns=["Order Region"]).to_csv(tmp_path / "cut.csv", index=False)
    with pytest.raises(ValueError, match=r"missing: \['Order Region'\]"):
        load_dataco(tmp_path / "cut.csv")


def test_index_column_is_dropped_and_other_extras_warn(tmp_path: Path) -> None:
    frame = make_dataco_like(50, seed=1, parse_dates=False)
    frame.to_csv(tmp_path / "with_index.csv")  # adds "Unnamed: 0"
    pd.testing.assert_frame_equal(
        load_dataco(tmp_path / "with_index.csv"), make_dataco_like(50, seed=1), check_exact=False
    )
    frame.assign(note="x").to_csv(tmp_path / "extra.csv", index=False)
    with pytest.warns(UserWarning, match="note"):
        load_dataco(tmp_path / "extra.csv")


def test_bad_path_says_where_to_get_the_data(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "DataCo.csv"
    with pytest.raises(FileNotFoundError) as info:
        load_dataco(missing)
    message = str(info.value)
    assert str(missing) in message and DATACO_DOI in message
    assert "DataCoSupplyChainDataset.csv" in message and "CC BY 4.0" in message


# ---------------------------------------------------------------- identities


def check_identities(df: pd.DataFrame) -> None:
    real, scheduled = df["Days for shipping (real)"], df["Days for shipment (scheduled)"]
    mode_days = {mode: days for mode, (_, days) in DATACO_SHIPPING_MODES.items()}
    assert (df["Shipping Mode"].map(mode_days) == scheduled).all()
    cancelled = df["Order Status"].isin(["CANCELED", "SUSPECTED_FRAUD"])
    status = np.array(["Advance shipping", "Shipping on time", "Late delivery"])[
        np.sign(real - scheduled) + 1
    ]
    expected = np.where(cancelled, "Shipping canceled", status)
    assert (df["Delivery Status"].to_numpy() == expected).all()
    late = (df["Delivery Status"] == "Late delivery").astype(np.int64)
    assert (df["Late_delivery_risk"] == late).all()
    ship, order = DATACO_DATE_COLUMNS[1], DATACO_DATE_COLUMNS[0]
    days = (df[ship].dt.normalize() - df[order].dt.normalize()).dt.days
    assert (days == real).all()
    np.testing.assert_allclose(df["Sales per customer"], df["Order Item Total"])
    np.testing.assert_allclose(df["Benefit per order"], df["Order Profit Per Order"])
    np.testing.assert_allclose(df["Product Price"], df["Order Item Product Price"])
    sales = df["Product Price"] * df["Order Item Quantity"]
    np.testing.assert_allclose(df["Sales"], sales, atol=0.02)
    for a, b in [("Customer Id", "Order Customer Id"), ("Category Id", "Product Category Id"),
                 ("Product Card Id", "Order Item Cardprod Id")]:  # fmt: skip
        assert (df[a] == df[b]).all()


@pytest.mark.shared
def test_identities_hold_on_the_real_sample(real: pd.DataFrame) -> None:
    check_identities(real)


def test_identities_hold_on_synthetic_data(synth: pd.DataFrame) -> None:
    check_identities(synth)
    complete = synth[synth["Order Status"] == "COMPLETE"]
    assert (complete["Type"] == "DEBIT").all()
    first = synth[synth["Shipping Mode"] == "First Class"]
    assert (first["Days for shipping (real)"] == 2).all()


# ---------------------------------------------------------------- protocols


@pytest.mark.shared
def test_protocols_on_the_real_sample(real: pd.DataFrame) -> None:
    paper, free = paper_protocol(real), leak_free_protocol(real)
    complete = real[real["Order Status"] == "COMPLETE"]
    n_complete = len(complete)
    assert len(paper.y_train) + len(paper.y_test) == n_complete
    assert len(paper.y_test) == n_complete // 5
    delay = complete["Days for shipping (real)"] - complete["Days for shipment (scheduled)"]
    labels = np.sort(np.concatenate([paper.y_train, paper.y_test]))
    np.testing.assert_array_equal(labels, np.sort(delay_classes(delay)))
    assert paper.time_idx_train.max() <= paper.time_idx_test.min()
    for split in (paper, free):
        assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
        assert split.x_train.shape == (len(split.y_train), split.n_features)
        assert split.x_test.shape == (len(split.y_test), split.n_features)
    np.testing.assert_array_equal(free.y_test, paper.y_test)
    np.testing.assert_array_equal(free.time_idx_train, paper.time_idx_train)
    assert any(name.startswith("Late_delivery_risk") for name in paper.feature_names)
    leaks = tuple(DATACO_LEAK_COLUMNS)
    assert not any(name.startswith(leaks) for name in free.feature_names)
    assert lr_accuracy(paper) >= 80.0
    assert lr_accuracy(free) < 70.0


@pytest.mark.shared
@pytest.mark.parametrize("leak_free", [False, True])
def test_protocol_equals_the_authors_recipe_on_the_real_sample(
    real: pd.DataFrame, leak_free: bool
) -> None:
    compare_with_recipe(real, leak_free)


@pytest.mark.parametrize("leak_free", [False, True])
def test_protocol_equals_the_authors_recipe_on_synthetic_data(leak_free: bool) -> None:
    compare_with_recipe(make_dataco_like(3000, seed=5), leak_free)


def compare_with_recipe(df: pd.DataFrame, leak_free: bool) -> None:
    split = (leak_free_protocol if leak_free else paper_protocol)(df)
    x_train, x_test, y_train, y_test, time_idx, names = authors_recipe(df, leak_free=leak_free)
    assert split.feature_names == tuple(names)
    np.testing.assert_array_equal(split.x_train, x_train)
    np.testing.assert_array_equal(split.x_test, x_test)
    np.testing.assert_array_equal(split.y_train, y_train)
    np.testing.assert_array_equal(split.y_test, y_test)
    np.testing.assert_array_equal(split.time_idx_train, time_idx)


def test_protocol_rejects_bad_arguments(synth: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        paper_protocol(synth, test_fraction=1.5)
    with pytest.raises(ValueError, match="COMPLETE orders cannot be split"):
        paper_protocol(synth.iloc[:3])
    with pytest.raises(ValueError, match="Shipping Mode"):
        paper_protocol(synth.drop(columns=["Shipping Mode"]))


@pytest.mark.parametrize("protocol", [paper_protocol, leak_free_protocol])
def test_protocol_refuses_a_path_instead_of_a_frame(protocol, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"df is a PosixPath, not a pandas DataFrame; read the "
                                         r"file with load_dataco\(path\)"):
        protocol(tmp_path / "DataCoSupplyChainDataset.csv")


def test_protocol_refuses_a_nan_variance_threshold() -> None:
    table = make_dataco_like(50, seed=0)
    with pytest.raises(ValueError, match=r"variance_threshold must be >= 0, got nan"):
        paper_protocol(table, variance_threshold=float("nan"))


# ---------------------------------------------------------------- synthetic table


@pytest.mark.shared
def test_synthetic_has_the_real_columns_and_dtypes(real: pd.DataFrame, synth: pd.DataFrame) -> None:
    assert tuple(synth.columns) == tuple(real.columns) == DATACO_COLUMNS
    assert synth.dtypes.to_dict() == real.dtypes.to_dict()
    for col in ("Shipping Mode", "Type", "Market", "Order Status", "Customer Segment",
                "Delivery Status", "Order Region"):  # fmt: skip
        assert set(synth[col]) <= set(real[col]), col


def test_synthetic_is_deterministic_and_roundtrips_through_csv(tmp_path: Path) -> None:
    a, b = make_dataco_like(500, seed=3), make_dataco_like(500, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not make_dataco_like(500, seed=4).equals(a)
    text = make_dataco_like(500, seed=3, parse_dates=False)
    pattern = r"\d{1,2}/\d{1,2}/20\d\d \d{1,2}:\d\d"  # 1/31/2018 22:56
    assert text["order date (DateOrders)"].str.fullmatch(pattern).all()
    text.to_csv(tmp_path / "synth.csv", index=False)
    pd.testing.assert_frame_equal(load_dataco(tmp_path / "synth.csv"), a, check_exact=False)
    assert len(make_dataco_like(1, seed=0)) == 1


@pytest.mark.parametrize("n_rows", [1e4, 0, True])
def test_synthetic_refuses_a_row_count_that_is_not_a_whole_number(n_rows) -> None:
    with pytest.raises(ValueError, match=rf"n_rows={n_rows!r} must be a whole number >= 1"):
        make_dataco_like(n_rows, seed=0)


def test_synthetic_accuracies_are_in_the_paper_range(synth: pd.DataFrame) -> None:
    paper_acc = lr_accuracy(paper_protocol(synth))
    free_acc = lr_accuracy(leak_free_protocol(synth))
    assert 80.0 <= paper_acc <= 90.0
    assert free_acc < 70.0 and free_acc <= paper_acc - 15.0
