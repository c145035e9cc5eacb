"""What a detector fits and keeps.

The GAN networks and their losses (torch), and
the reference-based components beside them: the knn views, the image
neighbours and the marginal tails.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = [
    "CosineViews",
    "GanOutput",
    "ImageDiscriminator",
    "ImageGenerator",
    "KnnViews",
    "MarginalTails",
    "TabularDiscriminator",
    "TabularGenerator",
    "mean_knn_distance",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CosineViews": "image_neighbors",
        "GanOutput": "tabular",
        "ImageDiscriminator": "image",
        "ImageGenerator": "image",
        "KnnViews": "knn_views",
        "MarginalTails": "marginal_tails",
        "TabularDiscriminator": "tabular",
        "TabularGenerator": "tabular",
        "mean_knn_distance": "neighbors",
    },
)
