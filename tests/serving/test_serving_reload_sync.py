"""The reload broadcast between workers: the file protocol, and two apps (as two workers)
sharing one control directory, in this process."""

from __future__ import annotations

import httpx
from serving_fixtures import live_server

from embedrec.serving.app import create_app
from embedrec.serving.config import ServeConfig
from embedrec.serving.reload_sync import ReloadBroadcast
from embedrec.serving.state import ServiceState

TOKEN = "sync-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def test_publish_bumps_the_generation_and_acks_summarise(tmp_path):
    broadcast = ReloadBroadcast(tmp_path, workers=2, worker_id="w1")
    broadcast.initialise("/srv/a")
    assert broadcast.desired().generation == 0 and broadcast.changed()
    assert not broadcast.changed()
    desired = broadcast.publish("/srv/b")
    assert (desired.generation, desired.index) == (1, "/srv/b")
    assert broadcast.changed()
    assert broadcast.publish().index == "/srv/b"  # no path: the current one again

    broadcast.ack(2, "/srv/b")
    other = ReloadBroadcast(tmp_path, workers=2, worker_id="w2")
    other.ack(2, "/srv/a", error="manifest.json: missing")
    summary = broadcast.wait_for(2, timeout=1)
    assert summary == {
        "expected": 2,
        "reloaded": 1,
        "failed": [{"pid": summary["failed"][0]["pid"], "error": "manifest.json: missing"}],
        "complete": False,
    }
    # Acks of processes that are gone do not count (and are cleaned up).
    (tmp_path / "ack-dead.json").write_text(
        '{"pid": 999999999, "generation": 2, "index": "x", "ok": true, "error": null}'
    )
    assert len(broadcast.acks()) == 2 and not (tmp_path / "ack-dead.json").exists()
    other.forget()
    assert broadcast.wait_for(2, timeout=0.3)["reloaded"] == 1


def _worker(planted, control, worker_id: str):
    config = ServeConfig(
        index=str(planted.index_a),
        token=TOKEN,
        access_log=False,
        workers=2,
        control_dir=str(control),
    )
    broadcast = ReloadBroadcast(control, workers=2, worker_id=worker_id)
    desired = broadcast.desired()
    state = ServiceState.open(config, path=desired.index, generation=desired.generation)
    broadcast.ack(desired.generation, state.current().path)
    return create_app(state=state, broadcast=broadcast)


def test_a_reload_on_one_worker_reaches_the_other(planted, tmp_path):
    control = tmp_path / "control"
    ReloadBroadcast(control, workers=2).initialise(str(planted.index_a.resolve()))
    first, second = _worker(planted, control, "w1"), _worker(planted, control, "w2")
    with (
        live_server(first) as one,
        live_server(second) as two,
        httpx.Client(headers=AUTH, timeout=30) as client,
    ):
        answer = client.post(one.url + "/admin/reload", json={"index": str(planted.index_b)})
        assert answer.status_code == 200, answer.text
        assert answer.json()["workers"] == {
            "expected": 2,
            "reloaded": 2,
            "failed": [],
            "complete": True,
        }
        for server in (one, two):
            index = client.get(server.url + "/healthz").json()["index"]
            assert index["generation"] == 1
            assert index["path"] == str(planted.index_b.resolve())
        # A broken index is refused where it is asked, and never published.
        refused = client.post(two.url + "/admin/reload", json={"index": str(planted.broken)})
        assert refused.status_code == 422
        assert ReloadBroadcast(control, workers=2).desired().generation == 1
        # The second worker publishes; the first follows.
        answer = client.post(two.url + "/admin/reload", json={"index": str(planted.index_a)})
        assert answer.json()["workers"]["reloaded"] == 2
        first_index = client.get(one.url + "/healthz").json()["index"]
        assert first_index["generation"] == 2
        assert first_index["path"] == str(planted.index_a.resolve())
