"""Image inputs: folders (with a corrupt file), .npz arrays, IDX files, resizing."""

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from anomaly_gan.data.images import (
    infer_channels,
    is_image_source,
    iter_image_batches,
    load_images,
    prepare,
    to_uint8,
)
from anomaly_gan.exceptions import DataError


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for label in ("ok", "scratched"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 256, (20, 24), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    (root / "ok" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "notes.txt").write_text("not an image")
    return root


def test_a_folder_streams_with_labels_and_reports_a_corrupt_file(folder):
    batches = list(iter_image_batches(folder, 16, 1, batch_size=4))
    assert [len(b.names) for b in batches] == [4, 2]
    whole = load_images(folder, 16, 1)
    assert whole.pixels.shape == (6, 1, 16, 16)
    assert whole.pixels.dtype == np.float32
    assert whole.pixels.min() >= -1.0 and whole.pixels.max() <= 1.0
    assert whole.labels == ["ok"] * 3 + ["scratched"] * 3
    assert len(whole.rejected) == 1
    path, reason = whole.rejected[0]
    assert path.endswith("broken.png") and "cannot be read as an image" in reason
    assert is_image_source(folder) and infer_channels(folder) == 1


def test_npz_and_colour_arrays(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x=images, y=np.arange(5))
    batch = load_images(tmp_path / "a.npz", 16, 3)
    assert batch.pixels.shape == (5, 3, 16, 16)
    assert batch.names[2] == "a.npz[2]" and batch.labels == ["0", "1", "2", "3", "4"]
    assert infer_channels(tmp_path / "a.npz") == 3
    np.savez(tmp_path / "b.npz", weights=images)
    with pytest.raises(DataError, match="expected an array named one of"):
        load_images(tmp_path / "b.npz", 16, 3)


def test_idx_files_with_their_labels(tmp_path):
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    with gzip.open(tmp_path / "t-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 4, 4) + images.tobytes())
    with gzip.open(tmp_path / "t-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes([7, 3]))
    batch = load_images(tmp_path / "t-images-idx3-ubyte.gz", 16, 1)
    assert batch.pixels.shape == (2, 1, 16, 16) and batch.labels == ["7", "3"]


def test_prepare_scales_and_round_trips_to_uint8():
    grey = np.array([[[0, 255], [255, 0]]], dtype=np.uint8)
    x = prepare(grey, 2, 1)
    assert x.tolist() == [[[[-1.0, 1.0], [1.0, -1.0]]]]
    assert to_uint8(x[0]).tolist() == [[0, 255], [255, 0]]
    floats = prepare(np.full((1, 4, 4, 3), 0.5), 4, 3)
    assert np.allclose(floats, 0.0)
    assert prepare(np.zeros((2, 4, 4, 3), np.uint8), 4, 1).shape == (2, 1, 4, 4)
    with pytest.raises(DataError, match="expected an array of shape"):
        prepare(np.zeros((1, 2, 3, 4, 5)), 4, 1)
