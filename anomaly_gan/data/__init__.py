"""Where rows enter and leave.

Tables (CSV, Parquet) and image sources, read in
bounded batches and written atomically; the synthetic generators and the
benchmark loaders; the pieces a cluster scores; what a scored file records.

No torch here.
"""

from anomaly_gan._lazy import lazy_exports

__all__ = [
    "ImageBatch",
    "Piece",
    "TableBatch",
    "atomic_write",
    "iter_batches",
    "iter_image_batches",
    "load_adbench",
    "load_images",
    "load_mnist",
    "load_nsl_kdd",
    "make_transactions",
    "plan_pieces",
    "read_piece",
    "read_table",
    "write_table",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ImageBatch": "images",
        "Piece": "partitions",
        "TableBatch": "tables",
        "atomic_write": "tables",
        "iter_batches": "tables",
        "iter_image_batches": "images",
        "load_adbench": "datasets",
        "load_images": "images",
        "load_mnist": "datasets",
        "load_nsl_kdd": "datasets",
        "make_transactions": "datasets",
        "plan_pieces": "partitions",
        "read_piece": "partitions",
        "read_table": "tables",
        "write_table": "tables",
    },
)
