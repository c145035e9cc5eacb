import json

import pytest

from anomaly_gan.config import DetectorConfig
from anomaly_gan.exceptions import ConfigError


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"contamination": 0.7},
            "parameter 'contamination': expected a number in (0, 0.5], found 0.7",
        ),
        (
            {"threshold_method": "max"},
            "parameter 'threshold_method': expected one of fpr, contamination, found 'max'",
        ),
        (
            {"target_fpr": 0},
            "parameter 'target_fpr': expected a number in (0, 1), found 0",
        ),
        (
            {"epochs": 0},
            "parameter 'epochs': expected a positive integer or None, found 0",
        ),
        (
            {"batch_size": 2.5},
            "parameter 'batch_size': expected a positive integer or None, found 2.5",
        ),
        (
            {"hidden_dims": []},
            "parameter 'hidden_dims': expected a non-empty list of positive integers or None, found ()",
        ),
        ({"lr": -1}, "parameter 'lr': expected a positive number, found -1"),
        (
            {"recon_weight": -2},
            "parameter 'recon_weight': expected a non-negative number, found -2",
        ),
        (
            {"dropout": 1.0},
            "parameter 'dropout': expected a number in [0, 1), found 1.0",
        ),
        (
            {"validation_fraction": 0.6},
            "parameter 'validation_fraction': expected a number in (0, 0.5), found 0.6",
        ),
        (
            {"score_weights": {"foo": 1}},
            "parameter 'score_weights': expected keys among recon, latent, disc, knn, marginal, found ['foo']",
        ),
        (
            {"score_weights": {"recon": 0}},
            "parameter 'score_weights': expected non-negative weights with a positive sum, found {'recon': 0}",
        ),
        (
            {"score_combine": "min"},
            "parameter 'score_combine': expected one of balanced, max, mean, found 'min'",
        ),
        (
            {"numeric_transform": "log"},
            "parameter 'numeric_transform': expected one of robust, standard, quantile, found 'log'",
        ),
        (
            {"device": "tpu"},
            "parameter 'device': expected one of auto, cpu, cuda, mps or 'cuda:N', found 'tpu'",
        ),
        (
            {"random_state": "7"},
            "parameter 'random_state': expected an integer or None, found '7'",
        ),
    ],
)
def test_bad_parameters_are_refused_with_the_full_message(params, message):
    with pytest.raises(ConfigError) as info:
        DetectorConfig(**params)
    assert str(info.value) == message


def test_sizes_follow_the_documented_rule():
    sizes = DetectorConfig().resolve(n_rows=10_000, n_features=40)
    assert sizes.hidden_dims == (80, 40)
    assert sizes.latent_dim == 10
    assert sizes.batch_size == 256
    # 10,000 / 256 -> 40 steps per epoch; at least 3 epochs (120 steps)
    assert sizes.epochs == 3
    small = DetectorConfig().resolve(n_rows=100, n_features=3)
    assert small.hidden_dims == (32, 16)
    assert small.latent_dim == 4
    assert small.batch_size == 32
    assert small.epochs == 15  # 4 steps per epoch
    wide = DetectorConfig().resolve(n_rows=1_000_000, n_features=500)
    assert wide.hidden_dims == (256, 128)
    assert wide.latent_dim == 32
    assert wide.epochs == 1  # one pass over the rows is 3,907 steps
    # 50,000 rows: 196 steps per epoch; 300 steps come before 3 epochs
    assert DetectorConfig().resolve(n_rows=50_000, n_features=9).epochs == 2
    # 2,000 rows: 8 steps per epoch; 60 steps -> 8 epochs, as before
    assert DetectorConfig().resolve(n_rows=2_000, n_features=9).epochs == 8


def test_explicit_sizes_win_over_the_rule():
    sizes = DetectorConfig(
        hidden_dims=[64], latent_dim=3, batch_size=50, epochs=2
    ).resolve(500, 10)
    assert sizes == type(sizes)(
        hidden_dims=(64,), latent_dim=3, batch_size=50, epochs=2
    )


def test_json_round_trip_keeps_every_field():
    config = DetectorConfig(
        hidden_dims=(8, 4), id_cols=["a"], score_weights={"recon": 2.0}
    )
    again = DetectorConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.id_cols == ("a",)


def test_config_file_in_toml_and_json(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[detector]\nepochs = 3\nid_cols = ["tx"]\n\n')
    assert DetectorConfig.from_file(toml).epochs == 3
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"latent_dim": 5}))
    assert DetectorConfig.from_file(js).latent_dim == 5


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", "epochs = ", "expected valid TOML"),
        ("bad.json", "{", "expected valid JSON"),
        ("unknown.toml", "epoch = 3", "unknown parameter 'epoch'"),
        ("list.json", "[1, 2]", "expected a table of parameters"),
    ],
)
def test_bad_config_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        DetectorConfig.from_file(path)
    assert str(info.value).startswith(f"config file '{path}'")
    assert message in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        DetectorConfig.from_file(tmp_path / "none.toml")
    assert (
        str(info.value)
        == f"config file '{tmp_path / 'none.toml'}': cannot be read (No such file or directory)"
    )
