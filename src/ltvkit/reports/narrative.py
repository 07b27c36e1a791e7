"""One plain-language sentence per chart, written from the shop's own numbers (natural Japanese or English).

Every function takes the numbers a chart shows and ``lang`` and returns one sentence; missing numbers give a
shorter sentence rather than a wrong one.
"""

from __future__ import annotations

from typing import Any

from ._i18n import fmt

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
    return fmt(v, "yen", lang)


def _p(v: Any, lang: str) -> str:
    return fmt(v, "pct", lang)


def _ok(*values: Any) -> bool:
    return all(v is not None and v == v for v in values)


def kpi_sentence(k: dict[str, Any], margin_12m: float | None, lang: str) -> str:
    aov, freq, life, ltv = k.get("aov"), k.get("purchases_per_year"), k.get("lifespan_years"), k.get("textbook_ltv")
    if not _ok(aov, freq):
        return ""
    if lang == "ja":
        s = f"お客様は1回に平均{_y(aov, lang)}を使い、年に{freq:.1f}回購入しています。"
        if _ok(life, ltv):
            s += f"継続年数{life:.1f}年を掛けた教科書的なLTVは{_y(ltv, lang)}です"
            s += (f"が、実際に最初の12か月で得られた粗利は新規顧客1人あたり{_y(margin_12m, lang)}です。"
                  if _ok(margin_12m) else "。")
        return s
    s = f"A customer spends {_y(aov, lang)} per order on average and buys {freq:.1f} times a year"
    if _ok(life, ltv):
        s += f"; over a lifespan of {life:.1f} years that makes a textbook LTV of {_y(ltv, lang)}"
        if _ok(margin_12m):
            s += f", while the margin actually earned in the first 12 months is {_y(margin_12m, lang)} per new customer"
    return s + "."


def cohort_heatmap_sentence(at_90: float | None, at_360: float | None, newest: tuple[str, float] | None,
                            oldest: tuple[str, float] | None, lang: str) -> str:
    parts = []
    if lang == "ja":
        if _ok(at_90):
            parts.append(f"新規顧客1人あたりの累積粗利は、初回購入から90日で平均{_y(at_90, lang)}")
            if _ok(at_360):
                parts[-1] += f"、360日で{_y(at_360, lang)}に達します"
            else:
                parts[-1] += "です"
        if newest and oldest and newest[0] != oldest[0] and _ok(newest[1], oldest[1]) and oldest[1]:
            change = newest[1] / oldest[1] - 1
            word = "高く" if change >= 0 else "低く"
            parts.append(f"90日時点で比べると、{newest[0]}に初回購入した顧客は{oldest[0]}の顧客より"
                         f"{abs(change) * 100:.0f}%{word}なっています")
        return "。".join(parts) + "。" if parts else ""
    if _ok(at_90):
        s = f"Cumulative margin per new customer averages {_y(at_90, lang)} 90 days after the first purchase"
        if _ok(at_360):
            s += f" and {_y(at_360, lang)} after 360 days"
        parts.append(s)
    if newest and oldest and newest[0] != oldest[0] and _ok(newest[1], oldest[1]) and oldest[1]:
        change = newest[1] / oldest[1] - 1
        word = "above" if change >= 0 else "below"
        parts.append(f"at 90 days the {newest[0]} cohort is {abs(change) * 100:.0f}% {word} the {oldest[0]} cohort")
    return "; ".join(parts) + "." if parts else ""


def retention_sentence(second: float | None, last: tuple[int, float] | None, lang: str) -> str:
    if not _ok(second):
        return ""
    if lang == "ja":
        s = f"新規顧客のうち、初回から30〜59日目に再び購入するのは平均{_p(second, lang)}"
        if last and _ok(last[1]):
            s += f"、{last[0] - 30}〜{last[0] - 1}日目に購入しているのは{_p(last[1], lang)}です。"
        else:
            s += "です。"
        return s
    s = f"On average {_p(second, lang)} of new customers buy again in days 30–59 after their first purchase"
    if last and _ok(last[1]):
        s += f", and {_p(last[1], lang)} are still buying in days {last[0] - 30}–{last[0] - 1}"
    return s + "."


def f2_windows_sentence(rates: dict[int, float], lang: str) -> str:
    ok = {w: r for w, r in rates.items() if _ok(r)}
    if not ok:
        return ""
    last_w = max(ok)
    first_w = min(ok)
    if lang == "ja":
        s = f"初回購入者のうち{first_w}日以内に2回目を購入したのは{_p(ok[first_w], lang)}"
        if last_w != first_w:
            s += f"、{last_w}日以内では{_p(ok[last_w], lang)}です"
        else:
            s += "です"
        if last_w != first_w and ok[last_w] > 0:
            s += f"。2回目の購入の{ok[first_w] / ok[last_w] * 100:.0f}%が最初の{first_w}日に集中しています"
        return s + "。"
    s = f"{_p(ok[first_w], lang)} of first-time buyers buy a second time within {first_w} days"
    if last_w != first_w:
        s += f" and {_p(ok[last_w], lang)} within {last_w} days"
        if ok[last_w] > 0:
            s += f", so {ok[first_w] / ok[last_w] * 100:.0f}% of second purchases happen in the first {first_w} days"
    return s + "."


def golden_time_sentence(start: Any, end: Any, hazard: Any, median_days: Any, lang: str) -> str:
    if not _ok(start, end, hazard):
        return ""
    if lang == "ja":
        s = (f"2回目購入が最も起きやすい「ゴールデンタイム」は初回から{int(start)}〜{int(end)}日目で、"
             f"この週にまだ2回目を買っていない人の{_p(hazard, lang)}が購入します")
        if _ok(median_days):
            s += f"（2回目までの日数の中央値は{median_days:.0f}日）"
        return s + "。フォローはこの時期の直前に届けるのが効果的です。"
    s = (f"The golden time for a second purchase is days {int(start)}–{int(end)} after the first: in that week "
         f"{_p(hazard, lang)} of those who have not bought again do so")
    if _ok(median_days):
        s += f" (median time to the second purchase: {median_days:.0f} days)"
    return s + "; follow-ups work best just before it."


def rfm_sentence(top: tuple[str, float, float] | None, at_risk: tuple[str, float] | None, lang: str) -> str:
    """``top`` = (group, share of customers, share of value); ``at_risk`` = (group, share of customers)."""
    if not top:
        return ""
    name, cust, value = top
    if lang == "ja":
        s = f"「{name}」は顧客の{_p(cust, lang)}ですが、粗利の{_p(value, lang)}を生んでいます"
        if at_risk and _ok(at_risk[1]):
            s += f"。「{at_risk[0]}」の{_p(at_risk[1], lang)}は早めの声かけが必要です"
        return s + "。"
    s = f"{name} are {_p(cust, lang)} of customers but earn {_p(value, lang)} of the margin"
    if at_risk and _ok(at_risk[1]):
        s += f"; the {_p(at_risk[1], lang)} in {at_risk[0]} need attention soon"
    return s + "."


def cpm_sentence(active_share: float | None, best: tuple[str, float, float] | None, lang: str) -> str:
    if not _ok(active_share):
        return ""
    if lang == "ja":
        s = f"顧客の{_p(active_share, lang)}が現役（最終購入から離脱基準日数以内）です"
        if best:
            s += f"。「{best[0]}」は顧客の{_p(best[1], lang)}で、粗利の{_p(best[2], lang)}を生んでいます"
        return s + "。"
    s = f"{_p(active_share, lang)} of customers are active (bought within the churn threshold)"
    if best:
        s += f"; {best[0]} are {_p(best[1], lang)} of customers and earn {_p(best[2], lang)} of the margin"
    return s + "."


def point_score_sentence(driven_share: float | None, mean_score: float | None, lang: str) -> str:
    if not _ok(driven_share):
        return ""
    if lang == "ja":
        s = f"顧客の{_p(driven_share, lang)}は、ポイントやキャンペーンのときに買う傾向が強い「ポイント依存」層です"
        if _ok(mean_score):
            s += f"（依存度スコアの平均は{mean_score:.2f}）"
        return s + "。"
    s = f"{_p(driven_share, lang)} of customers buy mainly because of points and campaigns"
    if _ok(mean_score):
        s += f" (mean point-dependence score {mean_score:.2f})"
    return s + "."


def point_ltv_sentence(point: float | None, organic: float | None, horizon_days: int, lang: str) -> str:
    if not _ok(point, organic) or not organic:
        return ""
    ratio = point / organic
    if lang == "ja":
        return (f"キャンペーンやポイントで獲得した顧客の{horizon_days}日累積粗利は{_y(point, lang)}で、"
                f"それ以外で獲得した顧客（{_y(organic, lang)}）の{ratio * 100:.0f}%です。")
    return (f"Customers acquired through campaigns or points earn {_y(point, lang)} of margin in {horizon_days} days, "
            f"{ratio * 100:.0f}% of the {_y(organic, lang)} earned by customers acquired otherwise.")


def campaign_share_sentence(share: float | None, base: float | None, lang: str) -> str:
    if not _ok(share):
        return ""
    if lang == "ja":
        s = f"注文の{_p(share, lang)}がキャンペーン期間中に入っています"
        if _ok(base):
            s += f"（暦の上でキャンペーン期間が占める割合は{_p(base, lang)}）"
        return s + "。"
    s = f"{_p(share, lang)} of orders fall inside campaign windows"
    if _ok(base):
        s += f", against {_p(base, lang)} of calendar time"
    return s + "."


def cac_sentence(best: tuple[str, float] | None, worst: tuple[str, float] | None, lang: str) -> str:
    """``best``/``worst`` = (channel, LTV/CAC ratio)."""
    if not best:
        return ""
    if lang == "ja":
        s = f"LTV÷獲得コストが最も高いのは「{best[0]}」（{fmt(best[1], 'ratio', lang)}）"
        if worst and worst[0] != best[0]:
            s += f"、最も低いのは「{worst[0]}」（{fmt(worst[1], 'ratio', lang)}）"
            if _ok(worst[1]) and worst[1] < 1:
                s += "で、獲得コストが粗利LTVを上回っています"
        return s + "。"
    s = f"{best[0]} has the best LTV/CAC ({fmt(best[1], 'ratio', lang)})"
    if worst and worst[0] != best[0]:
        s += f" and {worst[0]} the lowest ({fmt(worst[1], 'ratio', lang)})"
        if _ok(worst[1]) and worst[1] < 1:
            s += ", where acquisition costs more than the margin LTV"
    return s + "."


def p_alive_sentence(share_alive: float | None, median: float | None, lang: str) -> str:
    if not _ok(share_alive):
        return ""
    if lang == "ja":
        s = f"今も購入を続けている確率（P(alive)）が50%を超える顧客は{_p(share_alive, lang)}です"
        if _ok(median):
            s += f"（中央値{median:.2f}）"
        return s + "。"
    s = f"{_p(share_alive, lang)} of customers are more likely than not to still be buying (P(alive) > 0.5)"
    if _ok(median):
        s += f"; the median is {median:.2f}"
    return s + "."


def tracking_sentence(predicted: float | None, actual: float | None, weeks: int | None, lang: str) -> str:
    if not _ok(predicted, actual) or not actual:
        return ""
    err = predicted / actual - 1
    if lang == "ja":
        span = f"検証期間{weeks}週間" if weeks else "検証期間"
        return (f"{span}の累積購入数の予測は{predicted:,.0f}件、実績は{actual:,.0f}件で、"
                f"誤差は{err * 100:+.1f}%でした。")
    span = f"the {weeks}-week holdout" if weeks else "the holdout"
    return (f"Over {span} the model predicted {predicted:,.0f} purchases against {actual:,.0f} actual "
            f"({err * 100:+.1f}%).")


def at_risk_sentence(n: int, value: float | None, lang: str) -> str:
    if not n:
        return ""
    if lang == "ja":
        s = f"これまでの購入額が上位の顧客のうち、離脱の可能性が高い{n:,}人を挙げました"
        if _ok(value):
            s += f"（過去の購入額の合計{_y(value, lang)}）"
        return s + "。先に声をかける候補です。"
    s = f"These {n:,} high-value customers are the most likely to have lapsed"
    if _ok(value):
        s += f" (past spend {_y(value, lang)} in total)"
    return s + "; contact them first."


def next_purchases_sentence(first_4w: float | None, total: float | None, weeks: int, lang: str) -> str:
    if not _ok(first_4w):
        return ""
    if lang == "ja":
        s = f"今後4週間に見込まれる購入は約{first_4w:,.0f}件"
        if _ok(total):
            s += f"、{weeks}週間では約{total:,.0f}件です"
        else:
            s += "です"
        return s + "。"
    s = f"About {first_4w:,.0f} purchases are expected in the next 4 weeks"
    if _ok(total):
        s += f" and about {total:,.0f} over {weeks} weeks"
    return s + "."


def recommendation_sentence(top_item: str | None, n_customers: int, n_top: int, lang: str) -> str:
    if not top_item:
        return ""
    if lang == "ja":
        return (f"{n_customers:,}人にレコメンドがあり、最も多く勧められている商品は「{top_item}」"
                f"（{n_top:,}人）です。")
    return f"{n_customers:,} customers have recommendations; the most recommended item is “{top_item}” ({n_top:,} customers)."


def breakeven_sentence(best: tuple[str, float] | None, worst: tuple[str, float] | None, window_days: int,
                       lang: str) -> str:
    """``best``/``worst`` = (channel, 限界CPA in yen) when no acquisition costs are known."""
    if not best or not _ok(best[1]):
        return ""
    if lang == "ja":
        s = f"{window_days}日の粗利LTVで見た限界CPA（1人の獲得にかけられる上限）は「{best[0]}」が最も高く{_y(best[1], lang)}"
        if worst and worst[0] != best[0] and _ok(worst[1]):
            s += f"、「{worst[0]}」が最も低く{_y(worst[1], lang)}です"
        else:
            s += "です"
        return s + "。広告費を登録すると回収期間とLTV/CACも表示されます。"
    s = (f"Judged by {window_days}-day margin LTV, {best[0]} can afford the highest acquisition cost per customer "
         f"(break-even CPA {_y(best[1], lang)})")
    if worst and worst[0] != best[0] and _ok(worst[1]):
        s += f" and {worst[0]} the lowest ({_y(worst[1], lang)})"
    return s + "; add acquisition costs to see payback and LTV/CAC."
