"""CRM scenarios: YAML files validated on load, audience conditions parsed safely, sandboxed Jinja2 templates.

A scenario says *who* (trigger + audience), *how* (channels in preference order, a ja/en template), and how it is
measured (holdout share). An error names the file, the line and the field, in one sentence. The shipped library
(``ltvkit/actions/library/*.yaml``) holds no points and no discounts: it follows up at the right moment instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..exceptions import ScenarioError

__all__ = [
    "CONTEXT_VARIABLES",
    "Condition",
    "Scenario",
    "Trigger",
    "load_library",
    "load_scenario",
    "load_scenarios",
    "parse_condition",
    "render",
]

# Variables every template may use; each is present in every message's context (``None`` when unknown).
CONTEXT_VARIABLES = {
    "shop": "the shop's name (LTV_CRM_SHOP_NAME)",
    "scenario": "the scenario's name",
    "first_order_date": "date of the customer's first order",
    "last_order_date": "date of the customer's latest order",
    "orders": "number of orders",
    "segment": "RFM segment",
    "expected_next_purchase_date": "predicted date of the next purchase",
    "due_date": "the date the trigger is about (re-buy due, golden time, next purchase)",
    "item": "the item the trigger is about ({sku, name}), e.g. the consumable due for a re-buy",
    "items": "up to three recommended items ({sku, name}), best first",
}
TRIGGER_KINDS = ("segment", "after_first_order", "golden_time", "replenishment_due", "next_purchase_due")
KNOWN_CHANNELS = ("line", "email", "export", "insert", "webhook")
HTML_CHANNELS = ("email",)
OPS = ("==", "!=", "<=", ">=", "<", ">", "not in", "in")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_COND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|<|>|not\s+in\b|in\b)\s*(.+?)\s*$")


class Condition(BaseModel):
    """One audience condition ``column op value`` (value: number, date, string, true/false or a list)."""

    column: str
    op: str
    value: Any
    text: str


def _scalar(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none"):
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", text):
        return float(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if re.fullmatch(r"[^\s,\[\]'\"(){}<>=!]+", text) and "__" not in text:
        return text
    raise ValueError(f"{text!r} is not a number, date, true/false or string")


def parse_condition(text: str) -> Condition:
    """Parse ``column op value`` without evaluating anything (no ``eval``).

    >>> parse_condition("p_alive >= 0.5").value
    0.5
    >>> parse_condition("segment in [champions, loyal]").value
    ['champions', 'loyal']
    """
    if not isinstance(text, str):
        raise ValueError("a condition is a string such as 'p_alive >= 0.5'")
    m = _COND.match(text)
    if not m:
        raise ValueError(f"{text!r} is not 'column op value' with op one of {', '.join(OPS)}")
    column, op, raw = m.group(1), re.sub(r"\s+", " ", m.group(2)), m.group(3)
    if op in ("in", "not in"):
        if not (raw.startswith("[") and raw.endswith("]")):
            raise ValueError(f"{text!r}: '{op}' needs a list such as [a, b]")
        inner = raw[1:-1].strip()
        value: Any = [_scalar(v) for v in inner.split(",")] if inner else []
    else:
        value = _scalar(raw)
    return Condition(column=column, op=op, value=value, text=text)


def _condition(value: Any) -> Any:
    return value if isinstance(value, Condition) else parse_condition(value)


class Trigger(BaseModel):
    """When a scenario fires for a customer (see docs/crm.md)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["segment", "after_first_order", "golden_time", "replenishment_due", "next_purchase_due"]
    days: int | None = Field(None, ge=0, le=3650)
    lead_days: int = Field(0, ge=0, le=365)
    once_per_days: int | None = Field(None, ge=1, le=3650)

    @model_validator(mode="after")
    def _needs(self) -> Trigger:
        if self.kind == "after_first_order" and self.days is None:
            raise ValueError("trigger after_first_order needs days (e.g. days: 3)")
        if self.kind == "segment" and self.once_per_days is None:
            raise ValueError("trigger segment needs once_per_days (e.g. once_per_days: 30)")
        return self


class Scenario(BaseModel):
    """A validated scenario; ``path`` is the file it came from (``library:`` for shipped ones)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    trigger: Trigger
    audience: list[Annotated[Condition, BeforeValidator(_condition)]] = Field(default_factory=list)
    channels: list[Literal["line", "email", "export", "insert", "webhook"]] = Field(default_factory=lambda: ["line"],
                                                                          min_length=1)
    template: dict[Literal["ja", "en"], str]
    holdout: float | None = Field(None, ge=0.0, lt=1.0)
    priority: int = Field(50, ge=0, le=1000)
    expires_after_days: int = Field(7, ge=1, le=365)
    path: str = ""
    lines: dict[str, int] = Field(default_factory=dict, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} is not a name of lower-case letters, digits, - and _")
        return v

    @field_validator("audience", mode="before")
    @classmethod
    def _audience(cls, v: Any) -> Any:
        if v is None:
            return []
        if not isinstance(v, list):
            raise ValueError("audience is a list of conditions such as 'p_alive >= 0.5'")
        return v

    @field_validator("template")
    @classmethod
    def _template(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("template needs a ja or en text")
        return v

    def field_line(self, field: str) -> int | None:
        return self.lines.get(field)

    def where(self, field: str) -> str:
        line = self.field_line(field) or self.field_line(field.split(".")[0].split("[")[0])
        return f"{self.path}, line {line}, field {field}" if line else f"{self.path}, field {field}"


# -- loading --------------------------------------------------------------------------------------------------

def _node_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """``field path → line`` for every node of a YAML document (``trigger.kind``, ``audience[0]``)."""
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{prefix}.{k.value}" if prefix else str(k.value)
            out[key] = k.start_mark.line + 1
            out.update(_node_lines(v, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = f"{prefix}[{i}]"
            out[key] = item.start_mark.line + 1
            out.update(_node_lines(item, key))
    return out


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _detail(text: str) -> str:
    """A detail (pydantic's or Jinja's English words) put inside a catalogue sentence that ends with a full stop."""
    return str(text).strip().rstrip(".")


def load_scenario(path: str | Path, *, text: str | None = None, label: str | None = None) -> Scenario:
    """Read and validate one scenario file; raise :class:`ScenarioError` naming file, line and field."""
    path = Path(path)
    shown = label or str(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(key="err.scenario_unreadable", path=shown, reason=str(exc.strerror)) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or str(exc))
        if mark is not None:
            raise ScenarioError(key="err.scenario_yaml_line", path=shown, line=mark.line + 1,
                                problem=problem) from None
        raise ScenarioError(key="err.scenario_yaml", path=shown, problem=problem) from None
    if not isinstance(data, dict) or node is None:
        raise ScenarioError(key="err.scenario_not_mapping", path=shown)
    lines = _node_lines(node)
    try:
        scenario = Scenario.model_validate({**data, "path": shown, "lines": lines})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _loc(err["loc"]) or "?"
        line = lines.get(field)
        probe = field
        while line is None and probe:
            parent = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            if parent == probe:
                break
            probe = parent
            line = lines.get(probe)
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "this field is required"
        elif err["type"] == "extra_forbidden":
            msg = "this is not a scenario field"
        detail = _detail(msg)
        if line:
            raise ScenarioError(key="err.scenario_field_line", path=shown, line=line, field=field,
                                detail=detail) from None
        raise ScenarioError(key="err.scenario_field", path=shown, field=field, detail=detail) from None
    check_templates(scenario)
    return scenario


def load_library() -> list[Scenario]:
    """The shipped scenarios (package data), sorted by name."""
    out = []
    for entry in sorted(resources.files("ltvkit.actions").joinpath("library").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            out.append(load_scenario(entry.name, text=entry.read_text(encoding="utf-8"),
                                     label=f"library:{entry.name}"))
    return out


def load_scenarios(directory: str | Path | None = None, *, library: bool = True) -> dict[str, Scenario]:
    """The shipped library plus the shop's own files in ``directory`` (a shop file replaces a shipped one of the
    same name). Two shop files with one name are refused."""
    found: dict[str, Scenario] = {s.name: s for s in load_library()} if library else {}
    if directory is not None:
        d = Path(directory)
        if not d.is_dir():
            raise ScenarioError(key="err.scenario_dir_missing", path=str(d))
        own: dict[str, str] = {}
        for path in sorted([*d.glob("*.yaml"), *d.glob("*.yml")]):
            s = load_scenario(path)
            if s.name in own:
                raise ScenarioError(key="err.scenario_duplicate_name", path=str(path), name=repr(s.name), other=own[s.name])
            own[s.name] = str(path)
            found[s.name] = s
    return dict(sorted(found.items()))


# -- templates ------------------------------------------------------------------------------------------------

_ENVS: dict[bool, SandboxedEnvironment] = {}


def environment(html: bool = False) -> SandboxedEnvironment:
    """The sandboxed Jinja2 environment: unknown variables fail (StrictUndefined); HTML channels autoescape."""
    env = _ENVS.get(html)
    if env is None:
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=html, trim_blocks=True,
                                   lstrip_blocks=True, keep_trailing_newline=False)
        _ENVS[html] = env
    return env


def check_templates(scenario: Scenario) -> None:
    """Fail with one sentence (file, line, field) on a syntax error or a variable no message context has."""
    for lang, source in scenario.template.items():
        field = f"template.{lang}"
        env = environment(False)
        try:
            ast = env.parse(source)
        except TemplateSyntaxError as exc:
            raise ScenarioError(key="err.scenario_template_syntax", where=scenario.where(field),
                                detail=str(exc.message)) from None
        unknown = sorted(meta.find_undeclared_variables(ast) - set(CONTEXT_VARIABLES))
        if unknown:
            raise ScenarioError(key="err.scenario_template_variable", where=scenario.where(field),
                                name=repr(unknown[0]), known=", ".join(sorted(CONTEXT_VARIABLES)))


def sample_context(scenario: Scenario, shop: str = "") -> dict[str, Any]:
    """A context with every variable set (items included), to test-render templates at plan time."""
    item = {"sku": "SKU-1", "name": "item"}
    day = dt.date(2000, 1, 1)
    return {"shop": shop, "scenario": scenario.name, "first_order_date": day, "last_order_date": day,
            "orders": 1, "segment": "segment", "expected_next_purchase_date": day, "due_date": day,
            "item": item, "items": [item, item]}


@functools.lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> Any:
    """A template compiled once per text (compiling costs far more than rendering one message)."""
    return environment(html).from_string(source)


def render(scenario: Scenario, lang: str, context: dict[str, Any], *, html: bool = False) -> str:
    """Render a scenario's template in ``lang`` (falling back to the other language) for one message."""
    source = scenario.template.get(lang) or next(iter(scenario.template.values()))  # type: ignore[call-overload]
    field = f"template.{lang if lang in scenario.template else next(iter(scenario.template))}"
    try:
        return _compiled(html, source).render(**context).strip()
    except (UndefinedError, SecurityError, TypeError, ValueError) as exc:
        raise ScenarioError(key="err.scenario_template_render", where=scenario.where(field),
                            detail=str(exc)) from None
