"""Constants and helpers of the CRM tests (imported by conftest and the test modules)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ltvkit import Workspace
from ltvkit.actions import OpsStore

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
N_CUSTOMERS = 2000
TOKEN = "test-token"
# Yesterday in the shop's zone at noon: the planned send time is in the past (due now) whatever the clock says,
# and outside quiet hours; expiry (days after) is still ahead.
AS_OF = (dt.datetime.now(ZoneInfo("Asia/Tokyo")) - dt.timedelta(days=1)).date()
NOON = dt.datetime.combine(AS_OF, dt.time(12, 0))


@dataclass
class Shop:
    ws_path: Path
    ops_url: str
    scenarios_dir: Path

    def workspace(self) -> Workspace:
        return Workspace(self.ws_path)

    def store(self) -> OpsStore:
        return OpsStore(self.ops_url)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LTV_")}
        env.update({"PYTHONPATH": str(SRC), "LTV_OPS_DB": self.ops_url, "LTV_LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                    "LTV_CRM_RETRY_BASE_SECONDS": "0.01", "LTV_WORKSPACE": str(self.ws_path)})
        env.update(extra)
        return env

    def ltv(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ltvkit", *args], capture_output=True, text=True,
                              env=env or self.env(), timeout=timeout, cwd=self.ws_path.parent)


EVERYONE = """\
name: everyone
description: every customer, once a day (tests)
trigger:
  kind: segment
  once_per_days: 1
channels: [line]
holdout: {holdout}
priority: {priority}
template:
  ja: "{{{{ shop }}}} {{{{ orders }}}}回のご注文ありがとうございます"
  en: "Thanks for {{{{ orders }}}} orders"
"""


def write_scenario(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False
