import os

import pytest

from anomaly_gan.engine import cpus


def _affinity(monkeypatch, n):
    monkeypatch.setattr(
        os, "sched_getaffinity", lambda pid: set(range(n)), raising=False
    )


@pytest.mark.parametrize(
    ("text", "expected"), [("max 100000\n", None), ("150000 100000\n", 1.5)]
)
def test_cgroup_v2_quota_is_read(tmp_path, monkeypatch, text, expected):
    (tmp_path / "cpu.max").write_text(text)
    monkeypatch.setattr(cpus, "_CGROUP_V2", tmp_path / "cpu.max")
    assert cpus.cgroup_quota() == expected


def test_cgroup_v1_quota_is_read(tmp_path, monkeypatch):
    (tmp_path / "quota").write_text("250000\n")
    (tmp_path / "period").write_text("100000\n")
    monkeypatch.setattr(cpus, "_CGROUP_V2", tmp_path / "absent")
    monkeypatch.setattr(cpus, "_CGROUP_V1", tmp_path / "quota")
    monkeypatch.setattr(cpus, "_CGROUP_V1_PERIOD", tmp_path / "period")
    assert cpus.cgroup_quota() == 2.5
    (tmp_path / "quota").write_text("-1\n")
    assert cpus.cgroup_quota() is None


def test_usable_cpus_take_the_smaller_of_affinity_and_quota(monkeypatch):
    _affinity(monkeypatch, 8)
    monkeypatch.setattr(cpus, "cgroup_quota", lambda: None)
    assert cpus.usable_cpus() == 8
    monkeypatch.setattr(cpus, "cgroup_quota", lambda: 2.5)
    assert cpus.usable_cpus() == 3
    monkeypatch.setattr(cpus, "cgroup_quota", lambda: 0.2)
    assert cpus.usable_cpus() == 1


@pytest.mark.parametrize(("usable", "expected"), [(1, 1), (2, 1), (16, 15)])
def test_scoring_leaves_one_usable_core_to_the_rest(monkeypatch, usable, expected):
    monkeypatch.setattr(cpus, "usable_cpus", lambda: usable)
    assert cpus.scoring_threads() == expected
    assert cpus.scoring_threads(4) == 4
