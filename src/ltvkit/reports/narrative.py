"""One plain-language sentence per chart, written from the shop's own numbers (natural Japanese or English).

Every function takes the numbers a chart shows and ``lang`` and returns one sentence; missing numbers give a
shorter sentence rather than a wrong one. The wordings are ``narr.*`` keys of the catalogue
(:mod:`ltvkit.i18n`): each variant is a whole sentence in both languages, so the word order of each language
stays its own.
"""

from __future__ import annotations

from typing import Any

from ..i18n import fmt, format_currency, format_number, format_percent, t

__all__ = [
    "at_risk_sentence",
    "breakeven_sentence",
    "cac_sentence",
    "campaign_share_sentence",
    "cohort_heatmap_sentence",
    "cpm_sentence",
    "f2_windows_sentence",
    "golden_time_sentence",
    "kpi_sentence",
    "next_purchases_sentence",
    "p_alive_sentence",
    "point_ltv_sentence",
    "point_score_sentence",
    "recommendation_sentence",
    "retention_sentence",
    "rfm_sentence",
    "tracking_sentence",
]


def _y(v: Any, lang: str) -> str:
    return format_currency(v, lang)


def _p(v: Any, lang: str, digits: int = 1) -> str:
    return format_percent(v, lang, digits=digits)


def _n(v: Any, lang: str, digits: int = 0) -> str:
    return format_number(v, lang, digits=digits)


def _ok(*values: Any) -> bool:
    return all(v is not None and v == v for v in values)


def kpi_sentence(k: dict[str, Any], margin_12m: float | None, lang: str) -> str:
    aov, freq, life, ltv = k.get("aov"), k.get("purchases_per_year"), k.get("lifespan_years"), k.get("textbook_ltv")
    if not _ok(aov, freq):
        return ""
    words = {"aov": _y(aov, lang), "freq": _n(freq, lang, 1)}
    if not _ok(life, ltv):
        return t("narr.kpi", lang, **words)
    words.update(life=_n(life, lang, 1), ltv=_y(ltv, lang))
    if not _ok(margin_12m):
        return t("narr.kpi.ltv", lang, **words)
    return t("narr.kpi.ltv_margin", lang, margin=_y(margin_12m, lang), **words)


def cohort_heatmap_sentence(at_90: float | None, at_360: float | None, newest: tuple[str, float] | None,
                            oldest: tuple[str, float] | None, lang: str) -> str:
    parts = []
    if _ok(at_90):
        if _ok(at_360):
            parts.append(t("narr.cohort.at_90_360", lang, at_90=_y(at_90, lang), at_360=_y(at_360, lang)))
        else:
            parts.append(t("narr.cohort.at_90", lang, at_90=_y(at_90, lang)))
    if newest and oldest and newest[0] != oldest[0] and _ok(newest[1], oldest[1]) and oldest[1]:
        change = newest[1] / oldest[1] - 1
        key = "narr.cohort.compare_up" if change >= 0 else "narr.cohort.compare_down"
        parts.append(t(key, lang, newest=newest[0], oldest=oldest[0], change=_p(abs(change), lang, 0)))
    return t("narr.join", lang).join(parts) + t("narr.end", lang) if parts else ""


def retention_sentence(second: float | None, last: tuple[int, float] | None, lang: str) -> str:
    if not _ok(second):
        return ""
    if last and _ok(last[1]):
        return t("narr.retention.last", lang, second=_p(second, lang), start=last[0] - 30, end=last[0] - 1,
                 last=_p(last[1], lang))
    return t("narr.retention", lang, second=_p(second, lang))


def f2_windows_sentence(rates: dict[int, float], lang: str) -> str:
    ok = {w: r for w, r in rates.items() if _ok(r)}
    if not ok:
        return ""
    last_w = max(ok)
    first_w = min(ok)
    words = {"first_w": first_w, "first": _p(ok[first_w], lang)}
    if last_w == first_w:
        return t("narr.f2", lang, **words)
    words.update(last_w=last_w, last=_p(ok[last_w], lang))
    if ok[last_w] > 0:
        return t("narr.f2.share", lang, share=_p(ok[first_w] / ok[last_w], lang, 0), **words)
    return t("narr.f2.two", lang, **words)


def golden_time_sentence(start: Any, end: Any, hazard: Any, median_days: Any, lang: str) -> str:
    if not _ok(start, end, hazard):
        return ""
    words = {"start": int(start), "end": int(end), "hazard": _p(hazard, lang)}
    if _ok(median_days):
        return t("narr.golden.median", lang, median=_n(median_days, lang), **words)
    return t("narr.golden", lang, **words)


def rfm_sentence(top: tuple[str, float, float] | None, at_risk: tuple[str, float] | None, lang: str) -> str:
    """``top`` = (group, share of customers, share of value); ``at_risk`` = (group, share of customers)."""
    if not top:
        return ""
    name, cust, value = top
    words = {"name": name, "customers": _p(cust, lang), "value": _p(value, lang)}
    if at_risk and _ok(at_risk[1]):
        return t("narr.rfm.at_risk", lang, risk=at_risk[0], risk_share=_p(at_risk[1], lang), **words)
    return t("narr.rfm", lang, **words)


def cpm_sentence(active_share: float | None, best: tuple[str, float, float] | None, lang: str) -> str:
    if not _ok(active_share):
        return ""
    if best:
        return t("narr.cpm.best", lang, active=_p(active_share, lang), best=best[0], customers=_p(best[1], lang),
                 value=_p(best[2], lang))
    return t("narr.cpm", lang, active=_p(active_share, lang))


def point_score_sentence(driven_share: float | None, mean_score: float | None, lang: str) -> str:
    if not _ok(driven_share):
        return ""
    if _ok(mean_score):
        return t("narr.points.score_mean", lang, share=_p(driven_share, lang), score=_n(mean_score, lang, 2))
    return t("narr.points.score", lang, share=_p(driven_share, lang))


def point_ltv_sentence(point: float | None, organic: float | None, horizon_days: int, lang: str) -> str:
    if not _ok(point, organic) or not organic:
        return ""
    return t("narr.points.ltv", lang, days=horizon_days, point=_y(point, lang), organic=_y(organic, lang),
             ratio=_p(point / organic, lang, 0))


def campaign_share_sentence(share: float | None, base: float | None, lang: str) -> str:
    if not _ok(share):
        return ""
    if _ok(base):
        return t("narr.points.campaign_base", lang, share=_p(share, lang), base=_p(base, lang))
    return t("narr.points.campaign", lang, share=_p(share, lang))


def cac_sentence(best: tuple[str, float] | None, worst: tuple[str, float] | None, lang: str) -> str:
    """``best``/``worst`` = (channel, LTV/CAC ratio)."""
    if not best:
        return ""
    words = {"best": best[0], "best_ratio": fmt(best[1], "ratio", lang)}
    if not worst or worst[0] == best[0]:
        return t("narr.cac", lang, **words)
    words.update(worst=worst[0], worst_ratio=fmt(worst[1], "ratio", lang))
    if _ok(worst[1]) and worst[1] < 1:
        return t("narr.cac.loss", lang, **words)
    return t("narr.cac.worst", lang, **words)


def p_alive_sentence(share_alive: float | None, median: float | None, lang: str) -> str:
    if not _ok(share_alive):
        return ""
    if _ok(median):
        return t("narr.p_alive.median", lang, share=_p(share_alive, lang), median=_n(median, lang, 2))
    return t("narr.p_alive", lang, share=_p(share_alive, lang))


def tracking_sentence(predicted: float | None, actual: float | None, weeks: int | None, lang: str) -> str:
    if not _ok(predicted, actual) or not actual:
        return ""
    err = predicted / actual - 1
    words = {"predicted": _n(predicted, lang), "actual": _n(actual, lang),
             "error": ("+" if err >= 0 else "") + _p(err, lang)}
    if weeks:
        return t("narr.tracking.weeks", lang, weeks=weeks, **words)
    return t("narr.tracking", lang, **words)


def at_risk_sentence(n: int, value: float | None, lang: str) -> str:
    if not n:
        return ""
    if _ok(value):
        return t("narr.at_risk.value", lang, n=_n(n, lang), value=_y(value, lang))
    return t("narr.at_risk", lang, n=_n(n, lang))


def next_purchases_sentence(first_4w: float | None, total: float | None, weeks: int, lang: str) -> str:
    if not _ok(first_4w):
        return ""
    if _ok(total):
        return t("narr.next.total", lang, first=_n(first_4w, lang), total=_n(total, lang), weeks=weeks)
    return t("narr.next", lang, first=_n(first_4w, lang))


def recommendation_sentence(top_item: str | None, n_customers: int, n_top: int, lang: str) -> str:
    if not top_item:
        return ""
    return t("narr.recommend", lang, customers=_n(n_customers, lang), item=top_item, top=_n(n_top, lang))


def breakeven_sentence(best: tuple[str, float] | None, worst: tuple[str, float] | None, window_days: int,
                       lang: str) -> str:
    """``best``/``worst`` = (channel, 限界CPA in yen) when no acquisition costs are known."""
    if not best or not _ok(best[1]):
        return ""
    words = {"days": window_days, "best": best[0], "best_cpa": _y(best[1], lang)}
    if worst and worst[0] != best[0] and _ok(worst[1]):
        return t("narr.breakeven.worst", lang, worst=worst[0], worst_cpa=_y(worst[1], lang), **words)
    return t("narr.breakeven", lang, **words)
