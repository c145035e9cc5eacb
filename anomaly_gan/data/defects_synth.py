"""Synthetic textured surfaces with planted defects and their exact masks.

``make_textures`` draws grey images of a woven surface, the kind an inspection
camera sees on fabric, paper or brushed metal: two crossed sinusoidal gratings
with a random phase, a small random tilt and brightness, fine noise. A share of
the images carries one planted defect, and a mask marks its pixels:

- ``scratch``: a thin straight line, brighter or darker than the surface;
- ``spot``: an elliptical stain, darker or brighter, with soft edges;
- ``weave``: a patch where the weave runs at another angle and pitch (a
  texture fault, not a change of brightness).

The masks let heat maps be scored pixel by pixel (pixel ROC-AUC and AUPRO,
``scoring/pixel_metrics.py``) beside the image ROC-AUC. Vectorised with
numpy and seeded: the same arguments give the same images.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFECT_TYPES = ("scratch", "spot", "weave")


@dataclass
class DefectImages:
    """Images with labels and defect masks.

    Attributes
    ----------
    images : ndarray of uint8, shape (n, size, size)
    labels : ndarray of int, shape (n,)
        1 for an image with a defect.
    masks : ndarray of bool, shape (n, size, size)
        The defect's pixels (all False for a normal image).
    kinds : ndarray of str, shape (n,)
        ``"normal"`` or the defect type.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    kinds: np.ndarray


def make_textures(
    n: int,
    *,
    defect_rate: float = 0.0,
    size: int = 64,
    random_state: int | None = None,
) -> DefectImages:
    """Return ``n`` texture images, ``round(n * defect_rate)`` of them with a defect.

    Defect types take turns, so each is about equally common.
    """
    rng = np.random.default_rng(random_state)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    surface = _weave(rng, n, yy, xx, pitch=(7.0, 9.0), tilt=0.12)
    n_defect = round(n * defect_rate)
    which: list[int] = (
        sorted(rng.choice(n, n_defect, replace=False).tolist()) if n_defect else []
    )
    masks = np.zeros((n, size, size), dtype=bool)
    kinds = np.full(n, "normal", dtype=object)
    for turn, index in enumerate(which):
        kind = DEFECT_TYPES[turn % len(DEFECT_TYPES)]
        kinds[index] = kind
        surface[index], masks[index] = _DEFECTS[kind](rng, surface[index], yy, xx)
    noisy = surface + rng.normal(0, 0.04, surface.shape)
    images = np.clip(np.rint(noisy * 255), 0, 255).astype(np.uint8)
    labels = (kinds != "normal").astype(np.int64)
    return DefectImages(images, labels, masks, kinds.astype(str))


def _weave(
    rng: np.random.Generator,
    n: int,
    yy: np.ndarray,
    xx: np.ndarray,
    *,
    pitch: tuple[float, float],
    tilt: float,
    turn: float = 0.0,
) -> np.ndarray:
    """Crossed gratings in [0, 1]: random phase, angle ``turn`` +- ``tilt`` rad, brightness."""
    angle = turn + rng.uniform(-tilt, tilt, (n, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 2, 1, 1))
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    warp = np.sin(2 * np.pi * u / pitch[0] + phase[:, 0])
    weft = np.sin(2 * np.pi * v / pitch[1] + phase[:, 1])
    level = rng.uniform(0.45, 0.55, (n, 1, 1))
    return np.asarray(level + 0.18 * warp + 0.12 * weft, dtype=float)


def _scratch(
    rng: np.random.Generator, image: np.ndarray, yy: np.ndarray, xx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    size = image.shape[0]
    length = rng.uniform(0.3, 0.6) * size
    angle = rng.uniform(0, np.pi)
    cy, cx = rng.uniform(0.25, 0.75, 2) * size
    dy, dx = np.sin(angle), np.cos(angle)
    along = (yy - cy) * dy + (xx - cx) * dx
    across = np.abs(-(yy - cy) * dx + (xx - cx) * dy)
    mask = (np.abs(along) <= length / 2) & (across <= rng.uniform(0.6, 1.2))
    shade = rng.choice([-0.45, 0.45])
    return np.where(mask, image + shade, image), mask


def _spot(
    rng: np.random.Generator, image: np.ndarray, yy: np.ndarray, xx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    size = image.shape[0]
    cy, cx = rng.uniform(0.2, 0.8, 2) * size
    ry, rx = rng.uniform(0.05, 0.1, 2) * size
    r2 = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
    weight = np.clip(1.5 - r2, 0, 1)  # soft edge
    mask = r2 <= 1.0
    shade = rng.choice([-0.35, 0.35])
    return image + shade * weight, mask


def _weave_fault(
    rng: np.random.Generator, image: np.ndarray, yy: np.ndarray, xx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    size = image.shape[0]
    h, w = rng.integers(size // 6, size // 3, 2)
    top, left = rng.integers(0, size - h), rng.integers(0, size - w)
    mask = (yy >= top) & (yy < top + h) & (xx >= left) & (xx < left + w)
    other = _weave(rng, 1, yy, xx, pitch=(5.0, 6.0), tilt=0.1, turn=np.pi / 4)[0]
    return np.where(mask, other, image), mask


_DEFECTS = {"scratch": _scratch, "spot": _spot, "weave": _weave_fault}


def write_image_folder(
    data: DefectImages, out: str | Path, masks: str | Path | None = None
) -> None:
    """Write the images as PNG files under ``out/ok`` and ``out/defect``.

    ``masks`` (optional) gets each defect image's mask, white on the defect,
    under the same name. Each folder is written to a temporary folder beside
    it and replaces it as a whole when complete (an existing one included).
    """
    from PIL import Image

    targets = [(Path(out), data.images, "image")]
    if masks is not None:
        targets.append((Path(masks), data.masks, "mask"))
    for target, arrays, what in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for i, (array, kind) in enumerate(zip(arrays, data.kinds, strict=True)):
                label = "ok" if kind == "normal" else "defect"
                if what == "mask" and label == "ok":
                    continue
                folder = staging / label
                folder.mkdir(exist_ok=True)
                pixels = array.astype(np.uint8) * (255 if what == "mask" else 1)
                Image.fromarray(pixels).save(folder / f"{i:06d}_{kind}.png")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
