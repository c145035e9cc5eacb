"""Data the project can make or read: synthetic card transactions and loaders.

- ``make_transactions``: a seeded generator of card transactions with labelled
  fraud patterns, for the demo and the tests (vectorised; 1M rows in seconds).
- ``load_adbench``, ``load_nsl_kdd``, ``load_mnist``: readers for the public data
  sets in ``../shared/data`` (ADBench ``.npz``, NSL-KDD text files, MNIST IDX).

Nothing here downloads anything; a missing file is a ``DataError`` that names it.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from anomaly_gan.exceptions import DataError

# Merchant categories: (name, share of normal transactions, lognormal mu, sigma).
_CATEGORIES = (
    ("grocery", 0.26, 3.3, 0.6),
    ("restaurant", 0.16, 3.2, 0.5),
    ("fuel", 0.10, 3.8, 0.35),
    ("retail", 0.14, 4.0, 0.9),
    ("online_retail", 0.12, 3.9, 1.0),
    ("digital_goods", 0.06, 2.5, 0.8),
    ("travel", 0.03, 6.0, 0.8),
    ("electronics", 0.04, 5.3, 0.9),
    ("entertainment", 0.05, 3.4, 0.7),
    ("cash_withdrawal", 0.04, 4.6, 0.6),
)
_COUNTRIES = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "CA", "BR", "IN", "NG", "RU")
_HOME_SHARES = (0.40, 0.14, 0.12, 0.10, 0.06, 0.06, 0.05, 0.07, 0.0, 0.0, 0.0, 0.0)
_ONLINE = frozenset({"online_retail", "digital_goods"})
FRAUD_TYPES = ("card_testing", "cross_border_night", "account_takeover")
_START = np.datetime64("2026-01-01T00:00:00", "s")
_DAYS = 30


def make_transactions(
    n_rows: int = 100_000,
    *,
    fraud_rate: float = 0.01,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Generate card transactions with labelled fraud.

    Normal behaviour: each card has a home country and spending rate; amounts
    are log-normal per merchant category (heavy right tail); hours follow a
    daytime profile; channel and device follow the category. Three fraud
    patterns are planted, in equal shares of ``fraud_rate``:

    - ``card_testing``: bursts of 5-15 tiny online amounts on one card within
      minutes (high velocity, digital goods);
    - ``cross_border_night``: a large purchase abroad between 00:00 and 05:00,
      card not present;
    - ``account_takeover``: a new device and a foreign country, online, for a
      high amount.

    Parameters
    ----------
    n_rows : int, default=100_000
        Approximate number of rows (exact up to rounding of the fraud share).
    fraud_rate : float, default=0.01
        Share of rows that are fraud, in [0, 0.5].
    random_state : int or None, default=0
        Seed; the same seed gives the same frame.

    Returns
    -------
    DataFrame
        Columns ``transaction_id``, ``card_id``, ``timestamp``, ``amount``,
        ``merchant_category``, ``country``, ``home_country``, ``channel``,
        ``device_type``, ``card_present``, ``new_device``, ``is_cross_border``,
        ``hour``, ``txn_count_1h``, ``txn_count_24h``, ``amount_24h``,
        ``secs_since_prev``, ``is_fraud`` (0/1) and ``fraud_type``, sorted by
        timestamp.
    """
    if not 0 <= fraud_rate <= 0.5:
        msg = f"parameter 'fraud_rate': expected a number in [0, 0.5], found {fraud_rate!r}"
        raise ValueError(msg)
    if n_rows < 1:
        msg = f"parameter 'n_rows': expected a positive integer, found {n_rows!r}"
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    n_fraud = round(n_rows * fraud_rate)
    n_normal = n_rows - n_fraud
    n_cards = max(10, n_rows // 40)
    cards = _make_cards(rng, n_cards)
    parts = [_normal_rows(rng, n_normal, cards)]
    per_type = np.bincount(rng.integers(0, 3, n_fraud), minlength=3)
    parts.append(_card_testing(rng, int(per_type[0]), cards))
    parts.append(_cross_border_night(rng, int(per_type[1]), cards))
    parts.append(_account_takeover(rng, int(per_type[2]), cards))
    data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    frame = _assemble(data, cards)
    return frame


class _Cards(NamedTuple):
    home: np.ndarray  # country index per card
    rate: np.ndarray  # relative spending rate per card


def _make_cards(rng: np.random.Generator, n_cards: int) -> _Cards:
    shares = np.asarray(_HOME_SHARES) / sum(_HOME_SHARES)
    home = rng.choice(len(_COUNTRIES), size=n_cards, p=shares)
    rate = rng.gamma(2.0, 0.5, size=n_cards)
    return _Cards(home=home, rate=rate / rate.sum())


def _daytime_hours(rng: np.random.Generator, n: int) -> np.ndarray:
    profile = np.array(
        [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1.5,
            3,
            4.5,
            5,
            5.5,
            6,
            7,
            6.5,
            6,
            6,
            6.5,
            7,
            7.5,
            7,
            6,
            4.5,
            3,
            1.8,
        ]
    )
    return rng.choice(24, size=n, p=profile / profile.sum())


def _times(rng: np.random.Generator, hours: np.ndarray) -> np.ndarray:
    day = rng.integers(0, _DAYS, size=hours.size)
    seconds = day * 86_400 + hours * 3_600 + rng.integers(0, 3_600, size=hours.size)
    return np.asarray(seconds, dtype=np.int64)


def _normal_rows(
    rng: np.random.Generator, n: int, cards: _Cards
) -> dict[str, np.ndarray]:
    card = rng.choice(cards.home.size, size=n, p=cards.rate)
    shares = np.array([c[1] for c in _CATEGORIES])
    cat = rng.choice(len(_CATEGORIES), size=n, p=shares / shares.sum())
    mu = np.array([c[2] for c in _CATEGORIES])[cat]
    sigma = np.array([c[3] for c in _CATEGORIES])[cat]
    amount = np.exp(rng.normal(mu, sigma))
    # A heavy tail on top of the log-normal body: 1% of purchases are 3-10x larger.
    big = rng.random(n) < 0.01
    amount = np.where(big, amount * rng.uniform(3, 10, n), amount)
    names = np.array([c[0] for c in _CATEGORIES])[cat]
    online = np.isin(names, list(_ONLINE)) | (rng.random(n) < 0.08) & (
        names == "retail"
    )
    atm = names == "cash_withdrawal"
    channel = np.where(online, "online", np.where(atm, "atm", "pos"))
    device = np.where(
        online,
        np.where(rng.random(n) < 0.62, "mobile", "desktop"),
        np.where(atm, "atm", "terminal"),
    )
    abroad = rng.random(n) < np.where(names == "travel", 0.35, 0.025)
    country = np.where(abroad, rng.integers(0, 8, n), cards.home[card])
    new_device = online & (rng.random(n) < 0.02)
    hours = _daytime_hours(rng, n)
    return {
        "card": card,
        "seconds": _times(rng, hours),
        "amount": amount,
        "category": names,
        "country": country,
        "channel": channel,
        "device": device,
        "new_device": new_device,
        "fraud_type": np.full(n, "normal", dtype=object),
    }


def _card_testing(
    rng: np.random.Generator, n: int, cards: _Cards
) -> dict[str, np.ndarray]:
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(5, 16)))
    if sizes:
        sizes[-1] -= sum(sizes) - n
        sizes = [s for s in sizes if s > 0]
    n_bursts = len(sizes)
    burst_card = rng.integers(0, cards.home.size, n_bursts)
    burst_start = _times(rng, rng.integers(0, 24, n_bursts))
    card = np.repeat(burst_card, sizes)
    offsets = (
        np.concatenate([np.sort(rng.integers(0, 900, s)) for s in sizes])
        if sizes
        else np.zeros(0, np.int64)
    )
    return {
        "card": card,
        "seconds": np.repeat(burst_start, sizes) + offsets,
        "amount": np.round(rng.uniform(0.5, 3.0, n), 2),
        "category": np.where(rng.random(n) < 0.8, "digital_goods", "online_retail"),
        "country": cards.home[card],
        "channel": np.full(n, "online"),
        "device": np.where(rng.random(n) < 0.5, "mobile", "desktop"),
        "new_device": rng.random(n) < 0.3,
        "fraud_type": np.full(n, "card_testing", dtype=object),
    }


def _foreign(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    shift = rng.integers(1, len(_COUNTRIES), home.size)
    return (home + shift) % len(_COUNTRIES)


def _cross_border_night(
    rng: np.random.Generator, n: int, cards: _Cards
) -> dict[str, np.ndarray]:
    card = rng.integers(0, cards.home.size, n)
    category = rng.choice(["electronics", "retail", "travel", "online_retail"], n)
    return {
        "card": card,
        "seconds": _times(rng, rng.integers(0, 5, n)),
        "amount": np.exp(rng.normal(7.2, 0.6, n)),
        "category": category,
        "country": _foreign(rng, cards.home[card]),
        "channel": np.full(n, "online"),
        "device": np.where(rng.random(n) < 0.5, "mobile", "desktop"),
        "new_device": rng.random(n) < 0.2,
        "fraud_type": np.full(n, "cross_border_night", dtype=object),
    }


def _account_takeover(
    rng: np.random.Generator, n: int, cards: _Cards
) -> dict[str, np.ndarray]:
    card = rng.integers(0, cards.home.size, n)
    return {
        "card": card,
        "seconds": _times(rng, _daytime_hours(rng, n)),
        "amount": np.exp(rng.normal(6.3, 0.5, n)),
        "category": rng.choice(["electronics", "online_retail", "digital_goods"], n),
        "country": _foreign(rng, cards.home[card]),
        "channel": np.full(n, "online"),
        "device": np.where(rng.random(n) < 0.7, "mobile", "desktop"),
        "new_device": np.ones(n, dtype=bool),
        "fraud_type": np.full(n, "account_takeover", dtype=object),
    }


def _assemble(data: dict[str, np.ndarray], cards: _Cards) -> pd.DataFrame:
    order = np.lexsort((data["seconds"], data["card"]))
    data = {k: v[order] for k, v in data.items()}
    card = data["card"].astype(np.int64)
    seconds = data["seconds"].astype(np.int64)
    amount = np.round(data["amount"], 2)
    # Velocity per card over sorted (card, time): one key, binary searches.
    key = card * 10**8 + seconds
    idx = np.arange(key.size)
    count_1h = idx - np.searchsorted(key, key - 3_600, side="right") + 1
    start_24h = np.searchsorted(key, key - 86_400, side="right")
    count_24h = idx - start_24h + 1
    csum = np.concatenate([[0.0], np.cumsum(amount)])
    amount_24h = csum[idx + 1] - csum[start_24h]
    same_card = np.concatenate([[False], card[1:] == card[:-1]])
    prev_gap = np.concatenate([[0], np.diff(seconds)])
    secs_since_prev = np.where(same_card, prev_gap, -1)
    countries = np.asarray(_COUNTRIES, dtype=object)
    fraud_type = data["fraud_type"]
    frame = pd.DataFrame(
        {
            "transaction_id": np.zeros(key.size, dtype=object),
            "card_id": np.asarray(
                [f"C{i:07d}" for i in range(cards.home.size)], dtype=object
            )[card],
            "timestamp": _START + seconds.astype("timedelta64[s]"),
            "amount": amount,
            "merchant_category": data["category"].astype(object),
            "country": countries[data["country"]],
            "home_country": countries[cards.home[card]],
            "channel": data["channel"].astype(object),
            "device_type": data["device"].astype(object),
            "card_present": data["channel"] != "online",
            "new_device": data["new_device"].astype(bool),
            "is_cross_border": data["country"] != cards.home[card],
            "hour": (seconds % 86_400) // 3_600,
            "txn_count_1h": count_1h,
            "txn_count_24h": count_24h,
            "amount_24h": np.round(amount_24h, 2),
            "secs_since_prev": secs_since_prev,
            "is_fraud": (fraud_type != "normal").astype(np.int8),
            "fraud_type": fraud_type,
        }
    )
    frame = frame.sort_values(["timestamp", "card_id"], kind="stable").reset_index(
        drop=True
    )
    frame["transaction_id"] = (
        pd.Series(np.arange(len(frame))).map("T{:09d}".format).to_numpy()
    )
    return frame


# ------------------------------------------------------------------ loaders
class LabelledArray(NamedTuple):
    """Features and 0/1 labels (1 = anomaly)."""

    X: np.ndarray
    y: np.ndarray


def load_adbench(path: str | Path) -> LabelledArray:
    """Read an ADBench ``.npz`` file (arrays ``X`` and ``y``)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "X" not in npz or "y" not in npz:
                msg = f"file '{path}': expected arrays 'X' and 'y', found {sorted(npz.files)}"
                raise DataError(msg)
            X = np.asarray(npz["X"], dtype=np.float64)
            y = np.asarray(npz["y"]).astype(np.int64).ravel()
    except (OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        msg = f"file '{path}': expected an ADBench .npz archive ({exc})"
        raise DataError(msg) from exc
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        msg = f"file '{path}': expected X of shape (n, d) and y of shape (n,), found {X.shape} and {y.shape}"
        raise DataError(msg)
    return LabelledArray(X, y)


NSL_KDD_CATEGORICAL = ("protocol_type", "service", "flag")
NSL_KDD_BOOLEAN = ("land", "logged_in", "is_host_login", "is_guest_login")


def load_nsl_kdd(
    path: str | Path, columns_file: str | Path | None = None
) -> pd.DataFrame:
    """Read an NSL-KDD text file (no header) with its column names.

    ``columns_file`` defaults to ``columns.txt`` beside ``path`` (43 names, one
    per line). Adds ``is_attack`` (0/1): 1 when ``attack`` is not ``normal``.
    """
    path = Path(path)
    columns_file = Path(columns_file) if columns_file else path.with_name("columns.txt")
    try:
        names = [
            line.strip()
            for line in columns_file.read_text().splitlines()
            if line.strip()
        ]
    except OSError as exc:
        msg = f"file '{columns_file}': cannot read the NSL-KDD column names ({exc.strerror})"
        raise DataError(msg) from exc
    try:
        frame = pd.read_csv(path, header=None, names=names)
    except (OSError, ValueError) as exc:
        msg = f"file '{path}': cannot read as an NSL-KDD text file ({exc})"
        raise DataError(msg) from exc
    if "attack" not in frame.columns or frame.shape[1] != len(names):
        msg = f"file '{path}': expected {len(names)} columns including 'attack'"
        raise DataError(msg)
    frame["is_attack"] = (frame["attack"].astype(str) != "normal").astype(np.int8)
    return frame


def load_mnist(images: str | Path, labels: str | Path | None = None) -> LabelledArray:
    """Read MNIST IDX files (optionally gzipped) into uint8 images and labels.

    Returns images of shape (n, rows, cols) and labels of shape (n,); without a
    labels file, labels are all -1.
    """
    X = _read_idx(Path(images), expected_dims=3)
    if labels is None:
        return LabelledArray(X, np.full(X.shape[0], -1, dtype=np.int64))
    y = _read_idx(Path(labels), expected_dims=1).astype(np.int64)
    if y.shape[0] != X.shape[0]:
        msg = f"file '{labels}': expected {X.shape[0]} labels, found {y.shape[0]}"
        raise DataError(msg)
    return LabelledArray(X, y)


def _read_idx(path: Path, expected_dims: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        msg = f"file '{path}': cannot read as an IDX file ({exc})"
        raise DataError(msg) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        msg = f"file '{path}': expected an IDX file of unsigned bytes (magic 0x0000 08)"
        raise DataError(msg)
    ndim = raw[3]
    if ndim != expected_dims or len(raw) < 4 + 4 * ndim:
        msg = f"file '{path}': expected {expected_dims} dimensions, found {ndim}"
        raise DataError(msg)
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        msg = f"file '{path}': expected {int(np.prod(shape))} values for shape {shape}, found {body.size} (truncated?)"
        raise DataError(msg)
    return np.array(body.reshape(shape))
