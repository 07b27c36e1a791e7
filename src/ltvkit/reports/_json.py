"""JSON for the report: plain values from numpy/pandas, and JSON that is safe inside an HTML ``<script>``."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

__all__ = ["jsonable", "script_json", "table_records"]

# Inside <script>, "</script>" or "<!--" in a string would end or alter the script element; U+2028/2029 break
# older JavaScript parsers. Escaping these characters keeps the JSON valid and the element intact.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TRANSLATE = str.maketrans(_SCRIPT_ESCAPES)


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays, dates, decimals and NaN turned into plain JSON values."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return jsonable(float(value))
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series
        return jsonable(value.tolist())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def table_records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-able dicts."""
    return [{str(k): jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def script_json(value: Any) -> str:
    """JSON text that can be placed verbatim inside ``<script type="application/json">``."""
    text = json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_TRANSLATE)
