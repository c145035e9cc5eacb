"""How well heat maps locate defects: pixel ROC-AUC and AUPRO against masks.

- ``pixel_roc_auc``: every pixel of every image is one sample, its heat-map
  value the score and the mask the label (as in MVTec AD's pixel-level
  ROC-AUC). Large defects weigh more than small ones.
- ``aupro``: the per-region overlap (Bergmann et al., 2021): at each
  threshold, the mean over defect regions (connected components of the masks)
  of the share of the region's pixels above it, against the false-positive
  rate on defect-free pixels; the area under that curve up to ``max_fpr``
  (default 0.3), divided by ``max_fpr``. Every region counts the same, so
  small defects weigh as much as large ones. 1 is perfect; a heat map that
  ignores the image scores about ``max_fpr / 2``.

numpy, scikit-learn and scipy's connected components; no torch.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score


def _check(heatmaps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    maps = np.asarray(heatmaps, dtype=float)
    truth = np.asarray(masks, dtype=bool)
    if maps.shape != truth.shape or maps.ndim != 3:
        msg = f"heat maps and masks: expected the same shape (n, H, W), found {maps.shape} and {truth.shape}"
        raise ValueError(msg)
    if not truth.any() or truth.all():
        msg = "masks: expected both defect and defect-free pixels"
        raise ValueError(msg)
    return maps, truth


def pixel_roc_auc(heatmaps: np.ndarray, masks: np.ndarray) -> float:
    """ROC-AUC of heat-map values against mask pixels, over all images."""
    maps, truth = _check(heatmaps, masks)
    return float(roc_auc_score(truth.ravel(), maps.ravel()))


def aupro(
    heatmaps: np.ndarray,
    masks: np.ndarray,
    *,
    max_fpr: float = 0.3,
    steps: int = 200,
) -> float:
    """Normalised area under the per-region-overlap curve up to ``max_fpr``."""
    maps, truth = _check(heatmaps, masks)
    labelled = np.zeros(truth.shape, dtype=np.int64)
    regions = 0
    for i in range(len(truth)):
        found, count = ndimage.label(truth[i])
        labelled[i] = np.where(found > 0, found + regions, 0)
        regions += count
    background = np.sort(maps[~truth])
    # Thresholds at the background quantiles that give FPRs 0 .. max_fpr.
    fprs = np.linspace(0.0, max_fpr, steps)
    thresholds = np.quantile(background, 1.0 - fprs)
    region_of = labelled[truth]
    values = maps[truth]
    sizes = np.bincount(region_of, minlength=regions + 1)[1:]
    pros = np.empty(steps)
    actual = np.empty(steps)
    for j, t in enumerate(thresholds):
        hits = np.bincount(region_of[values > t], minlength=regions + 1)[1:]
        pros[j] = float(np.mean(hits / sizes))
        actual[j] = 1.0 - np.searchsorted(background, t, side="right") / len(background)
    order = np.argsort(actual)
    x, y = actual[order], pros[order]
    x = np.clip(x, 0.0, max_fpr)
    if x[-1] < max_fpr:  # quantiles stop just short: hold the last overlap to the end
        x, y = np.append(x, max_fpr), np.append(y, y[-1])
    return float(np.trapezoid(y, x) / max_fpr)
