"""The model registry: versions, aliases, rollback, atomic changes, the lock."""

import json
import multiprocessing
import shutil

import pytest

from anomaly_gan import GANomalyDetector
from anomaly_gan.exceptions import ArtifactError, RegistryError
from anomaly_gan.stores.registry import STATE, ModelRegistry, resolve_model_spec


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, fitted):
    return fitted.save(tmp_path_factory.mktemp("reg") / "model")


@pytest.fixture
def reg(tmp_path):
    return ModelRegistry(tmp_path / "registry", lock_timeout=2)


def test_register_list_show_and_resolve(reg, model_dir):
    assert reg.versions() == []
    one = reg.register(model_dir, note="first", evaluation={"roc_auc": 0.9})
    two = reg.register(model_dir, promote_to="production")
    assert (one, two) == (1, 2)
    listed = reg.versions()
    assert [v["version"] for v in listed] == [1, 2]
    assert listed[1]["aliases"] == ["production"]
    assert reg.show(1)["note"] == "first"
    assert reg.show("production")["version"] == 2
    assert reg.model_path("production") == reg.root / "versions" / "2" / "model"
    loaded = GANomalyDetector.load(reg.model_path(1))
    assert loaded.threshold_ == GANomalyDetector.load(model_dir).threshold_


def test_promote_and_rollback_walk_the_alias_history(reg, model_dir):
    for _ in range(3):
        reg.register(model_dir)
    reg.promote(1)
    reg.promote(2)
    reg.promote(3)
    assert reg.rollback() == (3, 2)
    assert reg.aliases()["production"] == 2
    assert reg.rollback() == (2, 1)
    with pytest.raises(
        RegistryError, match="alias 'production' has no earlier version to roll back to"
    ):
        reg.rollback()
    reg.promote(3, "canary")
    assert reg.aliases() == {"production": 1, "canary": 3}
    actions = [
        (e["alias"], e["action"], e["from"], e["to"]) for e in reg.state()["history"]
    ]
    assert actions[-3:] == [
        ("production", "rollback", 3, 2),
        ("production", "rollback", 2, 1),
        ("canary", "promote", None, 3),
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.promote(9), "no version or alias '9'"),
        (lambda r: r.show("staging"), "no version or alias 'staging'"),
        (lambda r: r.promote(1, "7"), "alias '7': expected letters, digits"),
        (lambda r: r.promote(1, "a b"), "alias 'a b': expected letters, digits"),
    ],
)
def test_unknown_versions_and_bad_aliases_are_refused(reg, model_dir, call, message):
    reg.register(model_dir)
    with pytest.raises(RegistryError, match=message):
        call(reg)


def test_a_tampered_model_is_refused_at_registration(reg, model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    (copy / "scorer.json").write_text("{}")
    with pytest.raises(ArtifactError, match="does not match its SHA-256"):
        reg.register(copy)
    assert reg.versions() == []


def test_a_writer_killed_before_its_commit_leaves_the_registry_as_it_was(
    reg, model_dir, monkeypatch
):
    reg.register(model_dir, promote_to="production")
    before = (reg.root / STATE).read_bytes()

    def killed(self, state):
        raise KeyboardInterrupt

    monkeypatch.setattr(ModelRegistry, "_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        reg.register(model_dir, promote_to="production")
    with pytest.raises(KeyboardInterrupt):
        reg.promote(1, "canary")
    monkeypatch.undo()
    assert (reg.root / STATE).read_bytes() == before
    assert [v["version"] for v in reg.versions()] == [1]
    # The dead writer's directory is invisible, then removed by the next writer.
    assert reg.register(model_dir) == 2
    assert sorted(p.name for p in (reg.root / "versions").iterdir()) == ["1", "2"]


def test_a_held_lock_makes_writers_wait_then_give_up(reg, model_dir):
    from filelock import FileLock

    reg.register(model_dir)
    with FileLock(str(reg.root / ".lock")):
        with pytest.raises(
            RegistryError, match="another writer held the lock for more than 2 s"
        ):
            reg.promote(1)
        assert reg.versions()[0]["version"] == 1  # readers are not blocked


def _register_in_process(root, model_dir, queue):
    try:
        queue.put(ModelRegistry(root, lock_timeout=60).register(model_dir))
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        queue.put(repr(exc))


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(reg, model_dir):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_register_in_process, args=(reg.root, model_dir, queue))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    numbers = sorted(queue.get(timeout=5) for _ in procs)
    assert numbers == [1, 2, 3, 4]
    assert reg.state()["versions"] == [1, 2, 3, 4]


def test_diff_reports_changes(reg, model_dir, tx_train, tmp_path):
    reg.register(model_dir, evaluation={"roc_auc": 0.9})
    other = GANomalyDetector(
        epochs=1,
        latent_dim=3,
        random_state=0,
        id_cols=["transaction_id", "card_id"],
        timestamp_cols=["timestamp"],
        exclude_cols=["fraud_type", "amount_24h"],
        label_col="is_fraud",
    )
    other.fit(tx_train)
    reg.register(other.save(tmp_path / "other"), evaluation={"roc_auc": 0.8})
    diff = reg.diff(1, 2)
    assert diff["params"]["latent_dim"] == [None, 3]
    assert diff["features_removed"] == ["amount_24h"]
    assert diff["evaluation"]["roc_auc"] == [0.9, 0.8]
    json.dumps(diff)


def test_model_specs_resolve_through_the_registry(reg, model_dir, monkeypatch):
    reg.register(model_dir, promote_to="production")
    assert (
        resolve_model_spec("registry:production", reg.root)
        == reg.root / "versions" / "1" / "model"
    )
    assert (
        resolve_model_spec("registry:1", reg.root)
        == reg.root / "versions" / "1" / "model"
    )
    monkeypatch.setenv("ANOMALY_GAN_REGISTRY", str(reg.root))
    assert (
        resolve_model_spec("registry:production")
        == reg.root / "versions" / "1" / "model"
    )
    assert resolve_model_spec("models/x") == type(reg.root)("models/x")
    with pytest.raises(
        RegistryError, match="expected registry:ALIAS or registry:VERSION"
    ):
        resolve_model_spec("registry:")


def test_a_newer_registry_format_is_refused(reg, model_dir):
    reg.register(model_dir)
    state = json.loads((reg.root / STATE).read_text())
    state["format"] = 99
    (reg.root / STATE).write_text(json.dumps(state))
    with pytest.raises(
        RegistryError, match="format 99 is newer than this anomaly-gan reads"
    ):
        reg.versions()
