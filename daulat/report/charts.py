"""The report's charts (plotly figures), labelled in the reader's language.

Each function returns a figure, or None when the plan has nothing to draw for it (no
energy table, no risk results). Numbers on axes use the locale's separators.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from daulat.report.data import ReportData, country_name, country_position
from daulat.report.text import Formatter, Strings

__all__ = ["Chart", "all_charts"]

# A qualitative palette that stays readable when printed in grey.
_PALETTE = ("#1f5f8b", "#e07b39", "#3a9d5d", "#b23a48", "#7d5ba6", "#c9a227", "#4aa3a2",
            "#8c564b")
_BAND = "rgba(31,95,139,0.22)"
# Money axes are drawn in millions so tick labels read the same in every language (SI
# suffixes like "M" or "G" would mean other things in Indonesian).
_MILLION = 1e6
# Width : height of the map's drawing area (a full-width chart 460 px high).
_MAP_ASPECT = 2.5


def _money_axis(s: Strings, f: Formatter, key: str) -> str:
    return f"{s.t(key)} ({s.t('charts.money_unit', currency=f.currency)})"


@dataclass(frozen=True)
class Chart:
    """One chart of the report: a stable id (the HTML element id), its section, a figure."""

    id: str
    section: str
    title: str
    figure: go.Figure


def _layout(fig: go.Figure, f: Formatter, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        template="plotly_white",
        separators=f.separators,
        height=height,
        margin={"l": 70, "r": 20, "t": 50, "b": 70},
        yaxis={"tickformat": ",~f"},
        legend={"orientation": "h", "y": -0.22, "yanchor": "top"},
        colorway=list(_PALETTE),
        font={"family": "Segoe UI, Helvetica, Arial, sans-serif", "size": 12},
    )
    return fig


def _short(name: str, limit: int = 34) -> str:
    """A label that fits beside a chart: long site names are cut with an ellipsis."""
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _site_names(d: ReportData) -> dict[str, str]:
    """Site id -> a short label for axes and legends (full names are in the tables)."""
    return {str(k): _short(str(v)) for k, v in zip(d.tables.sites["site"],
                                                    d.tables.sites["name"], strict=False)}


def _padded(values: list[float], lowest: float, highest: float) -> list[float]:
    """A view range around ``values``: a quarter of their span (at least 4 degrees) each side."""
    lo, hi = min(values), max(values)
    pad = max(4.0, 0.25 * (hi - lo))
    return [max(lowest, lo - pad), min(highest, hi + pad)]


def map_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Sites sized by facility MW and lines from each country to the sites serving it."""
    sites = d.tables.sites
    if sites.empty:
        return None
    fig = go.Figure()
    routing = d.tables.routing
    last = routing[routing["year"] == routing["year"].max()] if not routing.empty else routing
    flows = last.groupby(["country", "site"], as_index=False)[["tokens_per_s"]].sum()
    pos = sites.set_index("site")[["lat", "lon"]]
    top = float(flows["tokens_per_s"].max()) if not flows.empty else 1.0
    names = _site_names(d)
    for country, site, tps in zip(flows["country"], flows["site"], flows["tokens_per_s"],
                                  strict=True):
        here = country_position(str(country), sites)
        if here is None or site not in pos.index:
            continue
        label = s.t("charts.map_flow", country=country_name(str(country), f.locale),
                    site=names.get(site, site))
        fig.add_trace(go.Scattergeo(
            lat=[here[0], float(pos.loc[site, "lat"])], lon=[here[1], float(pos.loc[site, "lon"])],
            mode="lines", line={"width": 1 + 5 * float(tps) / top, "color": _PALETTE[1]},
            opacity=0.7, name=label, hoverinfo="text",
            text=f"{label}: {f.compact(float(tps))} tokens/s", showlegend=False))
    countries = sorted(set(d.tables.demand["country"]))
    cpos: list[tuple[str, tuple[float, float]]] = []
    for c in countries:
        p = country_position(str(c), sites)
        if p is not None:
            cpos.append((str(c), p))
    if cpos:
        fig.add_trace(go.Scattergeo(
            lat=[p[0] for _, p in cpos], lon=[p[1] for _, p in cpos], mode="markers",
            marker={"symbol": "diamond", "size": 10, "color": _PALETTE[1]},
            name=s.t("charts.map_countries"),
            text=[country_name(str(c), f.locale) for c, _ in cpos], hoverinfo="text"))
    mw = sites["built_mw"].fillna(0.0).astype(float)
    size = 8 + 30 * (mw / max(float(mw.max()), 1e-9)) ** 0.5
    fig.add_trace(go.Scattergeo(
        lat=sites["lat"], lon=sites["lon"], mode="markers",
        marker={"size": size, "color": _PALETTE[0], "opacity": 0.85,
                "line": {"width": 1, "color": "white"}},
        name=s.t("charts.map_sites"),
        text=[f"{n} — {f.mw(m)}" for n, m in zip(sites["name"], mw, strict=True)],
        hoverinfo="text"))
    lats = [float(v) for v in sites["lat"]] + [p[0] for _, p in cpos]
    lons = [float(v) for v in sites["lon"]] + [p[1] for _, p in cpos]
    lat_range = _padded(lats, -60.0, 75.0)
    lon_range = _padded(lons, -180.0, 180.0)
    # Widen the longitudes to the chart's shape (about 2.5 : 1) so the map fills its box.
    want = _MAP_ASPECT * (lat_range[1] - lat_range[0])
    if lon_range[1] - lon_range[0] < want:
        mid = (lon_range[0] + lon_range[1]) / 2
        lon_range = [max(-180.0, mid - want / 2), min(180.0, mid + want / 2)]
    fig.update_geos(lataxis_range=lat_range, lonaxis_range=lon_range,
                    resolution=110, showcountries=True, showland=True, landcolor="#eef1f4",
                    countrycolor="#9aa5b1", showocean=True, oceancolor="#f7fbff",
                    projection_type="mercator")
    _layout(fig, f, s.t("charts.map_title"), height=460)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def timeline_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Facility MW added each year, stacked by site."""
    b = d.tables.builds
    if b.empty:
        return None
    names = _site_names(d)
    g = b.groupby(["site", "year"], as_index=False)[["facility_mw", "count"]].sum()
    fig = go.Figure()
    for site, rows in g.groupby("site"):
        fig.add_trace(go.Bar(x=rows["year"], y=rows["facility_mw"],
                             name=names.get(str(site), str(site)),
                             hovertemplate="%{x}: %{y:,.1f} MW<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": s.t("charts.timeline_y")})
    return _layout(fig, f, s.t("charts.timeline_title"))


def capacity_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Peak tokens/s: demand, served and unmet per year."""
    dem = d.tables.demand.groupby("year")["tokens_per_s"].sum()
    if dem.empty:
        return None
    served = d.tables.routing.groupby("year")["tokens_per_s"].sum().reindex(dem.index,
                                                                            fill_value=0.0)
    unmet = (dem - served).clip(lower=0.0)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=dem.index, y=served / _MILLION, name=s.t("charts.served"),
                         marker_color=_PALETTE[0]))
    fig.add_trace(go.Bar(x=dem.index, y=unmet / _MILLION, name=s.t("charts.unmet"),
                         marker_color=_PALETTE[3]))
    fig.add_trace(go.Scatter(x=dem.index, y=dem / _MILLION, name=s.t("charts.demand"),
                             mode="lines+markers", line={"color": "#222", "width": 2}))
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": s.t("charts.capacity_y")})
    return _layout(fig, f, s.t("charts.capacity_title"))


def funding_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Capital per year, stacked by funder."""
    fund = d.tables.funding
    if fund.empty:
        return None
    g = fund.groupby(["funder", "year"], as_index=False)[["usd"]].sum()
    fig = go.Figure()
    for funder, rows in g.groupby("funder"):
        fig.add_trace(go.Bar(x=rows["year"], y=rows["usd"] / _MILLION, name=str(funder),
                             text=[f.money(v) for v in rows["usd"]], textposition="inside",
                             hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": _money_axis(s, f, "charts.funding_y")})
    return _layout(fig, f, s.t("charts.funding_title"))


def ownership_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Each site's ownership shares, stacked to 100 %."""
    own = pd.DataFrame(d.finance["ownership"])
    if own.empty:
        return None
    names = _site_names(d)
    fig = go.Figure()
    for funder, rows in own.groupby("funder"):
        fig.add_trace(go.Bar(
            y=[names.get(x, x) for x in rows["site"]], x=rows["share"], name=str(funder),
            orientation="h", text=[f.pct(v) for v in rows["share"]], textposition="inside",
            hovertemplate="%{y}: %{text}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.ownership_y"),
                                              "tickformat": ".0%", "range": [0, 1]})
    _layout(fig, f, s.t("charts.ownership_title"), height=220 + 45 * own["site"].nunique())
    fig.update_layout(legend={"y": -0.45}, margin={"b": 90})
    return fig


def costs_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Capex and opex per year."""
    c = d.tables.costs
    if c.empty:
        return None
    fig = go.Figure()
    for col, key, colour in (("capex_usd", "charts.capex", _PALETTE[0]),
                             ("opex_usd", "charts.opex", _PALETTE[1])):
        fig.add_trace(go.Bar(x=c["year"], y=c[col] / _MILLION, name=s.t(key),
                             marker_color=colour, text=[f.money(v) for v in c[col]],
                             hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>",
                             textposition="none"))
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": _money_axis(s, f, "charts.costs_y")})
    return _layout(fig, f, s.t("charts.costs_title"))


def ramp_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Cumulative budget against cumulative committed capital, programme-wide."""
    r = d.ramp[d.ramp["scope"] == "programme"]
    if r.empty:
        return None
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=r["year"], y=r["cumulative_budget_usd"] / _MILLION,
                             name=s.t("charts.budget"), mode="lines+markers",
                             line={"dash": "dash", "color": "#555"}))
    fig.add_trace(go.Scatter(x=r["year"], y=r["cumulative_committed_usd"] / _MILLION,
                             name=s.t("charts.committed"), mode="lines+markers",
                             fill="tozeroy", line={"color": _PALETTE[2]}))
    fig.update_layout(xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": _money_axis(s, f, "charts.ramp_y")})
    return _layout(fig, f, s.t("charts.ramp_title"))


def energy_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Energy (bars) and emissions (line, right axis) per year."""
    e = d.tables.energy
    if e.empty:
        return None
    g = e.groupby("year", as_index=False)[["energy_mwh", "emissions_tco2"]].sum()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=g["year"], y=g["energy_mwh"], name=s.t("charts.energy"),
                         marker_color=_PALETTE[5]))
    fig.add_trace(go.Scatter(x=g["year"], y=g["emissions_tco2"], name=s.t("charts.emissions"),
                             mode="lines+markers", yaxis="y2", line={"color": _PALETTE[3]}))
    fig.update_layout(xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": s.t("charts.energy_y"), "tickformat": ",.0f"},
                      yaxis2={"title": s.t("charts.emissions_y"), "overlaying": "y",
                              "side": "right", "rangemode": "tozero", "tickformat": ",.0f"})
    return _layout(fig, f, s.t("charts.energy_title"))


def _fan(fan: pd.DataFrame, metric: str, title: str, ytitle: str, s: Strings,
         f: Formatter, scale: float = 1.0) -> go.Figure | None:
    rows = fan[fan["metric"] == metric].copy()
    if rows.empty:
        return None
    for col in ("p10", "p50", "p90", "base"):
        rows[col] = rows[col] / scale
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=rows["year"], y=rows["p90"], mode="lines",
                             line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=rows["year"], y=rows["p10"], mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor=_BAND, name=s.t("charts.band")))
    fig.add_trace(go.Scatter(x=rows["year"], y=rows["p50"], mode="lines+markers",
                             name=s.t("charts.median"), line={"color": _PALETTE[0]}))
    fig.add_trace(go.Scatter(x=rows["year"], y=rows["base"], mode="lines",
                             name=s.t("charts.plan"), line={"color": "#222", "dash": "dot"}))
    fig.update_layout(xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": ytitle})
    return _layout(fig, f, title)


def fan_cost_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Cumulative cost per year: P10–P90 band, P50 and the plan."""
    if d.risk_fan is None:
        return None
    return _fan(d.risk_fan, "cost_usd", s.t("charts.fan_title"),
                _money_axis(s, f, "charts.fan_y"), s, f, scale=_MILLION)


def fan_people_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """People served per year: P10–P90 band, P50 and the plan."""
    if d.risk_fan is None:
        return None
    return _fan(d.risk_fan, "people_served", s.t("charts.fan_people_title"),
                s.t("charts.people_y"), s, f, scale=_MILLION)


def _tornado(d: ReportData, metric: str, funder: str, s: Strings, f: Formatter
             ) -> go.Figure | None:
    if d.tornado is None:
        return None
    t = d.tornado[(d.tornado["metric"] == metric) & (d.tornado["funder"] == funder)]
    if t.empty:
        return None
    t = t.sort_values("swing")
    labels = [s.t(f"inputs.{i}") for i in t["input"]]
    low = t["value_low"] - t["base"]
    high = t["value_high"] - t["base"]
    fmt = f.compact if metric == "people_served" else f.money
    low, high = low / _MILLION, high / _MILLION
    fig = go.Figure()
    for values, name, colour, raw in ((low, "charts.at_low", _PALETTE[0], t["value_low"]),
                                      (high, "charts.at_high", _PALETTE[1], t["value_high"])):
        fig.add_trace(go.Bar(y=labels, x=values, orientation="h", name=s.t(name),
                             marker_color=colour, text=[fmt(v) for v in raw],
                             textposition="auto", cliponaxis=False, insidetextanchor="middle",
                             hovertemplate="%{y}: %{text}<extra>%{fullData.name}</extra>"))
    name = s.t(f"metrics.{metric}") + (f" ({funder})" if funder else "")
    unit = s.t("charts.millions") if metric == "people_served" else s.t(
        "charts.money_unit", currency=f.currency)
    fig.update_layout(barmode="overlay", xaxis={"title": f"{s.t('charts.tornado_x')} ({unit})",
                                                "zeroline": True, "tickformat": ",~f",
                                                "automargin": True})
    _layout(fig, f, s.t("charts.tornado_title", metric=name), height=340)
    fig.update_layout(margin={"r": 60})
    return fig


def tornado_cost_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Tornado of total cost."""
    return _tornado(d, "cost_usd", "", s, f)


def tornado_npv_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Tornado of one funder's NPV: the provider putting in most capital, else whoever does."""
    if d.tornado is None:
        return None
    in_tornado = set(d.tornado[d.tornado["metric"] == "npv_usd"]["funder"])
    r = d.returns[d.returns["funder"].isin(in_tornado) & (d.returns["capital_usd"] > 0)]
    if r.empty:
        return None
    r = r.assign(is_provider=r["funder_kind"] == "provider").sort_values(
        ["is_provider", "capital_usd"], ascending=False)
    return _tornado(d, "npv_usd", str(r["funder"].iloc[0]), s, f)


_CHARTS = (
    ("chart-map", "map", map_chart),
    ("chart-timeline", "timeline", timeline_chart),
    ("chart-capacity", "capacity", capacity_chart),
    ("chart-funding", "funding", funding_chart),
    ("chart-ownership", "funding", ownership_chart),
    ("chart-costs", "costs", costs_chart),
    ("chart-ramp", "costs", ramp_chart),
    ("chart-energy", "energy", energy_chart),
    ("chart-risk-cost", "risk", fan_cost_chart),
    ("chart-risk-people", "risk", fan_people_chart),
    ("chart-tornado-cost", "risk", tornado_cost_chart),
    ("chart-tornado-npv", "risk", tornado_npv_chart),
)


def all_charts(d: ReportData, s: Strings, f: Formatter) -> list[Chart]:
    """Every chart the plan has data for, in report order."""
    out = []
    for chart_id, section, fn in _CHARTS:
        fig = fn(d, s, f)
        if fig is not None:
            title = fig.layout.title.text or ""
            out.append(Chart(chart_id, section, str(title), fig))
    return out
