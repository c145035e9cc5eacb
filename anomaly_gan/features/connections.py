"""Derived features of network connection records, by one documented rule.

Connection records (Zeek ``conn.log`` fields: ``ts``, ``id.orig_h``,
``id.resp_h``, ``id.resp_p``, bytes and packets per direction) describe one
connection each; what gives an attack away is often the pattern across
connections. ``derive`` adds, to every record:

Per connection (missing byte or packet counts count as 0):

- ``net_bytes_ratio``: ``log1p(orig_bytes) - log1p(resp_bytes)``, > 0 when
  the connection sent more than it received;
- ``net_out_bytes_per_pkt``, ``net_in_bytes_per_pkt``: payload bytes per packet
  in each direction (0 without packets);
- ``net_orig_private``, ``net_resp_private``: the address is private,
  loopback or link-local.

Per source host (``id.orig_h``), over fixed UTC windows (the clock minute or
hour the connection starts in), counted over the whole input:

- ``net_src_conns_1m``, ``net_src_conns_1h``: connections from the host;
- ``net_src_ports_1h``: distinct destination ports it contacted;
- ``net_src_dsts_1h``: distinct destination hosts it contacted;
- ``net_pair_conns_1h``: connections between this source and destination;
- ``net_dst_srcs_1h``: distinct sources that contacted this destination.

Fixed windows make the counts independent of how the input is cut into
batches or partitions: ``WindowCounts`` is filled in one pass over the
whole input, then ``derive`` reads from it, in the streaming job and on every
Dask worker alike. A record without a time or either address gets missing
window counts (imputed, like any missing value).

``NETWORK_ROLES`` are the column roles a model of connection records uses:
the raw addresses and the source port are not features (the derived
columns stand in for them), the destination port is a category.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: The columns that make a table connection records.
REQUIRED = ("ts", "id.orig_h", "id.resp_h", "id.resp_p")

DERIVED = (
    "net_bytes_ratio",
    "net_out_bytes_per_pkt",
    "net_in_bytes_per_pkt",
    "net_orig_private",
    "net_resp_private",
    "net_src_conns_1m",
    "net_src_conns_1h",
    "net_src_ports_1h",
    "net_src_dsts_1h",
    "net_pair_conns_1h",
    "net_dst_srcs_1h",
)

#: Column roles for connection records; a role the user names wins.
NETWORK_ROLES: dict[str, tuple[str, ...]] = {
    "id_cols": ("uid",),
    "timestamp_cols": ("ts",),
    "exclude_cols": (
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "history",
        "tunnel_parents",
        "local_orig",
        "local_resp",
    ),
    "categorical_cols": ("id.resp_p", "proto", "service", "conn_state"),
}

#: The entity a network model rolls flagged rows up to by default.
SOURCE_HOST = "id.orig_h"

#: Columns a network model's scores keep for the analyst views.
VIEW_COLUMNS = ("ts", "id.orig_h", "id.resp_h", "id.resp_p", "proto", "service")


def is_connection_table(columns: Iterable[object]) -> bool:
    """Return True when ``columns`` hold the connection fields ``derive`` needs."""
    names = {str(c) for c in columns}
    return all(c in names for c in REQUIRED)


def network_roles(
    given: dict[str, object], columns: Iterable[object]
) -> dict[str, tuple[str, ...]]:
    """``NETWORK_ROLES`` for the columns present, leaving out columns the user named.

    ``given`` maps the role options (``id_cols``, ...) to what the user set.
    """
    present = {str(c) for c in columns}
    named = {
        str(c)
        for value in given.values()
        if isinstance(value, (list, tuple))
        for c in value
    }
    roles: dict[str, tuple[str, ...]] = {}
    for key, names in NETWORK_ROLES.items():
        value = given.get(key)
        own = tuple(str(c) for c in value) if isinstance(value, (list, tuple)) else ()
        added = tuple(c for c in names if c in present and c not in named)
        if own or added:
            roles[key] = own + added
    return roles


def _seconds(values: pd.Series) -> np.ndarray:
    """Start times as seconds since the epoch (numbers, datetimes or ISO text)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.to_datetime(values, utc=True)
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().any() or not values.notna().any():
            return np.asarray(numbers, dtype=float)
        stamps = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    seconds = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return np.asarray(seconds, dtype=float)


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    ts = _seconds(frame["ts"])
    return pd.DataFrame(
        {
            "src": frame["id.orig_h"].astype(object).to_numpy(),
            "dst": frame["id.resp_h"].astype(object).to_numpy(),
            "port": frame["id.resp_p"]
            .map(_port_text, na_action="ignore")
            .to_numpy(dtype=object),
            "minute": np.floor(ts / 60.0),
            "hour": np.floor(ts / 3600.0),
        }
    )


def _port_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class WindowCounts:
    """Per-host counts over fixed windows, filled from the whole input in one pass."""

    def __init__(self) -> None:
        self._minute = pd.Series(dtype=float)
        self._pairs = pd.Series(dtype=float)
        self._ports = pd.DataFrame(columns=["src", "hour", "port"])
        self._final: dict[str, pd.Series] | None = None

    def add(self, frame: pd.DataFrame) -> None:
        """Count the connections of one batch."""
        if not len(frame):
            return
        keys = _keys(frame)
        minute = keys.groupby(["src", "minute"]).size()
        pairs = keys.groupby(["src", "dst", "hour"]).size()
        ports = keys[["src", "hour", "port"]].dropna().drop_duplicates()
        self._minute = _summed(self._minute, minute)
        self._pairs = _summed(self._pairs, pairs)
        self._ports = pd.concat(
            [self._ports, ports], ignore_index=True
        ).drop_duplicates()
        self._final = None

    def _tables(self) -> dict[str, pd.Series]:
        if self._final is None:
            pairs = self._pairs
            by_src = pairs.groupby(level=["src", "hour"]) if len(pairs) else None
            self._final = {
                "src_conns_1m": self._minute,
                "src_conns_1h": by_src.sum()
                if by_src is not None
                else pd.Series(dtype=float),
                "src_dsts_1h": by_src.size()
                if by_src is not None
                else pd.Series(dtype=float),
                "pair_conns_1h": pairs,
                "dst_srcs_1h": pairs.groupby(level=["dst", "hour"]).size()
                if len(pairs)
                else pd.Series(dtype=float),
                "src_ports_1h": self._ports.groupby(["src", "hour"]).size()
                if len(self._ports)
                else pd.Series(dtype=float),
            }
        return self._final

    def derive(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with the ``DERIVED`` columns added (or replaced)."""
        out = frame.copy()
        keys = _keys(frame)
        tables = self._tables()
        lookups = {
            "net_src_conns_1m": ("src_conns_1m", ["src", "minute"]),
            "net_src_conns_1h": ("src_conns_1h", ["src", "hour"]),
            "net_src_ports_1h": ("src_ports_1h", ["src", "hour"]),
            "net_src_dsts_1h": ("src_dsts_1h", ["src", "hour"]),
            "net_pair_conns_1h": ("pair_conns_1h", ["src", "dst", "hour"]),
            "net_dst_srcs_1h": ("dst_srcs_1h", ["dst", "hour"]),
        }
        per_row = _per_connection(frame)
        for name in DERIVED[:5]:
            out[name] = per_row[name]
        for name, (table, levels) in lookups.items():
            out[name] = _lookup(tables[table], keys, levels)
        return out


def _summed(old: pd.Series, new: pd.Series) -> pd.Series:
    if not len(old):
        return new.astype(float)
    both = pd.concat([old, new.astype(float)])
    return both.groupby(level=list(range(both.index.nlevels))).sum()


def _lookup(table: pd.Series, keys: pd.DataFrame, levels: list[str]) -> np.ndarray:
    if not len(table) or not len(keys):
        return np.full(len(keys), np.nan)
    index = pd.MultiIndex.from_frame(keys[levels])
    return np.asarray(table.reindex(index), dtype=float)


def _count(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame))
    values = pd.to_numeric(frame[name], errors="coerce").fillna(0).clip(lower=0)
    return np.asarray(values, dtype=float)


def _per_connection(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    out_bytes = _count(frame, "orig_bytes")
    in_bytes = _count(frame, "resp_bytes")
    out_pkts = _count(frame, "orig_pkts")
    in_pkts = _count(frame, "resp_pkts")
    with np.errstate(divide="ignore", invalid="ignore"):
        out_per = np.where(out_pkts > 0, out_bytes / np.maximum(out_pkts, 1), 0.0)
        in_per = np.where(in_pkts > 0, in_bytes / np.maximum(in_pkts, 1), 0.0)
    return {
        "net_bytes_ratio": np.log1p(out_bytes) - np.log1p(in_bytes),
        "net_out_bytes_per_pkt": out_per,
        "net_in_bytes_per_pkt": in_per,
        "net_orig_private": _private(frame["id.orig_h"]),
        "net_resp_private": _private(frame["id.resp_h"]),
    }


def _private(addresses: pd.Series) -> np.ndarray:
    """Private, loopback or link-local, decided once per distinct address."""
    codes, uniques = pd.factorize(addresses, use_na_sentinel=True)
    flags = np.array([_is_private(str(a)) for a in uniques] + [False], dtype=bool)
    picked: np.ndarray = flags[codes]
    return picked


def _is_private(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def derive_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``derive`` with window counts over ``frame`` itself (a whole table)."""
    counts = WindowCounts()
    counts.add(frame)
    return counts.derive(frame)
