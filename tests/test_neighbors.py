import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from anomaly_gan.models import neighbors
from anomaly_gan.models.neighbors import mean_knn_distance


def test_matches_sklearn_exact_neighbours_across_chunks(monkeypatch):
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(300, 7)).astype(np.float32)
    x = rng.normal(size=(1000, 7)).astype(np.float32)
    monkeypatch.setattr(neighbors, "_CHUNK_ELEMENTS", 300 * 64)  # 16 chunks
    got = mean_knn_distance(torch.as_tensor(x), torch.as_tensor(ref), 5).numpy()
    want = NearestNeighbors(n_neighbors=5).fit(ref).kneighbors(x)[0].mean(axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_rows_in_the_reference_skip_themselves():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(200, 4)).astype(np.float32)
    own = torch.ones(200, dtype=torch.bool)
    got = mean_knn_distance(
        torch.as_tensor(ref), torch.as_tensor(ref), 3, skip_self=own
    ).numpy()
    dist, _ = NearestNeighbors(n_neighbors=4).fit(ref).kneighbors(ref)
    np.testing.assert_allclose(got, dist[:, 1:].mean(axis=1), rtol=1e-4, atol=1e-4)
    # Without the mask a reference row finds itself at distance 0.
    with_self = mean_knn_distance(torch.as_tensor(ref), torch.as_tensor(ref), 3)
    assert (with_self.numpy() < got).all()


def test_k_larger_than_the_reference_and_empty_inputs():
    ref = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    x = torch.tensor([[0.0, 0.0]])
    assert mean_knn_distance(x, ref, 10).item() == 2.5  # mean of 0 and 5
    assert mean_knn_distance(x, ref[:0], 5).tolist() == [0.0]
    assert mean_knn_distance(x[:0], ref, 5).shape == (0,)


def test_two_stage_selection_is_exact_with_many_reference_rows(monkeypatch):
    rng = np.random.default_rng(5)
    # 5,000 reference rows: 156 whole groups of 32 and a partial one; repeated
    # rows make ties, which must not change the values picked
    reference = rng.normal(size=(5_000, 4)).astype(np.float32)
    reference[4_990:] = reference[:10]
    x = np.vstack([reference[:200], rng.normal(size=(300, 4))]).astype(np.float32)
    own = torch.zeros(500, dtype=torch.bool)
    own[:200] = True
    args = (torch.from_numpy(x), torch.from_numpy(reference), 5)
    two_stage = mean_knn_distance(*args, skip_self=own)
    monkeypatch.setattr(neighbors, "_TWO_STAGE_FROM", 10**9)  # one topk
    torch.testing.assert_close(
        two_stage, mean_knn_distance(*args, skip_self=own), rtol=0, atol=0
    )
    squared = torch.from_numpy(rng.random((7, 5_000)).astype(np.float32))
    squared[:, 4_999] = -1.0  # the smallest value sits in the partial group
    torch.testing.assert_close(
        neighbors._smallest(squared, 6),
        squared.topk(6, dim=1, largest=False).values,
        rtol=0,
        atol=0,
    )
