import subprocess
import sys

import anomaly_gan


def test_public_names_are_pinned():
    assert sorted(anomaly_gan.__all__) == [
        "AnomalyGanError",
        "ArtifactError",
        "ConfigError",
        "DataError",
        "DetectorConfig",
        "GANomalyDetector",
        "ImageGANomalyDetector",
        "RegistryError",
        "SchemaError",
        "TabularPreprocessor",
        "__version__",
        "load_adbench",
        "load_mnist",
        "load_nsl_kdd",
        "make_transactions",
    ]
    for name in anomaly_gan.__all__:
        assert getattr(anomaly_gan, name) is not None


def test_error_classes_inherit_the_builtins_callers_catch():
    assert issubclass(anomaly_gan.ConfigError, ValueError)
    assert issubclass(anomaly_gan.SchemaError, ValueError)
    assert issubclass(anomaly_gan.DataError, ValueError)
    for name in (
        "ConfigError",
        "SchemaError",
        "DataError",
        "ArtifactError",
        "RegistryError",
    ):
        assert issubclass(getattr(anomaly_gan, name), anomaly_gan.AnomalyGanError)


def test_importing_the_package_and_cli_does_not_load_torch():
    code = (
        "import sys, anomaly_gan, anomaly_gan.cli.entry; print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
