"""Image inputs: folders of PNG/JPEG files, ``.npz`` arrays and MNIST IDX files.

Every source becomes batches of float32 pixels in ``[-1, 1]`` with shape
``(n, channels, size, size)``, plus a name per image (its path, or
``file.npz[i]``) and an optional label (a folder's subfolder name, an array's
``y``, MNIST's digit). Folders are read file by file in sorted order, so a large
folder streams in bounded memory. A file that cannot be decoded is reported by
path in ``rejected`` and skipped, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anomaly_gan.data.datasets import load_mnist
from anomaly_gan.exceptions import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ARRAY_KEYS = ("x", "X", "images", "arr_0")


@dataclass
class ImageBatch:
    """Pixels, names and labels of one batch, and what was skipped."""

    pixels: np.ndarray  # (n, channels, size, size) float32 in [-1, 1]
    names: list[str]
    labels: list[str] = field(default_factory=list)  # empty when unlabelled
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


def is_image_source(path: str | Path) -> bool:
    """Return True for a folder of image files, an ``.npz`` file or an IDX file."""
    p = Path(path)
    if p.is_dir():
        return any(_image_files(p, limit=1))
    name = p.name.lower()
    return name.endswith(".npz") or "idx" in name


def iter_image_batches(
    source: str | Path, size: int, channels: int, batch_size: int = 1024
) -> Iterator[ImageBatch]:
    """Yield batches of prepared images from a folder, ``.npz`` or IDX file."""
    p = Path(source)
    if not p.exists():
        msg = f"path '{source}': no such file or folder"
        raise DataError(msg)
    if p.is_dir():
        yield from _folder_batches(p, size, channels, batch_size)
        return
    array, labels = _read_array_file(p)
    for start in range(0, len(array), batch_size):
        chunk = array[start : start + batch_size]
        yield ImageBatch(
            pixels=prepare(chunk, size, channels),
            names=[f"{p.name}[{i}]" for i in range(start, start + len(chunk))],
            labels=labels[start : start + len(chunk)],
        )


def load_images(source: str | Path, size: int, channels: int) -> ImageBatch:
    """Read a whole source into one batch (rejections collected)."""
    parts = list(iter_image_batches(source, size, channels))
    if not parts:
        return ImageBatch(np.zeros((0, channels, size, size), np.float32), [])
    return ImageBatch(
        pixels=np.concatenate([b.pixels for b in parts]),
        names=[n for b in parts for n in b.names],
        labels=[label for b in parts for label in b.labels],
        rejected=[r for b in parts for r in b.rejected],
    )


def infer_channels(source: str | Path) -> int:
    """1 for grey sources, 3 for colour ones (from the first readable image)."""
    p = Path(source)
    if p.is_dir():
        from PIL import Image

        for path in _image_files(p):
            try:
                with Image.open(path) as image:
                    return 1 if image.mode in ("1", "L", "LA", "I", "I;16", "F") else 3
            except OSError:
                continue
        msg = f"folder '{source}': no readable image file"
        raise DataError(msg)
    array, _ = _read_array_file(p)
    return 3 if array.ndim == 4 and array.shape[-1] in (3, 4) else 1


def prepare(images: np.ndarray, size: int, channels: int) -> np.ndarray:
    """Arrays of images (n, H, W), (n, H, W, C) or (n, C, H, W) to model input.

    Integer pixels are taken as 0-255, floats as 0-1; images are resized
    (bilinear) to ``size x size`` and scaled to ``[-1, 1]``.
    """
    x = np.asarray(images)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3):
        x = np.moveaxis(x, -1, 1)
    if x.ndim != 4:
        msg = f"images: expected an array of shape (n, H, W) or (n, H, W, C), found {np.shape(images)}"
        raise DataError(msg)
    x = x.astype(np.float32) / 255.0 if x.dtype.kind in "ui" else x.astype(np.float32)
    x = x[:, :3]
    if x.shape[1] != channels:
        x = (
            x.mean(axis=1, keepdims=True)
            if channels == 1
            else np.repeat(x[:, :1], 3, 1)
        )
    if x.shape[2:] != (size, size):
        x = _resize(x, size)
    return np.ascontiguousarray(x * 2.0 - 1.0, dtype=np.float32)


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, C, H, W) floats in [0, 1], one plane at a time (Pillow)."""
    from PIL import Image

    out = np.empty((*x.shape[:2], size, size), dtype=np.float32)
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            plane = Image.fromarray(x[i, c].astype(np.float32), mode="F")
            out[i, c] = np.asarray(
                plane.resize((size, size), Image.Resampling.BILINEAR)
            )
    return np.clip(out, 0.0, 1.0)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Model-space pixels ``(C, H, W)`` in [-1, 1] to ``(H, W[, 3])`` uint8."""
    image = np.clip((np.asarray(pixels) + 1.0) * 127.5, 0, 255).astype(np.uint8)
    return image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)


def _image_files(folder: Path, limit: int | None = None) -> Iterator[Path]:
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            yield path
            count += 1
            if limit is not None and count >= limit:
                return


def _folder_batches(
    folder: Path, size: int, channels: int, batch_size: int
) -> Iterator[ImageBatch]:
    from PIL import Image, UnidentifiedImageError

    mode = "L" if channels == 1 else "RGB"
    pixels: list[np.ndarray] = []
    names: list[str] = []
    labels: list[str] = []
    rejected: list[tuple[str, str]] = []
    for path in _image_files(folder):
        try:
            with Image.open(path) as image:
                array = np.asarray(image.convert(mode))
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            rejected.append((str(path), f"cannot be read as an image ({exc})"))
            continue
        pixels.append(array)
        names.append(str(path))
        parent = path.parent.relative_to(folder)
        labels.append(str(parent.parts[0]) if parent.parts else "")
        if len(pixels) == batch_size:
            yield _folder_batch(pixels, names, labels, rejected, size, channels)
            pixels, names, labels, rejected = [], [], [], []
    if pixels or rejected:
        yield _folder_batch(pixels, names, labels, rejected, size, channels)


def _folder_batch(
    pixels: list[np.ndarray],
    names: list[str],
    labels: list[str],
    rejected: list[tuple[str, str]],
    size: int,
    channels: int,
) -> ImageBatch:
    prepared = (
        np.concatenate([prepare(p[None], size, channels) for p in pixels])
        if pixels
        else np.zeros((0, channels, size, size), np.float32)
    )
    return ImageBatch(
        prepared,
        names,
        labels if any(labels) else [],
        rejected,
    )


def _read_array_file(path: Path) -> tuple[np.ndarray, list[str]]:
    if path.name.lower().endswith(".npz"):
        try:
            with np.load(path, allow_pickle=False) as data:
                key = next((k for k in ARRAY_KEYS if k in data.files), None)
                if key is None:
                    msg = f"file '{path}': expected an array named one of {', '.join(ARRAY_KEYS)}, found {', '.join(data.files) or 'none'}"
                    raise DataError(msg)
                images = data[key]
                labels = [str(v) for v in data["y"]] if "y" in data.files else []
        except (OSError, ValueError) as exc:
            msg = f"file '{path}': cannot be read as .npz ({exc})"
            raise DataError(msg) from exc
        return images, labels
    labelled = load_mnist(path, _idx_labels(path))
    labels = [] if (labelled.y < 0).all() else [str(v) for v in labelled.y]
    return labelled.X, labels


def _idx_labels(images: Path) -> Path | None:
    """Return the labels file beside an MNIST images file, if there is one."""
    name = images.name.replace("images-idx3", "labels-idx1")
    candidate = images.with_name(name)
    return candidate if name != images.name and candidate.exists() else None
