"""The planner's explanations in the report's language.

The planner writes its explanations in English (``summary.json``: ``binding[].text``,
``sovereignty.text``, ``unmet_explained``, ``baseline.note``, ``rounding.text``), but each
binding constraint also carries structured fields (``constraint``, ``site``, ``country``,
``workload``, ``funder``, ``year``, ``shadow_price``…). The report rebuilds each sentence
from those fields, the plan's own tables and its ``scenario.yaml`` with the templates under
``explain:`` in ``locales/<lang>.yaml``; numbers and money are formatted by babel. A
constraint kind it does not know, or an entry without the fields its template needs, is
shown with the planner's English ``text`` (see ``KNOWN_KINDS`` and ``docs/report.md``).

``unmet_explained`` is a list of sentences with no structure beside it; they follow one
pattern in the planner (``daulat.plan.diagnose.explain_unmet``) and are read back with a
regular expression; a sentence that does not match is shown as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from babel import Locale

from daulat.plandir import PlanSummary
from daulat.report.data import ReportData, country_name
from daulat.report.facts import PlanFacts, plan_table, scenario_dict, summary_value
from daulat.report.text import Formatter, Strings

__all__ = ["KNOWN_KINDS", "Explainer", "sovereignty_cost", "source_text"]

#: constraint kinds of ``summary.json`` ``binding`` rendered from their fields.
KNOWN_KINDS: tuple[str, ...] = (
    "site-power_limit", "site-power_built", "funder-budget", "site-government_share",
    "site-provider_share", "country-origin_cap", "training-compute", "programme-portfolio",
)
_MILLION = 1e6  # budget and share duals are per USD; the sentences speak of each extra $1M
_PRICE_BELOW = 1e3  # amounts under this are written with cents (``$0.70``), above compact
#: The scenario schema's default value_of_access_usd_per_person_year (docs/scenario.md),
#: used only for a plan directory older than summary.inputs that leaves it out.
_DEFAULT_VALUE_OF_ACCESS = 1000.0
#: unmet-demand causes the report words, in the order it lists them (plandir.UnmetCauseKind)
_CAUSES = ("not_ready_until", "residency", "latency", "power", "budget", "none")
#: an unserved share below this is counted, not listed (it prints as 0%)
_MINOR_UNMET = 0.005

_UNMET = re.compile(
    r"^(?P<name>.+) \((?P<iso3>[A-Z]{3})\): (?P<share>\d+)% of (?P<workload>\S+) demand "
    r"unserved in (?P<y0>\d{4})(?:–(?P<y1>\d{4}))? — (?P<why>.+)\.$")
_NO_SITE = re.compile(r"^no site is allowed \(residency '(?P<rule>[^']*)', latency ≤ "
                      r"(?P<ms>\d+) ms\)$")
_NOT_READY = re.compile(r"^its allowed sites are not ready before (?P<year>\d{4}) "
                        r"\((?P<sites>.+)\)$")
_TOO_COSTLY = ("serving it would cost more than the unmet-demand price, or budgets, power "
               "ceilings or the portfolio limit leave no room")
_MIXED = re.compile(r"down at the (?P<n>\d+) sites")


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def sovereignty_cost(summary: PlanSummary) -> float | None:
    """What residency costs in money anyone pays (NPV of capex + opex), or None when the plan
    does not say it: a ``min_cost`` plan's ``cost_of_sovereignty_usd`` is the difference of
    the planner's objectives, which price unmet demand; when the relaxed plan serves other
    people that difference is mostly that price, not money — then only a relaxed
    ``relaxed_npv_cost_usd`` (if the planner wrote one) gives the cost."""
    cost = _f(summary.cost_of_sovereignty_usd)
    sov = summary.sovereignty or {}
    if cost is None or summary.objective != "min_cost":
        return cost
    relaxed_npv = _f(sov.get("relaxed_npv_cost_usd"))
    npv = _f(summary.totals.npv_cost_usd) if summary.totals is not None else None
    if relaxed_npv is not None and npv is not None:
        return npv - relaxed_npv
    people, relaxed = _f(summary.people_served), _f(sov.get("relaxed_people_served"))
    if people is not None and relaxed is not None and abs(people - relaxed) >= 0.5:
        return None
    return cost


@dataclass
class Explainer:
    """Renders the planner's explanations of one plan in ``s``'s language."""

    d: ReportData
    s: Strings
    f: Formatter
    site_names: dict[str, str] = field(init=False)
    site_country: dict[str, str] = field(init=False)
    funders: dict[str, tuple[str, str]] = field(init=False)  # id -> (name, budget basis)
    rules: dict[str, Any] = field(init=False)
    objective: str = field(init=False)
    value_of_access: float | None = field(init=False)

    def __post_init__(self) -> None:
        t = self.d.tables
        self.site_names = {str(k): str(v) for k, v in zip(t.sites["site"], t.sites["name"],
                                                          strict=False)}
        self.site_country = {str(k): str(v) for k, v in zip(t.sites["site"],
                                                            t.sites["country"], strict=False)}
        self.funders, self.rules = {}, {}
        self.objective = str(summary_value(self.d, "objective", "min_cost"))
        inputs = summary_value(self.d, "inputs", {}) or {}
        if not isinstance(inputs, dict):
            inputs = dict(inputs)
        raw = scenario_dict(self.d)
        self.rules = dict(inputs.get("rules") or raw.get("rules") or {})
        raw_obj = raw.get("objective")
        obj: dict[str, Any] = raw_obj if isinstance(raw_obj, dict) else {}
        self.value_of_access = _f(inputs.get("value_of_access_usd_per_person_year"))
        if self.value_of_access is None:
            self.value_of_access = _f(obj.get("value_of_access_usd_per_person_year"))
        if self.value_of_access is None and self.objective == "max_access":
            self.value_of_access = _DEFAULT_VALUE_OF_ACCESS
        table = plan_table(self.d, "inputs_funders")
        if table is not None and "budget_basis" in table:
            for fid, name, basis in zip(table["funder"], table["name"], table["budget_basis"],
                                        strict=True):
                self.funders[str(fid)] = (str(name) if isinstance(name, str) and name
                                          else str(fid), str(basis))
        for fu in raw.get("funders", []) or []:
            if isinstance(fu, dict) and fu.get("id") and str(fu["id"]) not in self.funders:
                self.funders[str(fu["id"])] = (str(fu.get("name") or fu["id"]),
                                               str(fu.get("budget_basis", "per_year")))

    # -- pieces ---------------------------------------------------------------------------
    def amount(self, usd: float) -> str:
        """Money: with cents under a thousand (``US$0,70``), compact above (``US$1,1 jt``)."""
        return self.f.price(usd) if abs(usd) < _PRICE_BELOW else self.f.money(usd)

    def _signed_money(self, usd: float) -> str:
        return self.f.signed_money(usd)

    def place(self, site: Any) -> str | None:
        """A site's name and its country's name in the report's language."""
        key = str(site)
        if key not in self.site_names:
            return None
        iso3 = self.site_country.get(key, "")
        return self.s.t("explain.place", site=self.site_names[key],
                        country=country_name(iso3, self.f.locale))

    def worth(self, usd: float, spread: bool = True) -> str | None:
        """'save $X (NPV …)' / 'be worth $X to the plan (…)' for a marginal value."""
        years = self.d.tables.years
        rate = self.d.tables.finance.discount_rate
        annuity = sum((1.0 + rate) ** -(y - years[0]) for y in years) or 1.0
        per_year = (self.s.t("explain.per_year", amount=self.amount(usd / annuity),
                             start=years[0], end=years[-1])
                    if spread and len(years) > 1 else "")
        if self.objective == "min_cost":
            return self.s.t("explain.worth_min_cost", amount=self.amount(usd), per_year=per_year)
        if self.objective == "max_access" and self.value_of_access is not None:
            return self.s.t("explain.worth_max_access", amount=self.amount(usd),
                            per_year=per_year, value=self.f.money_full(self.value_of_access))
        return None

    # -- binding constraints ----------------------------------------------------------------
    def kind_label(self, kind: str) -> str:
        """The constraint kind in words (the raw kind when it is not known)."""
        base = kind.split("[", 1)[0]
        return self.s.t(f"explain.kinds.{base}") if base in KNOWN_KINDS else kind

    def binding(self, b: dict[str, Any]) -> str:
        """One binding constraint in the report's language (its English text if unknown)."""
        try:
            text = self._binding(b)
        except (KeyError, TypeError, ValueError):
            text = None
        return text if text is not None else str(b.get("text", ""))

    def _binding(self, b: dict[str, Any]) -> str | None:
        kind = str(b.get("constraint", ""))
        price = _f(b.get("shadow_price"))
        s = self.s
        if kind == "programme-portfolio":
            n = self.rules.get("portfolio_max_countries")
            return s.t("explain.binding.programme-portfolio", n=self.f.number(n)) if n else None
        if price is None:
            return None
        if kind == "training-compute" and b.get("workload"):
            eflop = self.training_eflop(str(b["workload"]))
            if eflop:
                return s.t("explain.binding.training-compute", workload=b["workload"],
                           eflop=self.f.number(eflop), price=self.amount(abs(price)),
                           tenth=self.amount(abs(price) * eflop * 0.1))
            return s.t("explain.binding.training-compute_margin", workload=b["workload"],
                       price=self.amount(abs(price)))
        if kind == "site-power_limit":
            place, worth = self.place(b.get("site")), self.worth(price)
            return s.t("explain.binding.site-power_limit", place=place, worth=worth) if (
                place and worth) else None
        if kind == "site-power_built" and b.get("year") is not None:
            place, worth = self.place(b.get("site")), self.worth(price, spread=False)
            return s.t("explain.binding.site-power_built", place=place, worth=worth,
                       year=int(b["year"])) if place and worth else None
        if kind == "funder-budget" and b.get("year") is not None:
            funder = str(b.get("funder", ""))
            if funder not in self.funders:
                return None
            name, basis = self.funders[funder]
            when = s.t("explain.budget_up_to" if basis == "cumulative" else "explain.budget_in",
                       year=int(b["year"]))
            worth = self.worth(price * _MILLION)
            return s.t("explain.binding.funder-budget", funder=name, when=when, worth=worth,
                       million=self.f.money(_MILLION)) if worth else None
        if kind == "site-government_share":
            place = self.place(b.get("site"))
            share = _f(self.rules.get("min_government_share"))
            return s.t("explain.binding.site-government_share", place=place,
                       share=self.f.pct(share, 0), million=self.f.money(_MILLION),
                       cost=self.amount(abs(price) * _MILLION)) if place and share is not None \
                else None
        if kind == "site-provider_share":
            place = self.place(b.get("site"))
            share = _f(self.rules.get("max_provider_share"))
            return s.t("explain.binding.site-provider_share", place=place,
                       share=self.f.pct(share, 0)) if place and share is not None else None
        if kind == "country-origin_cap" and b.get("year") is not None:
            worth = self.worth(price)
            country, origin = str(b.get("country", "")), str(b.get("origin", ""))
            if not (worth and country and origin):
                return None
            return s.t("explain.binding.country-origin_cap", year=int(b["year"]), worth=worth,
                       country=country_name(country, self.f.locale),
                       origin=country_name(origin, self.f.locale))
        return None

    def training_eflop(self, run: str) -> float | None:
        """EFLOP the plan delivers for training run ``run`` (``None`` if none)."""
        tr = plan_table(self.d, "training")
        if tr is None or tr.empty:
            return None
        total = float(tr[tr["workload"] == run]["eflop"].sum())
        return total or None

    def unit_value(self, b: dict[str, Any]) -> str:
        """A binding constraint's shadow price with its unit (``$1.1M per MW``)."""
        price = _f(b.get("shadow_price"))
        if price is None:
            return self.s.t("table.none")
        kind = str(b.get("constraint", "")).split("[", 1)[0]
        per = {"site-power_limit": "per_mw", "site-power_built": "per_mw",
               "funder-budget": "per_million", "site-government_share": "per_million",
               "training-compute": "per_eflop", "country-origin_cap": "per_accelerator"}
        unit = per.get(kind)
        if unit is None:
            return self.amount(abs(price))
        scale = _MILLION if unit == "per_million" else 1.0
        return self.s.t(f"explain.units.{unit}", amount=self.amount(abs(price) * scale),
                        million=self.f.money(_MILLION))

    # -- the other explanations ---------------------------------------------------------------
    def sovereignty(self) -> str:
        """What residency costs the plan (empty when the plan was not priced for it)."""
        summ = self.d.tables.summary
        sov = summ.sovereignty or {}
        cost = _f(summ.cost_of_sovereignty_usd)
        if not sov or cost is None:
            return str(sov.get("text", ""))
        if "relaxed_cost_usd" not in sov:
            return self.s.t("explain.sovereignty.none")
        if self.objective == "min_cost":
            money = sovereignty_cost(summ)
            if money is None:  # the difference is the planner's price on unmet demand
                served = _f(summ.people_served) or 0.0
                free = _f(sov.get("relaxed_people_served")) or 0.0
                return self.s.t("explain.sovereignty.min_cost_people",
                                people=self.f.number(abs(free - served)),
                                more=self.s.t("explain.sovereignty.fewer" if free > served
                                              else "explain.sovereignty.more"))
            served = _f(summ.people_served) or 0.0
            free = _f(sov.get("relaxed_people_served")) or 0.0
            if abs(free - served) >= 0.5:  # money and people both move: say both, signed
                return self.s.t("explain.sovereignty.min_cost_both",
                                cost=self._signed_money(money),
                                people=self.f.number(abs(free - served)),
                                more=self.s.t("explain.sovereignty.fewer" if free > served
                                              else "explain.sovereignty.more"))
            return self.s.t("explain.sovereignty.min_cost", cost=self.f.money(money))
        people, relaxed = _f(summ.people_served), _f(sov.get("relaxed_people_served"))
        if self.objective == "max_access" and people is not None and relaxed is not None:
            delta = people - relaxed
            if abs(delta) < 0.5:
                return self.s.t("explain.sovereignty.max_access_same", cost=self.f.money(cost))
            return self.s.t("explain.sovereignty.max_access", cost=self._signed_money(cost),
                            people=("+" if delta >= 0 else "") + self.f.number(delta))
        return str(sov.get("text", ""))

    def baseline_note(self) -> str:
        """The planner's caveat on the baseline comparison (empty when it has none)."""
        base = self.d.tables.summary.baseline or {}
        note = str(base.get("note", ""))
        if note and self.objective == "max_access":
            served = _f(base.get("served_share"))
            text = self.s.t("explain.baseline_max_access")
            if served is not None:
                text += " " + self.s.t("explain.baseline_served", share=self.f.pct(served))
            return text
        return note

    def rounding(self) -> str:
        """How accelerator counts were made whole (empty when the plan does not say)."""
        r = self.d.tables.summary.rounding or {}
        if not r:
            return ""
        english = str(r.get("text", ""))
        mode, applied = r.get("mode"), r.get("applied")
        s = self.s
        if mode == "integer":
            return s.t("explain.rounding.integer")
        if mode == "off":
            return s.t("explain.rounding.off")
        if mode == "round" and not applied:
            return s.t("explain.rounding.failed")
        direction = r.get("direction")
        lp, count = _f(r.get("lp_accelerators")), _f(r.get("accelerators"))
        if mode != "round" or direction not in ("up", "down", "mixed") or lp is None or (
                count is None):
            return english
        how = s.t(f"explain.rounding.{direction}")
        if direction == "mixed":
            m = _MIXED.search(english)
            if not m:
                return english
            how = how.format(n=self.f.number(int(m.group("n"))))
        text = s.t("explain.rounding.round", how=how, lp=self.f.number(lp, 1),
                   count=self.f.number(count))
        lp_cost, cost = _f(r.get("lp_cost_usd")), _f(r.get("rounded_cost_usd"))
        if lp_cost and cost is not None:
            text += " " + s.t("explain.rounding.cost", cost=self.f.money(cost - lp_cost),
                              share=("+" if cost >= lp_cost else "")
                              + self.f.pct((cost - lp_cost) / lp_cost, 2))
        return text

    def unmet(self, pf: PlanFacts | None = None) -> list[str]:
        """Why demand is left unserved, by its cause: the planner's structured
        ``unmet_causes`` when the plan has them, else its English sentences read back."""
        causes = summary_value(self.d, "unmet_causes", []) or []
        if causes:
            return self._unmet_structured([c if isinstance(c, dict) else dict(c)
                                           for c in causes])
        selected = summary_value(self.d, "selected_countries")
        out, left_out = [], []
        for line in summary_value(self.d, "unmet_explained", []) or []:
            m = _UNMET.match(str(line))
            if m and isinstance(selected, list) and m.group("iso3") not in selected:
                left_out.append((m.group("iso3"), m.group("y0"), m.group("y1")))
                continue
            out.append(self._unmet(str(line)))
        return self._not_selected(left_out) + out

    def _span(self, y0: Any, y1: Any) -> str:
        return f"{int(y0)}–{int(y1)}" if y1 is not None and int(y1) != int(y0) else str(int(y0))

    def _not_selected(self, rows: list[tuple[str, Any, Any]]) -> list[str]:
        if not rows:
            return []
        iso3s = list(dict.fromkeys(r[0] for r in rows))
        names = ", ".join(country_name(c, self.f.locale) for c in iso3s)
        spans = {self._span(r[1], r[2] if r[2] is not None else r[1]) for r in rows}
        n = self.rules.get("portfolio_max_countries")
        return [self.s.t("explain.unmet.not_selected", n=self.f.number(len(iso3s)),
                         countries=names, span=", ".join(sorted(spans)),
                         limit=self.s.t("explain.unmet.limit", n=self.f.number(n)) if n
                         else "")]

    def _unmet_structured(self, causes: list[dict[str, Any]]) -> list[str]:
        """One sentence per country, cause and span, its workloads together; shortfalls
        under half a percent of demand counted in one closing sentence."""
        s = self.s
        left_out = [(str(c["country"]), c.get("year_from"), c.get("year_to")) for c in causes
                    if c.get("cause") == "not_selected"]
        groups: dict[tuple[Any, ...], list[tuple[str, float | None]]] = {}
        minor = 0
        for c in causes:
            cause = str(c.get("cause", ""))
            if cause == "not_selected" or cause not in _CAUSES:
                continue
            share = _f(c.get("share"))
            if share is not None and share < _MINOR_UNMET:
                minor += 1
                continue
            key = (str(c.get("country", "")), cause, c.get("year_from"), c.get("year_to"),
                   c.get("ready_year"), tuple(c.get("sites") or []))
            groups.setdefault(key, []).append((str(c.get("workload", "")), share))
        out: list[str] = []
        for (iso3, cause, y0, y1, ready, sites), items in sorted(
                groups.items(), key=lambda kv: (_CAUSES.index(kv[0][1]), kv[0][0], kv[0][2])):
            names = ", ".join(self.site_names.get(str(x), str(x)) for x in sites)
            why = s.t(f"explain.unmet.cause.{cause}", year=ready or "",
                      sites=names or s.t("table.none"), rule=self._rule_of(iso3))
            shares = {round(sh or 0.0, 2) for _, sh in items}
            if len(shares) == 1:
                what = s.t("explain.unmet.what", share=self.f.pct(items[0][1], 0),
                           workloads=self._and([w for w, _ in items]))
            else:
                what = self._and([s.t("explain.unmet.what", share=self.f.pct(sh, 0),
                                      workloads=w) for w, sh in items])
            out.append(s.t("explain.unmet.line", country=country_name(iso3, self.f.locale),
                           iso3=iso3, what=what, span=self._span(y0, y1), why=why))
        if minor:
            out.append(s.t("explain.unmet.minor", n=self.f.number(minor),
                           share=self.f.pct(_MINOR_UNMET, 1)))
        return self._not_selected(left_out) + out

    def _and(self, items: list[str]) -> str:
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " " + self.s.t("explain.and") + " " + items[-1]

    def _rule_of(self, iso3: str) -> str:
        table = plan_table(self.d, "inputs_countries")
        if table is not None and "residency" in table:
            row = table[table["country"] == iso3]
            if not row.empty:
                return str(row["residency"].iloc[0])
        res = self.rules.get("residency") or {}
        if isinstance(res, dict) and iso3 in res:
            return str(res[iso3])
        return str(self.rules.get("default_residency") or "")

    def _unmet(self, line: str) -> str:
        m = _UNMET.match(line)
        if not m:
            return line
        why_en = m.group("why")
        if (w := _NO_SITE.match(why_en)) is not None:
            why = self.s.t("explain.unmet.no_site", rule=w.group("rule"), ms=w.group("ms"))
        elif (w := _NOT_READY.match(why_en)) is not None:
            why = self.s.t("explain.unmet.not_ready", year=w.group("year"), sites=w.group("sites"))
        elif why_en == _TOO_COSTLY:
            why = self.s.t("explain.unmet.too_costly")
        else:
            return line
        y0, y1 = m.group("y0"), m.group("y1")
        iso3 = m.group("iso3")
        what = self.s.t("explain.unmet.what", share=self.f.pct(int(m.group("share")) / 100, 0),
                        workloads=m.group("workload"))
        return self.s.t("explain.unmet.line", country=country_name(iso3, self.f.locale),
                        iso3=iso3, what=what, span=f"{y0}–{y1}" if y1 else y0, why=why)


_SOURCES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^sizing DemandAssumptions\.peak_factor$"), "peak_default"),
    (re.compile(r"^scenario demand overrides, else (?P<rest>.+)$"), "peak_overrides"),
    (re.compile(r"^no peak factor known: revenue at the peak rate \(upper bound\)$"), "peak_none"),
    (re.compile(r"^catalog constant (?P<name>\S+) \((?P<source>.*)\)$"), "life_constant"),
    (re.compile(r"^catalog constant (?P<name>[^\s:]+): (?P<source>.*)$"), "life_constant"),
    (re.compile(r"^no catalog constants available: no operating tail$"), "life_none"),
    (re.compile(r"^catalog constants could not be read: no operating tail$"), "life_none"),
    (re.compile(r"^catalog has no accelerator life constant: no operating tail$"), "life_none"),
    (re.compile(r"^pro rata to site energy \(energy\.csv\)$"), "opex_energy"),
    (re.compile(r"^pro rata to facility MW in service \(builds\.csv\)$"), "opex_mw"),
    (re.compile(r"^scenario \(countries\[\]\.power_price_usd_per_mwh\)$"), "power_scenario"),
    (re.compile(r"^catalog default: (?P<source>.*)$"), "catalog_default"),
    (re.compile(r"^catalog: fallback: median of (?P<n>\d+) sourced countries in "
                r"(?P<level>subregion|region) (?P<area>.+)$"), "power_fallback"),
    (re.compile(r"^catalog: fallback: median of (?P<n>\d+) sourced countries in all sourced "
                r"countries$"), "power_fallback_all"),
    (re.compile(r"^catalog: (?P<source>.*)$"), "catalog"),
)


#: UN M49 region names the catalog uses that babel's English names spell otherwise.
_M49_ALIASES = {"Australia and New Zealand": "053", "Latin America and the Caribbean": "419",
                "South-eastern Asia": "035"}


def _area_name(english: str, locale: str) -> str:
    """An M49 region's English name in ``locale`` (babel's territory names), else as is."""
    if locale.split("_")[0] == "en":
        return english  # the catalog's own (UN M49) name
    codes = {str(v): k for k, v in Locale.parse("en").territories.items()}
    code = _M49_ALIASES.get(english) or codes.get(english)
    if code:
        return str(Locale.parse(locale).territories.get(code, english))
    return english


def source_text(raw: str, s: Strings, f: Formatter) -> str:
    """Where a figure comes from, its framing words in the report's language.

    The cited sources themselves (a datasheet, a statistics office, a price list) are
    quoted as written.
    """
    for pattern, key in _SOURCES:
        m = pattern.match(raw)
        if not m:
            continue
        values = m.groupdict()
        if key == "peak_overrides":
            values["rest"] = source_text(values["rest"], s, f)
        if key == "power_fallback":
            values["level"] = s.t(f"explain.sources.{values['level']}")
            values["area"] = _area_name(values["area"], f.locale)
        return s.t(f"explain.sources.{key}", **values) if values else s.t(
            f"explain.sources.{key}")
    return raw
