"""The report's charts (plotly figures), labelled in the reader's language.

Each function returns a figure, or None when the plan has nothing to draw for it (no
energy table, no risk results). Numbers on axes use the locale's separators.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from daulat.report.data import ReportData, country_name, country_position
from daulat.report.facts import facts, funder_names
from daulat.report.text import Formatter, Strings

__all__ = ["Chart", "all_charts"]

# A qualitative palette that stays readable when printed in grey.
_PALETTE = ("#1f5f8b", "#e07b39", "#3a9d5d", "#b23a48", "#7d5ba6", "#c9a227", "#4aa3a2",
            "#8c564b")
_BAND = "rgba(31,95,139,0.22)"
# More colours for charts with many series (funders, countries): Okabe-Ito and Tableau 10,
# no two alike among the first 16.
_COLOURS = ("#1f5f8b", "#e07b39", "#3a9d5d", "#b23a48", "#7d5ba6", "#c9a227", "#4aa3a2",
            "#8c564b", "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#f0e442",
            "#59a14f", "#9c755f")
# The provider's colour in funding and ownership charts, so governments stand apart from it.
_PROVIDER = "#5b6875"
# A timeline with more sites than this stacks by country instead (a readable legend).
_TIMELINE_SITES = 10
# Money axes are drawn in millions so tick labels read the same in every language (SI
# suffixes like "M" or "G" would mean other things in Indonesian).
_MILLION = 1e6
# The map: height in px, and width : height of its drawing area (the map takes 3/5 of a
# 1,100 px section beside its table, 660 px by ~440 px; stacked on paper it is scaled).
_MAP_HEIGHT = 500
# Full width (many countries, the table under the map): 1,090 px by ~435 px.
_MAP_ASPECT_WIDE = 2.5
# Sites are named on the map up to this many; beyond, they are named in the table.
_MAP_SITE_LABELS = 12
# Characters of a title that fit one line of a half-width (540 px) chart at 15 px.
_TITLE_CHARS = 58
# A tornado row whose swing is below this share of the base changes nothing: left out, named.
_FLAT = 1e-6
_MAP_ASPECT = 1.5


def _money_axis(s: Strings, f: Formatter, key: str) -> str:
    return f"{s.t(key)} ({s.t('charts.money_unit', currency=f.currency)})"


@dataclass(frozen=True)
class Chart:
    """One chart of the report: a stable id (the HTML element id), its section, a figure."""

    id: str
    section: str
    title: str
    figure: go.Figure
    note: str = ""  # a sentence under the chart, explaining what it might mislead on
    wide: bool = False  # drawn full width rather than half


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


def _mercator_y(lat: float) -> float:
    return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def _inverse_mercator(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(math.radians(y))) - math.pi / 2)


def _fit(lats: list[float], lons: list[float], aspect: float) -> tuple[list[float], list[float]]:
    """Longitude and latitude ranges around the points, padded, whose Mercator shape is
    ``aspect`` (width : height) so the map fills its box instead of a narrow strip."""
    lat_lo, lat_hi = max(-60.0, min(lats)), min(75.0, max(lats))
    lon_lo, lon_hi = min(lons), max(lons)
    pad_lon = max(3.0, 0.12 * (lon_hi - lon_lo))
    lon_lo, lon_hi = lon_lo - pad_lon, lon_hi + pad_lon
    y_lo, y_hi = _mercator_y(lat_lo), _mercator_y(lat_hi)
    pad_y = max(3.0, 0.15 * (y_hi - y_lo))
    y_lo, y_hi = y_lo - pad_y, y_hi + pad_y
    width, height = lon_hi - lon_lo, y_hi - y_lo
    if width / height < aspect:  # too tall: widen the longitudes
        extra = (aspect * height - width) / 2
        lon_lo, lon_hi = lon_lo - extra, lon_hi + extra
    else:  # too wide: add latitude
        extra = (width / aspect - height) / 2
        y_lo, y_hi = y_lo - extra, y_hi + extra
    if lon_hi - lon_lo > 360:
        lon_lo, lon_hi = -180.0, 180.0
    y_lo, y_hi = max(y_lo, _mercator_y(-70.0)), min(y_hi, _mercator_y(80.0))
    return [lon_lo, lon_hi], [_inverse_mercator(y_lo), _inverse_mercator(y_hi)]


@lru_cache(maxsize=1)
def _world() -> dict[str, Any]:
    text = resources.files("daulat.report").joinpath("assets", "world_110m.json").read_text(
        encoding="utf-8")
    world: dict[str, Any] = json.loads(text)
    return world


def _arc_points(world: dict[str, Any], index: int) -> list[tuple[float, float]]:
    arc = world["arcs"][index if index >= 0 else ~index]
    (sx, sy), (tx, ty) = world["transform"]["scale"], world["transform"]["translate"]
    x = y = 0
    out = []
    for dx, dy in arc:  # quantised, delta-encoded (TopoJSON)
        x, y = x + dx, y + dy
        out.append((x * sx + tx, y * sy + ty))
    return out


@lru_cache(maxsize=256)
def country_bounds(iso3: str) -> tuple[float, float, float, float] | None:
    """(lon_min, lat_min, lon_max, lat_max) of a country's main territory in the embedded
    world map: its polygons within 35° of longitude and 25° of latitude of its centre, so
    Papua counts for Indonesia but Alaska and Hawaii do not for the United States."""
    world = _world()
    geom = next((g for g in world["objects"]["countries"]["geometries"]
                 if g.get("id") == iso3), None)
    if geom is None:
        return None
    centre = (geom.get("properties") or {}).get("ct")
    polygons = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
    lons: list[float] = []
    lats: list[float] = []
    for polygon in polygons:
        if not polygon:  # a geometry with no rings (a territory too small for the map)
            continue
        points = [p for index in polygon[0] for p in _arc_points(world, index)]
        if not points:
            continue
        px = [p[0] for p in points]
        py = [p[1] for p in points]
        mid = ((min(px) + max(px)) / 2, (min(py) + max(py)) / 2)
        if centre and (abs(mid[0] - centre[0]) > 35 or abs(mid[1] - centre[1]) > 25):
            continue
        lons += px
        lats += py
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


def map_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Where each chosen country's data is served: a line from the country to each site
    serving it (orange abroad, green at home), the sites the plan builds sized by facility
    MW, everything labelled; the view fitted to what is drawn."""
    pf = facts(d)
    sites = d.tables.sites
    built = [u for u in pf.sites if u.facility_mw > 0]
    if not built and not pf.chosen:
        return None
    names = _site_names(d)
    pos = {u.site: (u.lat, u.lon) for u in pf.sites}
    fig = go.Figure()
    if pf.chosen:  # the chosen countries shaded
        fig.add_trace(go.Choropleth(
            locations=[c.country for c in pf.chosen], locationmode="ISO-3",
            z=[1.0] * len(pf.chosen), colorscale=[[0, "#d6e4f0"], [1, "#d6e4f0"]],
            showscale=False, marker={"line": {"width": 0.8, "color": "#7d8b99"}},
            hoverinfo="skip", showlegend=False))
    cpos: list[tuple[str, tuple[float, float]]] = []
    for c in pf.chosen:
        here = (c.lat, c.lon) if c.lat is not None and c.lon is not None else \
            country_position(c.country, sites)
        if here is None:
            continue
        cpos.append((c.country, (float(here[0]), float(here[1]))))
        for a in c.served_at:
            if a.site not in pos:
                continue
            abroad = a.jurisdiction != c.country
            label = s.t("charts.map_flow", country=country_name(c.country, f.locale),
                        site=names.get(a.site, a.site))
            fig.add_trace(go.Scattergeo(
                lat=[here[0], pos[a.site][0]], lon=[here[1], pos[a.site][1]], mode="lines",
                line={"width": 1.5 + 5 * a.share, "color": _PALETTE[1] if abroad
                      else _PALETTE[2]},
                opacity=0.8, hoverinfo="text", showlegend=False,
                text=f"{label}: {f.pct(a.share, 0)}"))
    if built:
        mw = [u.facility_mw for u in built]
        top = max(mw)
        # every site named when few; with many, the country names carry the map
        labelled = len(built) <= _MAP_SITE_LABELS
        fig.add_trace(go.Scattergeo(
            lat=[u.lat for u in built], lon=[u.lon for u in built],
            mode="markers+text" if labelled else "markers",
            marker={"size": [9 + 26 * (m / top) ** 0.5 for m in mw], "color": _PALETTE[0],
                    "opacity": 0.85, "line": {"width": 1, "color": "white"}},
            text=[names.get(u.site, u.site) for u in built], textposition="bottom center",
            textfont={"size": 10, "color": "#1b2733"},
            hovertext=[f"{u.name} — {f.mw(m)}" for u, m in zip(built, mw, strict=True)],
            hoverinfo="text", name=s.t("charts.map_sites")))
    if cpos:
        fig.add_trace(go.Scattergeo(
            lat=[p[0] for _, p in cpos], lon=[p[1] for _, p in cpos], mode="markers+text",
            marker={"symbol": "diamond", "size": 10, "color": _PALETTE[3],
                    "line": {"width": 1, "color": "white"}},
            text=[country_name(c, f.locale) for c, _ in cpos], textposition="top center",
            textfont={"size": 11, "color": _PALETTE[3]},
            name=s.t("charts.map_countries"), hoverinfo="text"))
    # the view takes in every built site, every chosen country's capital and its territory
    lats = [u.lat for u in built] + [p[0] for _, p in cpos]
    lons = [u.lon for u in built] + [p[1] for _, p in cpos]
    for c in pf.chosen:
        box = country_bounds(c.country)
        if box is not None:
            lons += [box[0], box[2]]
            lats += [box[1], box[3]]
    lon_range, lat_range = _fit(lats, lons, _MAP_ASPECT if pf.map_beside else _MAP_ASPECT_WIDE)
    fig.update_geos(lataxis_range=lat_range, lonaxis_range=lon_range,
                    resolution=110, showcountries=True, showland=True, landcolor="#eef1f4",
                    countrycolor="#9aa5b1", showocean=True, oceancolor="#f7fbff",
                    projection_type="mercator")
    _layout(fig, f, s.t("charts.map_title"), height=_MAP_HEIGHT)
    fig.update_layout(margin={"l": 5, "r": 5, "t": 60, "b": 5},
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0.0},
                      title={"y": 0.98, "yanchor": "top"})
    return fig


def timeline_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Facility MW added each year, stacked by site (by country when there are many)."""
    b = d.tables.builds
    if b.empty:
        return None
    names = _site_names(d)
    by_country = b["site"].nunique() > _TIMELINE_SITES
    key = "country" if by_country else "site"
    g = b.groupby([key, "year"], as_index=False)[["facility_mw", "count"]].sum()
    g = g[g["facility_mw"] > 0]
    fig = go.Figure()
    for i, (who, rows) in enumerate(g.groupby(key)):
        label = country_name(str(who), f.locale) if by_country else names.get(str(who), str(who))
        fig.add_trace(go.Bar(x=rows["year"], y=rows["facility_mw"], name=label,
                             marker_color=_COLOURS[i % len(_COLOURS)],
                             hovertemplate="%{x}: %{y:,.1f} MW<extra>%{fullData.name}</extra>"))
    title = s.t("charts.timeline_title_country" if by_country else "charts.timeline_title")
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": s.t("charts.timeline_y")})
    return _layout(fig, f, title)


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
    g = g[g["usd"] > 0]
    names = funder_names(d)
    colours = _funder_colours(d)
    fig = go.Figure()
    for funder, rows in g.groupby("funder"):
        fig.add_trace(go.Bar(x=rows["year"], y=rows["usd"] / _MILLION,
                             marker_color=colours.get(str(funder)),
                             name=_short(names.get(str(funder), str(funder)), 30),
                             text=[f.money(v) for v in rows["usd"]], textposition="inside",
                             hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": _money_axis(s, f, "charts.funding_y")})
    return _layout(fig, f, s.t("charts.funding_title"))


def _funder_colours(d: ReportData) -> dict[str, str]:
    """One colour per funder, the same in every chart; the provider in grey."""
    kinds = dict(zip(d.returns["funder"].astype(str), d.returns["funder_kind"].astype(str),
                     strict=True))
    out, i = {}, 0
    for funder in sorted(kinds):
        if kinds[funder] == "provider":
            out[funder] = _PROVIDER
        else:
            out[funder] = _COLOURS[i % len(_COLOURS)]
            i += 1
    return out


def ownership_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Each site's ownership shares, stacked to 100 %, funders by name (full width)."""
    own = pd.DataFrame(d.finance["ownership"])
    if own.empty:
        return None
    own = own[own["share"] > 0]
    names = _site_names(d)
    funders = funder_names(d)
    order = sorted(set(own["site"]), key=lambda x: names.get(x, x), reverse=True)
    fig = go.Figure()
    colours = _funder_colours(d)
    for funder, rows in own.groupby("funder"):
        fig.add_trace(go.Bar(
            y=[names.get(x, x) for x in rows["site"]], x=rows["share"],
            marker_color=colours.get(str(funder)),
            name=funders.get(str(funder), str(funder)), orientation="h",
            text=[f.pct(v, 0) for v in rows["share"]], textposition="inside",
            insidetextanchor="middle", textfont={"size": 11},
            hovertemplate="%{y}: %{text}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack", uniformtext={"minsize": 9, "mode": "hide"},
                      xaxis={"title": s.t("charts.ownership_y"), "tickformat": ".0%",
                             "range": [0, 1]},
                      yaxis={"categoryorder": "array",
                             "categoryarray": [names.get(x, x) for x in order],
                             "automargin": True})
    n = len(order)
    _layout(fig, f, s.t("charts.ownership_title"), height=160 + 24 * n)
    fig.update_layout(legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                      margin={"t": 80, "b": 50, "l": 10})
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
    # Both axes get round ticks on the same gridlines (plotly would otherwise align the
    # right axis to the left one's grid and print ticks like 1,388 / 2,776).
    left, right = nice_ticks(float(g["energy_mwh"].max())), nice_ticks(
        float(g["emissions_tco2"].max()))
    n = max(len(left), len(right))
    left, right = _extend(left, n), _extend(right, n)
    fig.update_layout(xaxis={"title": s.t("charts.year"), "dtick": 1},
                      yaxis={"title": s.t("charts.energy_y"), "tickformat": ",.0f",
                             "tickvals": left, "range": [0, left[-1] * 1.02]},
                      yaxis2={"title": s.t("charts.emissions_y"), "overlaying": "y",
                              "side": "right", "tickformat": ",.0f", "tickvals": right,
                              "range": [0, right[-1] * 1.02], "showgrid": False})
    return _layout(fig, f, s.t("charts.energy_title"))


def nice_ticks(top: float, most: int = 6) -> list[float]:
    """Round tick values from 0 to at least ``top``: steps of 1, 2, 2.5 or 5 × 10^k."""
    if not top > 0:
        return [0.0, 1.0]
    raw = top / (most - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    count = math.ceil(top / step - 1e-9)
    return [i * step for i in range(count + 1)]


def _extend(ticks: list[float], n: int) -> list[float]:
    step = ticks[1] - ticks[0]
    return ticks + [ticks[-1] + step * (i + 1) for i in range(n - len(ticks))]


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


#: At most this many inputs in a tornado chart, the ones with the largest swing.
_TORNADO_ROWS = 10


def _tornado(d: ReportData, metric: str, funder: str, s: Strings, f: Formatter
             ) -> go.Figure | None:
    if d.tornado is None:
        return None
    t = d.tornado[(d.tornado["metric"] == metric) & (d.tornado["funder"] == funder)]
    t = t[t["swing"].abs() > _FLAT * t["base"].abs().clip(lower=1.0)]  # see tornado_note
    if t.empty:
        return None
    # the inputs that move it most (the rest are counted in the note)
    t = t.loc[t["swing"].abs().sort_values(ascending=False).index[:_TORNADO_ROWS]]
    t = t.sort_values("swing")
    names = t["label"] if "label" in t else [None] * len(t)
    labels = [s.input_label(str(i), None if n is None else str(n))
              for i, n in zip(t["input"], names, strict=True)]
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
    who = funder_names(d).get(funder, funder)
    name = s.t(f"metrics.{metric}") + (f" ({who})" if funder else "")
    unit = s.t("charts.millions") if metric == "people_served" else s.t(
        "charts.money_unit", currency=f.currency)
    fig.update_layout(barmode="overlay", xaxis={"title": f"{s.t('charts.tornado_x')} ({unit})",
                                                "zeroline": True, "tickformat": ",~f",
                                                "automargin": True})
    _layout(fig, f, _wrap(s.t("charts.tornado_title", metric=name)), height=360)
    fig.update_layout(margin={"r": 60, "t": 70})
    return fig


def _wrap(title: str, width: int = _TITLE_CHARS) -> str:
    """A chart title broken into lines (``<br>``) that fit a half-width chart."""
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def tornado_cost_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Tornado of total cost."""
    return _tornado(d, "cost_usd", "", s, f)


def tornado_npv_chart(d: ReportData, s: Strings, f: Formatter) -> go.Figure | None:
    """Tornado of one funder's NPV: the provider putting in most capital, else whoever does."""
    funder = _npv_funder(d)
    return _tornado(d, "npv_usd", funder, s, f) if funder else None


def _tornado_note(d: ReportData, metric: str, funder: str, s: Strings) -> str:
    if d.tornado is None:
        return ""
    t = d.tornado[(d.tornado["metric"] == metric) & (d.tornado["funder"] == funder)]
    moving = t[t["swing"].abs() > _FLAT * t["base"].abs().clip(lower=1.0)]
    more = max(len(moving) - _TORNADO_ROWS, 0)
    note = s.t("charts.tornado_more", n=more) if more else ""
    flat = t[t["swing"].abs() <= _FLAT * t["base"].abs().clip(lower=1.0)]
    if flat.empty:
        return note
    demand = flat["input"].astype(str).str.startswith("demand:")
    rest = flat[~demand]
    names = rest["label"] if "label" in rest else [None] * len(rest)
    words = [s.input_label(str(i), None if n is None else str(n))
             for i, n in zip(rest["input"], names, strict=True)]
    if demand.any():  # tens of demand figures: counted, not listed
        words.append(s.t("charts.demand_figures", n=int(demand.sum())))
    flat_note = s.t("charts.tornado_flat", inputs=", ".join(words),
                    metric=s.t(f"metrics.{metric}"))
    return f"{note} {flat_note}".strip()


def _npv_funder(d: ReportData) -> str | None:
    if d.tornado is None:
        return None
    in_tornado = set(d.tornado[d.tornado["metric"] == "npv_usd"]["funder"])
    r = d.returns[d.returns["funder"].isin(in_tornado) & (d.returns["capital_usd"] > 0)]
    if r.empty:
        return None
    r = r.assign(is_provider=r["funder_kind"] == "provider").sort_values(
        ["is_provider", "capital_usd"], ascending=False)
    return str(r["funder"].iloc[0])


def _fan_note(d: ReportData, metric: str, s: Strings) -> str:
    if d.risk_fan is None:
        return ""
    rows = d.risk_fan[d.risk_fan["metric"] == metric]
    tol = 1e-9 * rows["base"].abs().clip(lower=1.0)
    outside = rows[(rows["base"] > rows["p90"] + tol) | (rows["base"] < rows["p10"] - tol)]
    if outside.empty:
        return s.t("charts.fan_inside") if not rows.empty else ""
    return s.t("charts.fan_outside", years=", ".join(str(int(y)) for y in outside["year"]))


def _ramp_note(d: ReportData, s: Strings, f: Formatter) -> str:
    """What the plan commits against the budget, in numbers (a line near zero beside a large
    budget reads as nothing otherwise)."""
    r = d.ramp[d.ramp["scope"] == "programme"]
    if r.empty:
        return ""
    last = r.sort_values("year").iloc[-1]
    budget = float(last["cumulative_budget_usd"])
    committed = float(last["cumulative_committed_usd"])
    return s.t("charts.ramp_note", year=int(last["year"]), committed=f.money(committed),
               budget=f.money(budget), share=f.pct(committed / budget if budget else None))


def _notes(d: ReportData, s: Strings, f: Formatter) -> dict[str, str]:
    npv_funder = _npv_funder(d)
    return {
        "chart-tornado-cost": _tornado_note(d, "cost_usd", "", s),
        "chart-tornado-npv": _tornado_note(d, "npv_usd", npv_funder, s) if npv_funder else "",
        "chart-risk-cost": _fan_note(d, "cost_usd", s),
        "chart-risk-people": _fan_note(d, "people_served", s),
        "chart-ramp": _ramp_note(d, s, f),
    }


#: Charts drawn full width (the others pair up two to a row).
_WIDE = {"chart-map", "chart-timeline", "chart-ownership", "chart-energy", "chart-capacity"}

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
    """Every chart the plan has data for, in report order, with its note."""
    notes = _notes(d, s, f)
    out = []
    for chart_id, section, fn in _CHARTS:
        fig = fn(d, s, f)
        if fig is not None:
            title = fig.layout.title.text or ""
            out.append(Chart(chart_id, section, str(title).replace("<br>", " "), fig,
                             note=notes.get(chart_id, ""), wide=chart_id in _WIDE))
    return out
