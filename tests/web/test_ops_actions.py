"""What the dashboard's buttons do to planning and sending: a scenario switched off is left out of a plan unless
named; a retried dead message is really sent again, once, under its own key."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ltvkit import Workspace
from ltvkit.actions import OpsStore, import_contacts, load_library, plan, send
from ltvkit.actions._ops import outbox
from ltvkit.actions.dashboard import disabled_scenarios, retry_message, set_scenario_enabled
from ltvkit.config import SETTINGS, load_settings
from ltvkit.exceptions import InputError
from ltvkit.testing import FakeLineServer, synthetic_contacts, write_synthetic_results

AS_OF = dt.date(2025, 6, 30)
N = 3000


@pytest.fixture
def shop(tmp_path, monkeypatch):
    for s in SETTINGS:
        monkeypatch.delenv(s.env_var, raising=False)
    path = tmp_path / "ltv.duckdb"
    with Workspace(path) as ws:
        write_synthetic_results(ws, N, AS_OF, seed=3)
        ws.identity_secret()
    store = OpsStore("sqlite:///" + str(tmp_path / "ltv.ops.sqlite"))
    import_contacts(store, synthetic_contacts(N))
    yield path, store
    store.close()


def _states(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(outbox.c.scenario, sa.func.count()).group_by(outbox.c.scenario)).all())


def test_a_switched_off_scenario_is_planned_only_when_named(shop):
    path, store = shop
    scenarios = [s for s in load_library() if s.name in ("vip-thanks", "winback")]
    assert set_scenario_enabled(store, "vip-thanks", False) == {"vip-thanks"}
    with Workspace(path) as ws:
        report = plan(ws, store, scenarios, as_of=AS_OF)
        assert report.scenarios["vip-thanks"].to_dict()["not_planned"] == "disabled"
        assert "vip-thanks" not in _states(store) and _states(store).get("winback", 0) > 0
        named = plan(ws, store, scenarios[:1] if scenarios[0].name == "vip-thanks" else scenarios[1:],
                     as_of=AS_OF, explicit=True)
    assert named.scenarios["vip-thanks"].planned > 0 and _states(store)["vip-thanks"] > 0
    set_scenario_enabled(store, "vip-thanks", True)
    assert disabled_scenarios(store) == set()


def test_a_retried_dead_message_is_sent_again_once(shop, monkeypatch):
    path, store = shop
    scenarios = {s.name: s for s in load_library() if s.name == "winback"}
    with Workspace(path) as ws:
        plan(ws, store, list(scenarios.values()), as_of=AS_OF)
    with store.engine.connect() as conn:
        key = conn.execute(sa.select(outbox.c.key).where(outbox.c.state == "planned").limit(1)).scalar()
        planned = conn.execute(sa.select(sa.func.count()).where(outbox.c.state == "planned")).scalar()
    with store.begin() as conn:  # as the sender leaves a message LINE refused for good
        conn.execute(sa.update(outbox).where(outbox.c.key == key).values(state="failed", attempts=1,
                                                                          last_error="400"))
    with pytest.raises(InputError):
        retry_message(store, "no-such-key")
    with store.engine.connect() as conn:
        other = conn.execute(sa.select(outbox.c.key).where(outbox.c.state == "planned").limit(1)).scalar()
    with pytest.raises(InputError, match="planned"):
        retry_message(store, other)
    assert retry_message(store, key) == {"key": key, "state": "retry", "was": "failed"}
    with FakeLineServer(token="t") as line:
        monkeypatch.setenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", "t")
        monkeypatch.setenv("LTV_LINE_API_BASE", line.url)
        report = send(store, load_settings(path), scenarios)
        # planned as of a past day, the others expired long ago; the retried one expires a day from now
        assert (report.sent, report.expired) == (1, planned - 1)
        assert sum(1 for d in line.delivered if d["key"] == key) == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.state).where(outbox.c.key == key)).scalar() == "sent"
