"""Fixtures for the channel tests: a fake LINE server, an `ltv serve` process on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for chanhelp

from chanhelp import SECRET, TOKEN, start_serve  # noqa: E402

from ltvkit.actions import OpsStore  # noqa: E402
from ltvkit.testing import FakeLineServer  # noqa: E402


@pytest.fixture(scope="module")
def fake_line():
    with FakeLineServer(token=TOKEN) as line:
        yield line


@pytest.fixture(scope="module")
def serve(tmp_path_factory, fake_line):
    tmp = tmp_path_factory.mktemp("serve")
    proc, url = start_serve(tmp, {"LTV_LINE_CHANNEL_SECRET": SECRET, "LTV_LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                                  "LTV_LINE_API_BASE": fake_line.url, "LTV_LINE_BOT_USER_ID": "Ubot",
                                  "LTV_ITEM_URL_TEMPLATE": "https://shop.example/items/{sku}"})
    store = OpsStore("sqlite:///" + str(tmp / "ltv.ops.sqlite"))
    try:
        yield url, store, tmp
    finally:
        store.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
