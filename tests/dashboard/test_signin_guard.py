"""Sign-in rate limits and lockout (issue 15, case 8: 30 wrong secrets in 3.9 s)."""

import pytest
from streamlit.testing.v1 import AppTest

from anomaly_gan.dashboard.signin_guard import SignInGuard

from .test_app import APP


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_each_failure_doubles_the_wait_and_the_fifth_locks_out(caplog):
    clock = Clock()
    guard = SignInGuard(max_failures=5, lockout_s=900, delay_s=1.0, clock=clock)
    waits = []
    for _ in range(4):
        waits.append(guard.delay("10.0.0.1"))
        guard.failed("10.0.0.1", "mallory")
    assert waits == [0.0, 1.0, 2.0, 4.0]
    assert guard.locked_for("10.0.0.1") == 0
    guard.failed("10.0.0.1", "mallory")
    assert guard.locked_for("10.0.0.1") == 900
    assert guard.locked_for("10.0.0.2") == 0  # another client is not locked out
    assert guard.delay("10.0.0.2") == 0.0
    clock.now += 899
    assert guard.locked_for("10.0.0.1") == 1
    clock.now += 2
    assert guard.locked_for("10.0.0.1") == 0  # the lockout ends, the count is cleared
    assert guard.delay("10.0.0.1") == 0.0
    failed = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert failed[0] == "failed for name 'mallory' from 10.0.0.1 (1 in a row)"
    assert failed[-1].endswith("(5 in a row); locked out for 15 minutes")


def test_a_success_clears_the_count_and_many_clients_slow_everyone(caplog):
    clock = Clock()
    guard = SignInGuard(max_failures=50, delay_s=1.0, global_free=20, clock=clock)
    guard.failed("a", "x")
    guard.failed("a", "x")
    guard.succeeded("a", "ana")
    assert guard.delay("a") == 0.0
    assert "signed in as 'ana' from a" in [r.getMessage() for r in caplog.records]
    for i in range(40):  # guessing from forty addresses, once each
        guard.failed(f"host{i}", "x")
    assert guard.delay("a fresh client") == 2.0  # 40 failures this minute
    clock.now += 61
    assert guard.delay("a fresh client") == 0.0


@pytest.mark.slow
def test_the_dashboard_locks_out_after_repeated_wrong_secrets(tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("correct horse battery\n")
    monkeypatch.setenv("ANOMALY_GAN_SCORES_DIR", str(tmp_path))
    monkeypatch.setenv("ANOMALY_GAN_AUTH", "secret")
    monkeypatch.setenv("ANOMALY_GAN_SECRET_FILE", str(secret))
    monkeypatch.setenv("ANOMALY_GAN_SIGNIN_MAX_FAILURES", "3")
    monkeypatch.setenv("ANOMALY_GAN_SIGNIN_DELAY_S", "0.01")
    from anomaly_gan.dashboard import signin_guard  # the app's: its guard is shared

    monkeypatch.setattr(signin_guard, "_shared", None)  # fresh, with these settings
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for _ in range(3):
        at.text_input(key="sign_in_name").set_value("mallory")
        at.text_input(key="sign_in_secret").set_value("guess")
        at.button[0].click().run()
        assert at.error[0].value == "Wrong secret."
    # Locked out: no form any more, even for the right secret in a new session.
    again = AppTest.from_file(APP, default_timeout=60)
    again.run()
    assert not again.exception
    assert [e.value for e in again.error] == [
        "Too many failed sign-ins from this address: try again in 15 minutes."
    ]
    assert not again.text_input
