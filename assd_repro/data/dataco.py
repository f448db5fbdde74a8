"""DataCo Smart Supply Chain data: loader and the two preprocessing protocols.

The paper's supply-chain experiment (section 6.2) predicts whether an order arrives early, on
time or late from the DataCo table (Constante, Silva, Pereira 2019; Mendeley Data, DOI
10.17632/8gx2fvg2k6, CC BY 4.0): 180,519 rows x 53 columns, Latin-1 encoded.

- :func:`load_dataco` reads the original CSV or a UTF-8 re-save into a frame with the canonical
  column names :data:`DATACO_COLUMNS` and dtypes, dates parsed.
- :func:`paper_protocol` is the authors' preprocessing, step for step (book: Method, "DataCo
  preprocessing"), ``Late_delivery_risk`` label leak included.
- :func:`leak_free_protocol` is the same without the columns listed in
  :data:`DATACO_LEAK_COLUMNS`: same rows, same split, same labels, fewer features.

A synthetic stand-in with the same columns is :func:`assd_repro.data.dataco_synth.make_dataco_like`.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_selection import VarianceThreshold
from sklearn.preprocessing import MinMaxScaler

__all__ = [
    "DATACO_CLASS_NAMES",
    "DATACO_COLUMNS",
    "DATACO_DATE_COLUMNS",
    "DATACO_DOI",
    "DATACO_FILENAME",
    "DATACO_LEAK_COLUMNS",
    "DATACO_PAPER_EXCLUDED_COLUMNS",
    "DATACO_PAPER_NUMERIC_COLUMNS",
    "DATACO_SAMPLE_FILENAME",
    "DataCoSplit",
    "dataco_sample_path",
    "delay_classes",
    "format_dataco_dates",
    "leak_free_protocol",
    "load_dataco",
    "paper_protocol",
    "parse_dataco_dates",
]

DATACO_DOI = "10.17632/8gx2fvg2k6"
DATACO_FILENAME = "DataCoSupplyChainDataset.csv"
DATACO_SAMPLE_FILENAME = "DataCoSupplyChainDataset.sample6000.csv.gz"


def dataco_sample_path() -> Path:
    """The real 6,000-row DataCo sample shipped with the package (gzip-compressed CSV, CC BY 4.0:
    Constante, Silva, Pereira 2019, Mendeley Data, DOI 10.17632/8gx2fvg2k6; attribution in
    ``assd_repro/data/files/DATACO-SAMPLE.md``): 6,000 random rows of the 180,519, all 53
    columns. Read it with :func:`load_dataco`."""
    return Path(__file__).resolve().parent / "files" / DATACO_SAMPLE_FILENAME

_HOW_TO_GET = (
    f"Download {DATACO_FILENAME} from Mendeley Data (DOI {DATACO_DOI}, "
    f"https://data.mendeley.com/datasets/8gx2fvg2k6, licence CC BY 4.0) and pass its path, or use "
    "assd_repro.data.dataco_synth.make_dataco_like(n_rows, seed) for a synthetic stand-in."
)

DATACO_COLUMNS: tuple[str, ...] = (
    "Type", "Days for shipping (real)", "Days for shipment (scheduled)", "Benefit per order",
    "Sales per customer", "Delivery Status", "Late_delivery_risk", "Category Id", "Category Name",
    "Customer City", "Customer Country", "Customer Email", "Customer Fname", "Customer Id",
    "Customer Lname", "Customer Password", "Customer Segment", "Customer State",
    "Customer Street", "Customer Zipcode", "Department Id", "Department Name", "Latitude",
    "Longitude", "Market", "Order City", "Order Country", "Order Customer Id",
    "order date (DateOrders)", "Order Id", "Order Item Cardprod Id", "Order Item Discount",
    "Order Item Discount Rate", "Order Item Id", "Order Item Product Price",
    "Order Item Profit Ratio", "Order Item Quantity", "Sales", "Order Item Total",
    "Order Profit Per Order", "Order Region", "Order State", "Order Status", "Order Zipcode",
    "Product Card Id", "Product Category Id", "Product Description", "Product Image",
    "Product Name", "Product Price", "Product Status", "shipping date (DateOrders)",
    "Shipping Mode",
)  # fmt: skip
"""The 53 columns, in file order, spelled as in the data file's header (whitespace stripped).

Header names are matched after stripping and collapsing whitespace and ignoring case, so the
description file's ``"Days for shipping (real)     "`` or ``"Shipping date (DateOrders)"`` map
onto these names."""

DATACO_DATE_COLUMNS = ("order date (DateOrders)", "shipping date (DateOrders)")
_INT_COLUMNS = (
    "Days for shipping (real)", "Days for shipment (scheduled)", "Late_delivery_risk",
    "Category Id", "Customer Id", "Department Id", "Order Customer Id", "Order Id",
    "Order Item Cardprod Id", "Order Item Id", "Order Item Quantity", "Product Card Id",
    "Product Category Id", "Product Status",
)  # fmt: skip
_FLOAT_COLUMNS = (
    "Benefit per order", "Sales per customer", "Customer Zipcode", "Latitude", "Longitude",
    "Order Item Discount", "Order Item Discount Rate", "Order Item Product Price",
    "Order Item Profit Ratio", "Sales", "Order Item Total", "Order Profit Per Order",
    "Order Zipcode", "Product Description", "Product Price",
)  # fmt: skip
_STRING_COLUMNS = tuple(
    c for c in DATACO_COLUMNS if c not in (*_INT_COLUMNS, *_FLOAT_COLUMNS, *DATACO_DATE_COLUMNS)
)

DATACO_PAPER_EXCLUDED_COLUMNS = (
    "Days for shipment (scheduled)", "Delivery Status", "Order Item Cardprod Id",
    "Order Item Id", "Order Id",
)  # fmt: skip
"""Columns the authors leave out of the features (``Days for shipping (real)`` goes earlier)."""

DATACO_PAPER_NUMERIC_COLUMNS = (
    "time_idx", "Benefit per order", "Sales per customer", "Latitude", "Longitude",
    "Order Item Total", "Order Item Discount", "Order Item Product Price", "Product Price",
    "Order Item Quantity", "Order Item Profit Ratio", "Order Profit Per Order",
)  # fmt: skip
"""Features the authors keep as numbers; every other feature column is one-hot encoded."""

DATACO_LEAK_COLUMNS: dict[str, str] = {
    "Late_delivery_risk": "equals 1 exactly when delay > 0 (class 'late') on every non-cancelled "
    "order; all kept orders are COMPLETE, so it is the late/not-late half of the label",
    "Delivery Status": "sign of real - scheduled days ('Advance shipping' / 'Shipping on time' / "
    "'Late delivery'): the label itself (the authors already exclude it)",
    "Days for shipping (real)": "the delay is real - scheduled days and Shipping Mode fixes the "
    "scheduled days (the authors already drop it after computing the delay)",
    "order date (DateOrders)": "shipping date - order date = real days (calendar days), which "
    "with Shipping Mode gives the label; for Same Day, order hour >= 12 means late. The authors "
    "drop it only for having > 1000 distinct values, so small frames would one-hot encode it",
    "shipping date (DateOrders)": "the realised shipping date, order date + real days: the "
    "other half of the same identity, known only after the outcome",
    "time_idx": "day index of the realised shipping date = order day + real days; any order-time "
    "proxy (Order Id and Order Item Id rise with the order date) turns it into the delay. "
    "Kept only to sort and split the rows, not as a feature",
}
"""Columns that give the label away, each with why; :func:`leak_free_protocol` drops them all."""

DATACO_CLASS_NAMES = ("early", "on time", "late")
"""Label ``k`` means ``DATACO_CLASS_NAMES[k]``: delay < 0, == 0, > 0 days."""


def _name_key(name: object) -> str:
    return " ".join(str(name).split()).casefold()


_CANONICAL = {_name_key(c): c for c in DATACO_COLUMNS}


def _canonical_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with canonical column names, in :data:`DATACO_COLUMNS` order.

    Raises:
        ValueError: a column is missing (names every missing one) or appears twice.
    """
    mapping: dict[object, str] = {}
    unknown = []
    for col in df.columns:
        canon = _CANONICAL.get(_name_key(col))
        if canon is None:
            unknown.append(col)
        elif canon in mapping.values():
            raise ValueError(f"column {canon!r} appears twice in the header (as {col!r} too)")
        else:
            mapping[col] = canon
    missing = [c for c in DATACO_COLUMNS if c not in mapping.values()]
    if missing:
        raise ValueError(
            f"not a DataCo supply-chain table: {len(missing)} of the {len(DATACO_COLUMNS)} "
            f"columns are missing: {missing}. Expected the header of {DATACO_FILENAME} "
            f"(see DATACO_COLUMNS)."
        )
    extra = [c for c in unknown if not str(c).startswith("Unnamed:")]
    if extra:
        warnings.warn(f"ignoring columns that are not DataCo columns: {extra}", stacklevel=3)
    return df.rename(columns=mapping)[list(DATACO_COLUMNS)].copy()


_DATE_FORMATS = (
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%m-%d-%Y %H:%M", "%m-%d-%Y %H:%M:%S",
    "%m-%d-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "ISO8601",
)  # fmt: skip
_DATE_FIELDS = ("month", "day", "year", "hour", "minute")


def parse_dataco_dates(values: Sequence[str] | pd.Series, *, name: str = "date") -> pd.Series:
    """Parse DataCo date strings leniently: ``1/31/2018 22:56``, ``02-03-2018``, ISO ``2018-01-31``.

    Slash and dash dates are read month first, like the original file (``02-03-2018`` is
    3 February 2018); the time of day is optional. Missing values stay ``NaT``.

    Args:
        values: strings (or datetimes, returned as they are), shape ``(N,)``.
        name: column name used in the error message.

    Returns:
        ``datetime64`` series, shape ``(N,)``, with ``values``' index if it is a series.

    Raises:
        ValueError: some non-missing value matches none of the formats (names up to 3 of them).
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    text = series.astype("string").str.strip()
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    todo = text.notna() & (text != "")
    for fmt in _DATE_FORMATS:
        if not todo.any():
            break
        got = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        ok = got.notna()
        parsed.loc[ok[ok].index] = got[ok].astype("datetime64[us]")
        todo.loc[ok[ok].index] = False
    if todo.any():
        bad = text[todo].unique()[:3].tolist()
        raise ValueError(
            f"{int(todo.sum())} values of {name!r} are not dates like '1/31/2018 22:56' or "
            f"'02-03-2018', e.g. {bad}"
        )
    return parsed


def format_dataco_dates(dates: pd.Series) -> pd.Series:
    """Format datetimes as the original file does: ``1/31/2018 22:56`` (no zero padding).

    Args:
        dates: ``datetime64`` series, shape ``(N,)``; ``NaT`` becomes missing.

    Returns:
        String series, shape ``(N,)``, same index.

    Raises:
        ValueError: ``dates`` is not a ``datetime64`` series (parse strings first with
            :func:`parse_dataco_dates`).
    """
    if not isinstance(dates, pd.Series) or not pd.api.types.is_datetime64_any_dtype(dates):
        what = f"has dtype {dates.dtype}" if isinstance(dates, pd.Series) else \
            f"is a {type(dates).__name__}"
        raise ValueError(f"dates {what}; format_dataco_dates needs a datetime64 series: pass "
                         "parse_dataco_dates(values) first")
    valid = dates.notna()
    d = dates.dt
    parts = [getattr(d, f).fillna(0).astype(np.int64).astype(str) for f in _DATE_FIELDS]
    month, day, year, hour, minute = parts
    text = month + "/" + day + "/" + year + " " + hour + ":" + minute.str.zfill(2)
    return text.where(valid)


def _coerce_dtypes(df: pd.DataFrame, *, parse_dates: bool) -> pd.DataFrame:
    """Cast the canonical frame's columns to int64 / float64 / str / datetime (in place)."""
    for col in (*_INT_COLUMNS, *_FLOAT_COLUMNS):
        raw = df[col]
        num = raw if pd.api.types.is_numeric_dtype(raw) else pd.to_numeric(raw, errors="coerce")
        if num is not raw:
            bad = num.isna() & raw.notna() & (raw.astype("string").str.strip() != "")
            if bad.any():
                raise ValueError(f"column {col!r} has non-numbers, e.g. {raw[bad][:3].tolist()}")
        if col in _INT_COLUMNS:
            if num.isna().any():
                raise ValueError(f"column {col!r} has {int(num.isna().sum())} missing values")
            if not np.all(np.mod(num.to_numpy(dtype=np.float64), 1) == 0):
                raise ValueError(f"column {col!r} must hold whole numbers")
            df[col] = num.astype(np.int64)
        else:
            df[col] = num.astype(np.float64)
    if parse_dates:
        for col in DATACO_DATE_COLUMNS:
            df[col] = parse_dataco_dates(df[col], name=col)
    return df


def load_dataco(path: str | os.PathLike[str], *, parse_dates: bool = True) -> pd.DataFrame:
    """Read ``DataCoSupplyChainDataset.csv`` (original Latin-1 or a UTF-8 re-save), plain or
    gzip-compressed (``.gz``, as the shipped sample :func:`dataco_sample_path`).

    The bytes are decoded as UTF-8 (a byte-order mark is allowed), else as Latin-1. Header
    names are matched to :data:`DATACO_COLUMNS` ignoring case and surrounding whitespace.

    Args:
        path: the CSV file, or a folder holding ``DataCoSupplyChainDataset.csv``.
        parse_dates: parse the two date columns with :func:`parse_dataco_dates` (default);
            ``False`` keeps the strings as in the file.

    Returns:
        Frame of shape ``(N, 53)`` with the columns of :data:`DATACO_COLUMNS` in that order:
        ids, day counts and flags ``int64``; amounts, coordinates and zip codes ``float64``;
        text as strings; dates ``datetime64``.

    Raises:
        FileNotFoundError: no file at ``path``; the message says where to get the data.
        ValueError: a column is missing (named), a number or date does not parse.
    """
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / DATACO_FILENAME
    if not file.is_file():
        raise FileNotFoundError(f"no DataCo CSV file at {str(file)!r}. {_HOW_TO_GET}")
    raw = file.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"{str(file)!r} is a damaged gzip file ({error}); download it "
                             "again") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    del raw
    header = pd.read_csv(io.StringIO(text), nrows=0).columns
    as_text = {c: str for c in header if _CANONICAL.get(_name_key(c)) in _STRING_COLUMNS}
    as_text.update({c: str for c in header if _CANONICAL.get(_name_key(c)) in DATACO_DATE_COLUMNS})
    frame = pd.read_csv(io.StringIO(text), dtype=as_text, low_memory=False)
    return _coerce_dtypes(_canonical_frame(frame), parse_dates=parse_dates)


def delay_classes(delay: np.ndarray | pd.Series) -> np.ndarray:
    """Map delays in days (real - scheduled) to classes: < 0 -> 0 (early), 0 -> 1, > 0 -> 2.

    Args:
        delay: shape ``(N,)``, whole days.

    Returns:
        ``int64`` labels, shape ``(N,)``.

    Raises:
        ValueError: ``delay`` holds a missing value (NaN).
    """
    d = np.asarray(delay, dtype=np.float64)
    if np.isnan(d).any():
        raise ValueError("delay has missing values; rows need both day counts")
    return np.select([d < 0, d == 0], [0, 1], 2).astype(np.int64)


@dataclass(frozen=True, eq=False)
class DataCoSplit:
    """Train/test arrays of one protocol, rows in time order (test = the latest rows).

    Attributes:
        x_train: ``(n_train, n_features)`` float32, min-max scaled on the train rows ([0, 1]).
        y_train: ``(n_train,)`` int64 in {0 early, 1 on time, 2 late}.
        x_test: ``(n_test, n_features)`` float32, scaled with the train minima and maxima
            (values may fall outside [0, 1]).
        y_test: ``(n_test,)`` int64.
        time_idx_train: ``(n_train,)`` int64 day index of the shipping date
            (``day + 31 * month + 365 * year``, minus its minimum over the whole input table).
        time_idx_test: ``(n_test,)`` int64; every value is >= ``time_idx_train.max()``.
        feature_names: ``n_features`` names; one-hot columns are ``"<column>_<value>"``.
        dropped_columns: categorical columns dropped for having more than ``max_categories``
            distinct values.
        protocol: ``"paper"`` or ``"leak_free"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    time_idx_train: np.ndarray
    time_idx_test: np.ndarray
    feature_names: tuple[str, ...]
    dropped_columns: tuple[str, ...]
    protocol: str

    @property
    def n_features(self) -> int:
        return len(self.feature_names)


def paper_protocol(
    df: pd.DataFrame,
    *,
    test_fraction: float = 0.2,
    variance_threshold: float = 0.12345,
    max_categories: int = 1000,
) -> DataCoSplit:
    """The authors' preprocessing of the DataCo table, ``Late_delivery_risk`` leak included.

    Steps (book: Method, "DataCo preprocessing"): (1) ``delay = real - scheduled`` days, real
    days dropped; (2) ``time_idx = day + 365 * year + 31 * month`` of the *shipping* date,
    minus its minimum over all rows; (3) keep ``Order Status == "COMPLETE"``; (4) features:
    every column but :data:`DATACO_PAPER_EXCLUDED_COLUMNS`;
    :data:`DATACO_PAPER_NUMERIC_COLUMNS` as numbers, the others one-hot
    (``pandas.get_dummies``) unless they have more than ``max_categories`` distinct values
    (then dropped). As in the authors' notebook the categories come from all
    kept rows, test rows included, before the split; (5) sort by ``time_idx`` (pandas' default,
    unstable sort, as they do), the last ``int(n * test_fraction)`` rows are the test set;
    (6) ``MinMaxScaler`` and ``VarianceThreshold(variance_threshold)`` fitted on the train
    rows; (7) labels by :func:`delay_classes`.

    One-hot columns that cannot pass the variance threshold on the train rows are never built,
    which keeps memory small; the result equals the literal recipe (tested).

    Args:
        df: DataCo table as :func:`load_dataco` or ``make_dataco_like`` returns it (column names
            are matched leniently; dates may be parsed or strings). Not modified.
        test_fraction: share of the (time-sorted) COMPLETE rows put in the test set, in (0, 1).
        variance_threshold: features whose train variance after scaling is not above this go.
        max_categories: categorical columns with more distinct values are dropped.

    Returns:
        The :class:`DataCoSplit`, ``protocol="paper"``.

    Raises:
        ValueError: ``df`` is not a DataFrame (a path: read it with :func:`load_dataco`);
            ``test_fraction`` is not in (0, 1); ``variance_threshold`` is not a number >= 0
            (NaN included); these before any work. Then: a DataCo column is missing or appears
            twice; a number or date does not parse; a row lacks its shipping date; the
            COMPLETE orders cannot give a train and a test row; no feature column is left, or
            none has a train variance above ``variance_threshold``. ``df`` is never modified.
    """
    return _run_protocol(
        df, excluded=DATACO_PAPER_EXCLUDED_COLUMNS, protocol="paper", test_fraction=test_fraction,
        variance_threshold=variance_threshold, max_categories=max_categories,
    )  # fmt: skip


def leak_free_protocol(
    df: pd.DataFrame,
    *,
    test_fraction: float = 0.2,
    variance_threshold: float = 0.12345,
    max_categories: int = 1000,
) -> DataCoSplit:
    """:func:`paper_protocol` without the label-leaking columns of :data:`DATACO_LEAK_COLUMNS`.

    Same rows, order, split and labels as :func:`paper_protocol` on the same table; only the
    features differ (``time_idx`` still sorts and splits the rows but is not a feature).
    Arguments and return value as for :func:`paper_protocol` (``protocol="leak_free"``).

    Raises:
        ValueError: as :func:`paper_protocol`.
    """
    return _run_protocol(
        df, excluded=(*DATACO_PAPER_EXCLUDED_COLUMNS, *DATACO_LEAK_COLUMNS), protocol="leak_free",
        test_fraction=test_fraction, variance_threshold=variance_threshold,
        max_categories=max_categories,
    )  # fmt: skip


def _run_protocol(
    df: pd.DataFrame,
    *,
    excluded: Sequence[str],
    protocol: str,
    test_fraction: float,
    variance_threshold: float,
    max_categories: int,
) -> DataCoSplit:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df is a {type(df).__name__}, not a pandas DataFrame; read the file "
                         "with load_dataco(path) first (or use make_dataco_like)")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if not variance_threshold >= 0:  # NaN too
        raise ValueError(f"variance_threshold must be >= 0, got {variance_threshold}")
    frame = _coerce_dtypes(_canonical_frame(df).reset_index(drop=True), parse_dates=False)
    real = frame.pop("Days for shipping (real)")
    scheduled = frame["Days for shipment (scheduled)"]
    ship = parse_dataco_dates(frame["shipping date (DateOrders)"], name="shipping date")
    if ship.isna().any():
        raise ValueError(f"{int(ship.isna().sum())} rows lack 'shipping date (DateOrders)'")
    time_idx = (ship.dt.day + 365 * ship.dt.year + 31 * ship.dt.month).astype(np.int64)
    frame["delay"] = real - scheduled
    frame["time_idx"] = time_idx - time_idx.min()
    frame = frame[frame["Order Status"] == "COMPLETE"].reset_index(drop=True)

    n = len(frame)
    n_test = int(n * test_fraction)
    if n_test < 1 or n_test >= n:
        raise ValueError(
            f"{n} COMPLETE orders cannot be split with test_fraction={test_fraction}: "
            "need at least one train and one test row"
        )
    order = frame[["time_idx"]].sort_values("time_idx").index.to_numpy()
    frame = frame.iloc[order].reset_index(drop=True)
    n_train = n - n_test
    y = delay_classes(frame["delay"].to_numpy())
    t = frame["time_idx"].to_numpy(dtype=np.int64)

    features = [c for c in frame.columns if c not in excluded and c != "delay"]
    blocks: list[np.ndarray] = []
    names: list[str] = []
    dropped: list[str] = []
    numeric = [c for c in features if c in DATACO_PAPER_NUMERIC_COLUMNS]
    if numeric:
        blocks.append(frame[numeric].to_numpy(dtype=np.float64))
        names.extend(numeric)
    margin = 1e-9  # exact variance decided by VarianceThreshold below
    for col in features:
        if col in DATACO_PAPER_NUMERIC_COLUMNS:
            continue
        if frame[col].nunique(dropna=False) > max_categories:
            dropped.append(col)
            continue
        dummies = pd.get_dummies(frame[col], prefix=col)
        share = dummies.iloc[:n_train].to_numpy().mean(axis=0)
        keep = share * (1.0 - share) > variance_threshold - margin
        if keep.any():
            blocks.append(dummies.loc[:, keep].to_numpy(dtype=np.float64))
            names.extend(dummies.columns[keep])
    if not blocks:
        raise ValueError("no feature column left to encode")
    x = np.concatenate(blocks, axis=1)
    scaler = MinMaxScaler().fit(x[:n_train])
    x_train, x_test = scaler.transform(x[:n_train]), scaler.transform(x[n_train:])
    try:
        selector = VarianceThreshold(variance_threshold).fit(x_train)
    except ValueError as err:
        raise ValueError(
            f"no feature has a train variance above variance_threshold={variance_threshold}"
        ) from err
    support = selector.get_support()
    return DataCoSplit(
        x_train=x_train[:, support].astype(np.float32),
        y_train=y[:n_train],
        x_test=x_test[:, support].astype(np.float32),
        y_test=y[n_train:],
        time_idx_train=t[:n_train],
        time_idx_test=t[n_train:],
        feature_names=tuple(str(nm) for nm, s in zip(names, support, strict=True) if s),
        dropped_columns=tuple(dropped),
        protocol=protocol,
    )
