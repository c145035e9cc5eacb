"""Synthetic network connections of a small organisation, with labelled attacks.

``make_connections`` writes Zeek ``conn.log``-like records (Zeek's field names)
for an organisation of 60 workstations, 5 admin hosts and 7 servers at about
20,000 connections a day, with a daily rhythm (workstations busy in office
hours, servers steady). Normal traffic: web browsing to a long-tailed set of
external sites, DNS through the internal resolver (which asks outside), file
shares, directory logins, mail, admin SSH/RDP to servers, the application
server's database calls, NTP.

Attack patterns (``attack_type``), each an episode of several connections:

- ``port_scan``: one host probes about 150 ports of one internal server in two
  minutes; rejected or unanswered, no payload.
- ``brute_force``: an outside address tries SSH or RDP logins, about 80 short
  connections in five minutes.
- ``exfiltration``: a workstation sends tens of megabytes to an outside
  address no one else talks to.
- ``beaconing``: a workstation calls one outside address every minute (with
  a little jitter), small requests and answers, for an hour or more.
- ``new_service``: a workstation starts serving on a port it never served
  (4444 or 8081); other internal hosts connect to it.

Vectorised with numpy and seeded: the same arguments give the same records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ATTACK_TYPES = ("port_scan", "brute_force", "exfiltration", "beaconing", "new_service")
CONNECTIONS_PER_DAY = 20_000

_WORKSTATIONS = [f"10.0.10.{i}" for i in range(1, 61)]
_ADMINS = [f"10.0.20.{i}" for i in range(1, 6)]
_SERVERS = {
    "dns": "10.0.1.10",
    "proxy": "10.0.1.20",
    "files": "10.0.1.30",
    "mail": "10.0.1.40",
    "db": "10.0.1.50",
    "dc": "10.0.1.60",
    "app": "10.0.1.70",
}
_RESOLVERS = ["8.8.8.8", "1.1.1.1"]
_NTP = ["162.159.200.1", "162.159.200.123"]
# Office hours: relative activity of workstations per hour of day (UTC).
_RHYTHM = np.array(
    [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 15, 12, 15, 16, 16, 14, 10, 6, 4, 3, 2, 1, 1],
    dtype=float,
)

# kind: (share, proto, service, resp port, out-bytes log-mean, in-bytes log-mean, duration log-mean)
_NORMAL_KINDS = {
    "web": (0.55, "tcp", "ssl", 443, 7.0, 10.0, 0.0),
    "web_http": (0.05, "tcp", "http", 80, 6.5, 9.0, -0.5),
    "dns": (0.18, "udp", "dns", 53, 3.8, 4.8, -4.0),
    "files": (0.06, "tcp", "smb", 445, 8.0, 10.5, 0.5),
    "dc": (0.05, "tcp", "krb_tcp", 88, 7.0, 7.2, -2.5),
    "mail": (0.03, "tcp", "ssl", 993, 6.5, 9.5, 1.0),
    "admin": (0.02, "tcp", "ssh", 22, 8.5, 9.0, 3.5),
    "db": (0.04, "tcp", "postgresql", 5432, 6.0, 8.5, -1.5),
    "resolver": (0.015, "udp", "dns", 53, 3.9, 5.0, -3.5),
    "ntp": (0.005, "udp", "ntp", 123, 3.9, 3.9, -3.0),
}


def make_connections(
    n_rows: int,
    *,
    attack_rate: float = 0.01,
    random_state: int | None = None,
    start: str = "2026-11-02",
) -> pd.DataFrame:
    """Return ``n_rows`` connection records in time order, with ``is_attack`` and ``attack_type``.

    Parameters
    ----------
    n_rows : int
        Connections in all, spread over ``ceil(n_rows / 20000)`` whole days from
        ``start``: a multiple of 20,000 gives the organisation's usual rate.
    attack_rate : float, default=0.01
        Share of rows that belong to attack episodes, about equal per pattern.
    random_state : int or None
    start : str
        First day (UTC), ``YYYY-MM-DD``.
    """
    rng = np.random.default_rng(random_state)
    origin = pd.Timestamp(start, tz="UTC").timestamp()
    days = max(1, int(np.ceil(n_rows / CONNECTIONS_PER_DAY)))
    n_attack = round(n_rows * attack_rate)
    attacks = _attacks(rng, n_attack, origin, days) if n_attack else None
    normal = _normal(rng, n_rows - n_attack, origin, days)
    frame = (
        normal if attacks is None else pd.concat([normal, attacks], ignore_index=True)
    )
    frame = frame.sort_values("ts", kind="stable").reset_index(drop=True)
    frame.insert(1, "uid", [f"C{v:016x}" for v in rng.integers(0, 2**63, len(frame))])
    return frame


# ------------------------------------------------------------------ normal
def _normal(rng: np.random.Generator, n: int, origin: float, days: int) -> pd.DataFrame:
    names = list(_NORMAL_KINDS)
    shares = np.array([_NORMAL_KINDS[k][0] for k in names])
    kinds = rng.choice(len(names), size=n, p=shares / shares.sum())
    orig = np.empty(n, dtype=object)
    resp = np.empty(n, dtype=object)
    ports = np.empty(n, dtype=np.int64)
    proto = np.empty(n, dtype=object)
    service = np.empty(n, dtype=object)
    mean_out = np.empty(n)
    mean_in = np.empty(n)
    mean_dur = np.empty(n)
    sites = _external_sites(rng)
    popularity = 1.0 / np.arange(1, len(sites) + 1) ** 1.1
    popularity /= popularity.sum()
    for index, name in enumerate(names):
        rows = np.flatnonzero(kinds == index)
        _, proto_, service_, port, out_, in_, dur_ = _NORMAL_KINDS[name]
        proto[rows], service[rows], ports[rows] = proto_, service_, port
        mean_out[rows], mean_in[rows], mean_dur[rows] = out_, in_, dur_
        source, target = _ends(rng, name, len(rows), sites, popularity)
        orig[rows], resp[rows] = source, target
    server_side = np.isin(
        kinds, [names.index("db"), names.index("resolver"), names.index("ntp")]
    )
    ts = _times(rng, n, origin, days, steady=server_side)
    out_bytes = np.rint(np.exp(rng.normal(mean_out, 0.8))).astype(np.int64)
    in_bytes = np.rint(np.exp(rng.normal(mean_in, 1.0))).astype(np.int64)
    duration = np.exp(rng.normal(mean_dur, 1.0))
    state = rng.choice(
        ["SF", "S0", "RSTO", "RSTR", "SH"], size=n, p=[0.9, 0.03, 0.03, 0.03, 0.01]
    )
    failed = state == "S0"
    out_bytes[failed], in_bytes[failed] = 0, 0
    return _records(
        ts,
        orig,
        resp,
        ports,
        proto,
        service,
        duration,
        out_bytes,
        in_bytes,
        state,
        rng,
        "normal",
    )


def _external_sites(rng: np.random.Generator) -> np.ndarray:
    blocks = ["93.184", "151.101", "104.16", "142.250", "13.107", "52.84", "185.199"]
    first = rng.choice(len(blocks), 400)
    return np.array(
        [f"{blocks[b]}.{rng.integers(0, 256)}.{rng.integers(1, 255)}" for b in first],
        dtype=object,
    )


def _ends(
    rng: np.random.Generator,
    kind: str,
    n: int,
    sites: np.ndarray,
    popularity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Source and destination addresses for ``n`` normal connections of ``kind``."""
    workstations = np.array(_WORKSTATIONS, dtype=object)
    pick = rng.choice(workstations, n)
    if kind in ("web", "web_http"):
        return pick, rng.choice(sites, n, p=popularity)
    if kind == "admin":
        servers = np.array(list(_SERVERS.values()), dtype=object)
        return rng.choice(np.array(_ADMINS, dtype=object), n), rng.choice(servers, n)
    if kind == "db":
        return np.full(n, _SERVERS["app"], dtype=object), np.full(
            n, _SERVERS["db"], dtype=object
        )
    if kind == "resolver":
        return np.full(n, _SERVERS["dns"], dtype=object), rng.choice(
            np.array(_RESOLVERS, dtype=object), n
        )
    if kind == "ntp":
        return np.full(n, _SERVERS["dc"], dtype=object), rng.choice(
            np.array(_NTP, dtype=object), n
        )
    server = {"dns": "dns", "files": "files", "dc": "dc", "mail": "mail"}[kind]
    return pick, np.full(n, _SERVERS[server], dtype=object)


def _times(
    rng: np.random.Generator, n: int, origin: float, days: int, *, steady: np.ndarray
) -> np.ndarray:
    """Start times: office-hours rhythm for people, uniform for servers."""
    whole_days = days
    day = rng.integers(0, whole_days, n)
    hour = rng.choice(24, size=n, p=_RHYTHM / _RHYTHM.sum())
    ts = origin + day * 86_400.0 + hour * 3600.0 + rng.uniform(0, 3600, n)
    ts[steady] = origin + rng.uniform(0, whole_days * 86_400.0, int(steady.sum()))
    return ts


# ------------------------------------------------------------------ attacks
def _attacks(
    rng: np.random.Generator, n: int, origin: float, days: float
) -> pd.DataFrame:
    per_type = np.full(len(ATTACK_TYPES), n // len(ATTACK_TYPES))
    per_type[: n % len(ATTACK_TYPES)] += 1
    makers = {
        "port_scan": _port_scan,
        "brute_force": _brute_force,
        "exfiltration": _exfiltration,
        "beaconing": _beaconing,
        "new_service": _new_service,
    }
    parts = []
    span = days * 86_400.0
    for name, wanted in zip(ATTACK_TYPES, per_type, strict=True):
        made = 0
        while made < wanted:
            start = origin + rng.uniform(0, max(span - 7200.0, 60.0))
            part = makers[name](rng, start, int(wanted - made))
            parts.append(part)
            made += len(part)
    return pd.concat(parts, ignore_index=True)


def _episode_size(rng: np.random.Generator, typical: int, left: int) -> int:
    drawn = int(rng.integers(typical // 2, typical * 3 // 2 + 1))
    return min(left, max(1, drawn))


def _outside(rng: np.random.Generator, n: int) -> np.ndarray:
    """Addresses of rarely seen outside hosts (none of the normal sites' blocks)."""
    return np.array(
        [
            f"{rng.integers(45, 46)}.{rng.integers(0, 256)}.{rng.integers(0, 256)}.{rng.integers(1, 255)}"
            for _ in range(n)
        ],
        dtype=object,
    )


def _port_scan(rng: np.random.Generator, start: float, left: int) -> pd.DataFrame:
    n = _episode_size(rng, 150, left)
    source = rng.choice(np.array(_WORKSTATIONS, dtype=object))
    target = rng.choice(np.array(list(_SERVERS.values()), dtype=object))
    ports = rng.choice(np.arange(1, 10_000), n, replace=False)
    ts = start + np.sort(rng.uniform(0, 120, n))
    state = rng.choice(["REJ", "S0"], n, p=[0.7, 0.3])
    zeros = np.zeros(n, dtype=np.int64)
    return _records(
        ts,
        np.full(n, source, dtype=object),
        np.full(n, target, dtype=object),
        ports,
        np.full(n, "tcp", dtype=object),
        np.full(n, None, dtype=object),
        rng.uniform(0, 0.002, n),
        zeros,
        zeros,
        state,
        rng,
        "port_scan",
    )


def _brute_force(rng: np.random.Generator, start: float, left: int) -> pd.DataFrame:
    n = _episode_size(rng, 80, left)
    ssh = rng.random() < 0.5
    source = _outside(rng, 1)[0]
    target = _SERVERS["app"] if ssh else _SERVERS["files"]
    ts = start + np.sort(rng.uniform(0, 300, n))
    return _records(
        ts,
        np.full(n, source, dtype=object),
        np.full(n, target, dtype=object),
        np.full(n, 22 if ssh else 3389),
        np.full(n, "tcp", dtype=object),
        np.full(n, "ssh" if ssh else "rdp", dtype=object),
        np.exp(rng.normal(0.5, 0.3, n)),
        np.rint(np.exp(rng.normal(7.3, 0.2, n))).astype(np.int64),
        np.rint(np.exp(rng.normal(7.8, 0.2, n))).astype(np.int64),
        rng.choice(["SF", "RSTO"], n, p=[0.6, 0.4]),
        rng,
        "brute_force",
    )


def _exfiltration(rng: np.random.Generator, start: float, left: int) -> pd.DataFrame:
    n = _episode_size(rng, 12, left)
    source = rng.choice(np.array(_WORKSTATIONS, dtype=object))
    target = _outside(rng, 1)[0]
    ts = start + np.sort(rng.uniform(0, 3600, n))
    return _records(
        ts,
        np.full(n, source, dtype=object),
        np.full(n, target, dtype=object),
        np.full(n, 443),
        np.full(n, "tcp", dtype=object),
        np.full(n, "ssl", dtype=object),
        np.exp(rng.normal(4.5, 0.5, n)),
        np.rint(np.exp(rng.normal(17.5, 0.6, n))).astype(np.int64),
        np.rint(np.exp(rng.normal(8.0, 0.5, n))).astype(np.int64),
        np.full(n, "SF", dtype=object),
        rng,
        "exfiltration",
    )


def _beaconing(rng: np.random.Generator, start: float, left: int) -> pd.DataFrame:
    n = _episode_size(rng, 90, left)
    source = rng.choice(np.array(_WORKSTATIONS, dtype=object))
    target = _outside(rng, 1)[0]
    ts = start + np.arange(n) * 60.0 + rng.normal(0, 2.0, n)
    return _records(
        ts,
        np.full(n, source, dtype=object),
        np.full(n, target, dtype=object),
        np.full(n, 443),
        np.full(n, "tcp", dtype=object),
        np.full(n, "ssl", dtype=object),
        np.exp(rng.normal(-1.0, 0.2, n)),
        np.rint(np.exp(rng.normal(5.7, 0.1, n))).astype(np.int64),
        np.rint(np.exp(rng.normal(5.3, 0.1, n))).astype(np.int64),
        np.full(n, "SF", dtype=object),
        rng,
        "beaconing",
    )


def _new_service(rng: np.random.Generator, start: float, left: int) -> pd.DataFrame:
    n = _episode_size(rng, 30, left)
    host = rng.choice(np.array(_WORKSTATIONS, dtype=object))
    others = np.array([h for h in _WORKSTATIONS if h != host], dtype=object)
    ts = start + np.sort(rng.uniform(0, 3600, n))
    port = int(rng.choice([4444, 8081]))
    return _records(
        ts,
        rng.choice(others, n),
        np.full(n, host, dtype=object),
        np.full(n, port),
        np.full(n, "tcp", dtype=object),
        np.full(n, None, dtype=object),
        np.exp(rng.normal(1.0, 0.8, n)),
        np.rint(np.exp(rng.normal(6.0, 0.8, n))).astype(np.int64),
        np.rint(np.exp(rng.normal(9.0, 0.8, n))).astype(np.int64),
        np.full(n, "SF", dtype=object),
        rng,
        "new_service",
    )


# ------------------------------------------------------------------ records
def _records(
    ts: np.ndarray,
    orig: np.ndarray,
    resp: np.ndarray,
    ports: np.ndarray,
    proto: np.ndarray,
    service: np.ndarray,
    duration: np.ndarray,
    out_bytes: np.ndarray,
    in_bytes: np.ndarray,
    state: np.ndarray,
    rng: np.random.Generator,
    attack_type: str,
) -> pd.DataFrame:
    """Assemble Zeek conn fields; packets and IP bytes follow from payload bytes."""
    n = len(ts)
    out_bytes = np.asarray(out_bytes, dtype=np.int64)
    in_bytes = np.asarray(in_bytes, dtype=np.int64)
    out_pkts = 1 + out_bytes // 1200 + rng.integers(0, 3, n)
    in_pkts = np.where(in_bytes > 0, 1 + in_bytes // 1400 + rng.integers(0, 3, n), 0)
    rejected = np.isin(np.asarray(state, dtype=object), ["REJ", "S0"])
    in_pkts[rejected & (in_bytes == 0)] = np.where(
        np.asarray(state, dtype=object)[rejected & (in_bytes == 0)] == "REJ", 1, 0
    )
    internal = np.array([str(a).startswith("10.") for a in orig], dtype=bool)
    internal_resp = np.array([str(a).startswith("10.") for a in resp], dtype=bool)
    history = np.where(
        rejected,
        np.where(np.asarray(state, dtype=object) == "REJ", "Sr", "S"),
        "ShADadFf",
    )
    return pd.DataFrame(
        {
            "ts": np.round(np.asarray(ts, dtype=float), 6),
            "id.orig_h": orig,
            "id.orig_p": rng.integers(32_768, 61_000, n),
            "id.resp_h": resp,
            "id.resp_p": np.asarray(ports, dtype=np.int64),
            "proto": proto,
            "service": service,
            "duration": np.round(np.asarray(duration, dtype=float), 6),
            "orig_bytes": out_bytes,
            "resp_bytes": in_bytes,
            "conn_state": state,
            "local_orig": np.where(internal, "T", "F"),
            "local_resp": np.where(internal_resp, "T", "F"),
            "missed_bytes": np.zeros(n, dtype=np.int64),
            "history": history,
            "orig_pkts": out_pkts,
            "orig_ip_bytes": out_bytes + 40 * out_pkts,
            "resp_pkts": in_pkts,
            "resp_ip_bytes": in_bytes + 40 * in_pkts,
            "is_attack": np.full(n, int(attack_type != "normal"), dtype=np.int64),
            "attack_type": np.full(n, attack_type, dtype=object),
        }
    )
