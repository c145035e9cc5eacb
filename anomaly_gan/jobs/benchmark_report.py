"""The benchmark's Markdown report, computed from its results CSV.

Per setting (``clean``, ``contaminated``): mean ROC-AUC, mean average
precision and average rank of every detector on fold A (where defaults are
chosen), fold B (where they are checked) and all ADBench sets; wins, ties and
losses of anomaly-gan against each baseline; its spread over seeds; the
ablation of its score (each part of the score alone, and the default without
it, each ranked in the default's place among the baselines). Then fit + score
seconds against PyOD's GAN detectors, NSL-KDD, one-class MNIST, the per-set
tables, failures and the machine. It only reads the CSV: every figure comes
from measured rows.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd

from anomaly_gan.jobs.benchmark import (
    BASELINES,
    MNIST_PREFIX,
    OURS,
    SETTINGS,
    TIE,
    fold_of,
)

ABLATION_PREFIX = f"{OURS} ["
# How the ablation rows' labels read in the report, in the order shown.
ABLATION_NAMES = {
    "gan": "GAN residuals alone (recon, latent, disc)",
    "recon": "reconstruction alone",
    "latent": "latent alone",
    "disc": "discriminator alone",
    "knn": "knn alone",
    "marginal": "marginal alone",
    "no gan": "default without the GAN's residuals",
    "no recon": "default without reconstruction",
    "no latent": "default without latent",
    "no disc": "default without discriminator",
    "no knn": "default without knn",
    "no marginal": "default without marginal",
}


def report(results_csv: Path, *, anogan_max_rows: int = 3_000) -> str:
    """Return the Markdown report of a results CSV."""
    frame = pd.read_csv(results_csv)
    if "setting" not in frame.columns:  # written before settings existed
        frame["setting"] = "clean"
    errors = frame[~(frame["error"].isna() | (frame["error"] == ""))]
    ok = frame[frame["error"].isna() | (frame["error"] == "")].copy()
    ok["roc_auc"] = ok["roc_auc"].astype(float)
    ok["average_precision"] = ok["average_precision"].astype(float)
    lines: list[str] = []
    for setting in SETTINGS:
        rows = ok[ok["setting"] == setting]
        if len(rows):
            lines += _setting_section(rows, setting, anogan_max_rows)
    clean = ok[ok["setting"] == "clean"]
    per_set = _per_set(clean)
    lines += _gan_time_section(per_set)
    lines += _nsl_kdd_section(per_set)
    lines += _mnist_section(per_set, clean)
    for setting in SETTINGS:
        rows = ok[ok["setting"] == setting]
        table = _per_set(rows)["roc_auc"].unstack("detector") if len(rows) else None
        if table is not None:
            lines += _per_set_table(table, setting)
    if len(errors):
        lines += ["", "## Failures", ""]
        lines += [
            f"- {r.dataset} ({r.setting}) seed {r.seed} {r.detector}: {r.error}"
            for r in errors.itertuples()
        ]
    lines += ["", _machine()]
    return "\n".join(lines).lstrip("\n")


def _per_set(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per data set and detector."""
    return rows.groupby(["dataset", "detector"])[
        ["roc_auc", "average_precision", "fit_s", "score_s"]
    ].mean()


def _adbench(index: pd.Index) -> list[str]:
    return [d for d in index if d != "nsl-kdd" and not d.startswith(MNIST_PREFIX)]


def _setting_section(
    rows: pd.DataFrame, setting: str, anogan_max_rows: int
) -> list[str]:
    per_set = _per_set(rows)
    auc = per_set["roc_auc"].unstack("detector")
    ap = per_set["average_precision"].unstack("detector")
    sets = _adbench(auc.index)
    if not sets:
        return []
    ranked = [d for d in (OURS, *BASELINES) if d in auc.columns and d != "AnoGAN"]
    complete = auc.loc[sets, ranked].dropna()
    folds = {
        "fold A": [d for d in complete.index if fold_of(d) == "A"],
        "fold B": [d for d in complete.index if fold_of(d) == "B"],
        "all": list(complete.index),
    }
    folds = {k: v for k, v in folds.items() if v}
    seeds = ", ".join(str(s) for s in sorted(rows["seed"].unique()))
    title = {
        "clean": "fit on the normal training rows",
        "contaminated": "fit on all training rows, anomalies included, unlabelled",
    }[setting]
    lines = [
        "",
        f"## {setting.capitalize()} setting ({title})",
        "",
        f"Mean ROC-AUC and average rank (1 = best of {len(ranked)}) per fold, over "
        f"the ADBench sets where every detector but AnoGAN finished ("
        + ", ".join(f"{k}: {len(v)}" for k, v in folds.items())
        + f"); seeds {seeds}; mean over seeds per set.",
        "",
        "| detector | "
        + " | ".join(f"{k} ROC-AUC | {k} rank" for k in folds)
        + " | all: average precision |",
        "|---|" + "---|---|" * len(folds) + "---|",
    ]
    ranks = {
        k: complete.loc[v].rank(axis=1, ascending=False).mean()
        for k, v in folds.items()
    }
    order = sorted(
        ranked, key=lambda d: ranks["all"].get(d, 99) if "all" in ranks else 0
    )
    for d in order:
        cells = " | ".join(
            f"{complete.loc[v, d].mean():.4f} | {ranks[k][d]:.2f}"
            for k, v in folds.items()
        )
        name = f"**{d}**" if d == OURS else d
        lines.append(f"| {name} | {cells} | {ap.loc[complete.index, d].mean():.4f} |")
    if "AnoGAN" in auc.columns and OURS in auc.columns:
        small = auc.loc[sets, ["AnoGAN", OURS]].dropna()
        if len(small):
            lines += [
                "",
                f"AnoGAN ran only where training has at most {anogan_max_rows:,} rows "
                f"({len(small)} sets): mean ROC-AUC AnoGAN {small['AnoGAN'].mean():.4f}, "
                f"{OURS} {small[OURS].mean():.4f} on the same sets.",
            ]
    if OURS not in complete.columns:
        return lines
    lines += _wins_section(auc, sets, folds)
    lines += _seed_section(rows, complete.index)
    lines += _ablation_section(auc, complete, folds)
    return lines


def _wins_section(
    auc: pd.DataFrame, sets: list[str], folds: dict[str, list[str]]
) -> list[str]:
    lines = [
        "",
        f"{OURS} against each baseline (ROC-AUC per set; ties within {TIE}): "
        "wins / ties / losses",
        "",
        "| baseline | " + " | ".join(folds) + " |",
        "|---|" + "---|" * len(folds),
    ]
    for d in (*BASELINES,):
        if d not in auc.columns:
            continue
        cells = []
        for names in folds.values():
            both = auc.loc[[n for n in names if n in sets], [OURS, d]].dropna()
            diff = both[OURS] - both[d]
            cells.append(
                f"{int((diff > TIE).sum())} / {int((diff.abs() <= TIE).sum())} / "
                f"{int((diff < -TIE).sum())}"
            )
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return lines


def _seed_section(rows: pd.DataFrame, sets: pd.Index) -> list[str]:
    chosen = rows[rows["dataset"].isin(sets)]
    per_seed = chosen.groupby(["detector", "seed"])["roc_auc"].mean().unstack("seed")
    shown = [d for d in (OURS, "KNN", "IForest") if d in per_seed.index]
    if chosen["seed"].nunique() < 2 or not shown:
        return ["", "Spread over seeds: not measured (one seed in these results)."]
    ours = chosen[chosen["detector"] == OURS]
    spread = ours.groupby("dataset")["roc_auc"].agg(["min", "max"])
    width = spread["max"] - spread["min"]
    means = "; ".join(
        f"{d} " + ", ".join(f"{v:.4f}" for v in per_seed.loc[d].dropna()) for d in shown
    )
    return [
        "",
        f"Mean ROC-AUC per seed (all sets above): {means}. Spread of {OURS} over "
        f"seeds per set (max - min): median {width.median():.4f}, largest "
        f"{width.max():.4f} ({width.idxmax()}).",
    ]


def _ablation_section(
    auc: pd.DataFrame, complete: pd.DataFrame, folds: dict[str, list[str]]
) -> list[str]:
    variants = [c for c in auc.columns if str(c).startswith(ABLATION_PREFIX)]
    if not variants:
        return []
    baselines = [c for c in complete.columns if c != OURS]
    lines = [
        "",
        f"Ablation of {OURS}'s score: the same fitted model with parts of the score "
        "left out, each ranked in the default's place among the baselines.",
        "",
        "| score | " + " | ".join(f"{k} ROC-AUC | {k} rank" for k in folds) + " |",
        "|---|" + "---|---|" * len(folds),
    ]
    labels = {c: c[len(ABLATION_PREFIX) : -1] for c in variants}
    ordered = [
        OURS,
        *sorted(
            variants,
            key=lambda c: (
                list(ABLATION_NAMES).index(labels[c])
                if labels[c] in ABLATION_NAMES
                else 99
            ),
        ),
    ]
    for column in ordered:
        cells = []
        for names in folds.values():
            table = pd.concat(
                [
                    auc.loc[names, [column]].rename(columns={column: "_v"}),
                    complete.loc[names, baselines],
                ],
                axis=1,
            ).dropna()
            rank = table.rank(axis=1, ascending=False)["_v"].mean()
            cells.append(f"{table['_v'].mean():.4f} | {rank:.2f}")
        name = (
            "default score"
            if column == OURS
            else ABLATION_NAMES.get(labels[column], labels[column])
        )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _per_set_table(auc: pd.DataFrame, setting: str) -> list[str]:
    order = [d for d in (OURS, *BASELINES) if d in auc.columns]
    if not order:
        return []
    auc = auc[order]
    lines = [
        "",
        f"## Per data set, {setting} setting (ROC-AUC, mean over seeds)",
        "",
        "| data set | fold | " + " | ".join(order) + " |",
        "|---|---|" + "---|" * len(order),
    ]
    for name in sorted(auc.index, key=lambda n: (fold_of(n) or "Z", n)):
        cells = []
        best = auc.loc[name].max()
        for d in order:
            v = auc.loc[name, d]
            cells.append(
                ""
                if pd.isna(v)
                else (f"**{v:.3f}**" if v >= best - 1e-12 else f"{v:.3f}")
            )
        lines.append(f"| {name} | {fold_of(name)} | " + " | ".join(cells) + " |")
    return lines


def _nsl_kdd_section(per_set: pd.DataFrame) -> list[str]:
    if not len(per_set):
        return []
    auc = per_set["roc_auc"].unstack("detector")
    if "nsl-kdd" not in auc.index:
        return []
    row = auc.loc["nsl-kdd"].dropna()
    row = row[[d for d in row.index if not str(d).startswith(ABLATION_PREFIX)]]
    lines = [
        "",
        "## NSL-KDD (KDDTest+, clean setting)",
        "",
        "| detector | ROC-AUC |",
        "|---|---|",
    ]
    return lines + [
        f"| {d} | {row[d]:.4f} |" for d in row.sort_values(ascending=False).index
    ]


def _gan_time_section(per_set: pd.DataFrame) -> list[str]:
    """Fit + score seconds of anomaly-gan against PyOD's GAN detectors, as ratios.

    Per data set (tabular and image alike, clean setting, mean over seeds), the
    ratio of anomaly-gan's fit + score seconds to the baseline's on the same
    splits in the same run; below 1 means anomaly-gan was faster.
    """
    if not len(per_set):
        return []
    seconds = (per_set["fit_s"] + per_set["score_s"]).unstack("detector")
    if OURS not in seconds.columns:
        return []
    rows: list[str] = []
    notes: list[str] = []
    for name in ("ALAD", "AnoGAN"):
        if name not in seconds.columns:
            continue
        both = seconds[[OURS, name]].dropna()
        if not len(both):
            continue
        ratio = both[OURS] / both[name]
        rows.append(
            f"| {name} | {len(both)} | {ratio.median():.2f} | {int((ratio < 1).sum())} | "
            f"{both[OURS].sum():.1f} | {both[name].sum():.1f} |"
        )
        slower = ratio[ratio > 1].sort_values(ascending=False)
        if len(slower):
            listed = ", ".join(
                f"{d} ({both.loc[d, OURS]:.2f} s against {both.loc[d, name]:.2f} s)"
                for d in slower.index
            )
            notes += ["", f"Slower than {name} on: {listed}."]
    if not rows:
        return []
    return [
        "",
        "## Fit + score seconds against PyOD's GAN detectors (clean setting)",
        "",
        "Per data set (mean over seeds), anomaly-gan's seconds divided by the "
        "baseline's, on the same splits in the same run; below 1 is faster.",
        "",
        "| baseline | data sets | median ratio | anomaly-gan faster on | "
        "total s, anomaly-gan | total s, baseline |",
        "|---|---|---|---|---|---|",
        *rows,
        *notes,
    ]


def _mnist_section(per_set: pd.DataFrame, ok: pd.DataFrame) -> list[str]:
    if not len(per_set):
        return []
    auc = per_set["roc_auc"].unstack("detector")
    digits = [d for d in auc.index if d.startswith(MNIST_PREFIX)]
    if not digits:
        return []
    table = auc.loc[digits].dropna(axis=1, how="all")
    seeds = sorted(ok.loc[ok["dataset"].isin(digits), "seed"].unique())
    lines = [
        "",
        "## One-class MNIST (ROC-AUC per anomalous digit, mean over seeds "
        + ", ".join(str(s) for s in seeds)
        + ")",
        "",
        "| detector | "
        + " | ".join(d[len(MNIST_PREFIX) :] for d in digits)
        + " | mean |",
        "|---|" + "---|" * (len(digits) + 1),
    ]
    for det in table.mean().sort_values(ascending=False).index:
        cells = " | ".join(f"{table.loc[d, det]:.3f}" for d in digits)
        lines.append(f"| {det} | {cells} | {table[det].mean():.3f} |")
    rows = ok[ok["dataset"].isin(digits)]
    per_seed = rows.groupby(["detector", "seed"])["roc_auc"].mean().unstack("seed")
    fit = rows.groupby("detector")["fit_s"].median()
    lines += ["", "| detector | mean per seed | median fit s |", "|---|---|---|"]
    for det in table.mean().sort_values(ascending=False).index:
        means = ", ".join(f"{v:.3f}" for v in per_seed.loc[det].dropna())
        lines.append(f"| {det} | {means} | {fit[det]:.1f} |")
    return lines


def _machine() -> str:
    import pyod
    import sklearn
    import torch

    from anomaly_gan._version import __version__

    gpu = (
        f", GPU {torch.cuda.get_device_name(0)}"
        if torch.cuda.is_available()
        else ", no GPU"
    )
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores{gpu}; Python "
        f"{platform.python_version()}, torch {torch.__version__}, pyod "
        f"{pyod.__version__}, scikit-learn {sklearn.__version__}, anomaly-gan "
        f"{__version__}."
    )
