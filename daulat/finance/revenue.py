"""Revenue with a payer: who pays for the assistant in each country, each year.

Three lines per country and year, each with its payer (figures from the plan's
``inputs_revenue`` table, which the planner resolved from the catalog's ``revenue.csv``):

* **subscriptions** — paid by subscribers: people served × paying share × monthly price × 12;
* **government licence** — paid by the government: public servants (share of the
  population, at most the people served) × seat price × 12;
* **API and enterprise** — paid by businesses and developers: output tokens served (average
  rate, peak ÷ peak factor) × the share paid by the token × the price per million; the
  scenario's ``finance.token_price_usd_per_million`` overrides the catalog price.

People served follow the plan's own definition (users × served share, averaged over the
inference workloads: ``daulat.plan.result.people_served``).

**New or existing**: the provider already serves some of these people from its existing
data centres (``already_served_share`` of the country's internet users); the subscriptions
and API revenue of those people is revenue it *already earns* and is not counted as new.
A government licence is new (the partnership creates it). Only new revenue enters the
funders' cash flows; existing revenue is reported beside it.

**What the owners keep** (``revenue_usd``): each line's gross (``gross_usd``, what the payer
pays) less what is not the owners' to share (``deductions_usd``, itemised in ``source``):

* VAT included in consumer prices (``consumer_vat_rate``; subscriptions only: business seats
  and API use are priced before VAT) — the provider keeps price ÷ (1 + rate). The VAT is the
  country's government's: it is a line of its own (``vat``, payer the subscribers) that
  :mod:`daulat.finance.cashflow` pays to that government when it is a funder;
* app-store and payment fees (``store_payment_fee_share``; subscriptions only);
* the model's development — research and training the provider pays for outside the plan
  (``model_development_share``) — and sales and support (``sales_support_share``), on every
  line, since every line sells the provider's model. Deducted before the owners share the
  revenue: as if the sites paid the provider a licence priced at its cost.

Each figure comes from the plan's ``inputs_revenue``; a plan written before a figure existed
there gets it from the catalog's ``revenue.csv`` (same resolution: country, income group,
``*``) and the source says so.

Without ``inputs_revenue`` (a plan written before it existed) the only line is the API line
at the scenario's token price for every token served (0 without a token price), gross.
"""

from __future__ import annotations

import pandas as pd

from daulat.catalog.revenue import find_revenue
from daulat.finance.tables import PlanTables

__all__ = ["DEDUCTIONS", "LINES", "SECONDS_PER_YEAR", "TOKENS_PER_MILLION", "VAT_LINE",
           "country_revenue", "served_by_country", "site_revenue_lines"]

#: Seconds in a (365-day) year: converts tokens/s to tokens per year.
SECONDS_PER_YEAR = 365 * 24 * 3600
#: Prices are quoted per million tokens.
TOKENS_PER_MILLION = 1_000_000
MONTHS_PER_YEAR = 12
#: Revenue lines: id -> what the payer column says (the country's name is appended).
LINES = {
    "subscriptions": "subscribers in",
    "government_licence": "government of",
    "api_enterprise": "businesses and developers in",
    "vat": "subscribers in",
}
#: The VAT line: paid by subscribers inside their price, received by their government.
VAT_LINE = "vat"
#: Figures that take a line's gross to what the site owners keep (``revenue.csv``).
DEDUCTIONS = ("consumer_vat_rate", "store_payment_fee_share", "model_development_share",
              "sales_support_share")
_COLUMNS = ["country", "line", "payer", "year", "quantity", "unit", "price_usd",
            "gross_usd", "deductions_usd", "revenue_usd", "new_revenue_usd",
            "existing_revenue_usd", "source"]


def served_by_country(tables: PlanTables, factors: dict[str, float]) -> pd.DataFrame:
    """People served and tokens served per country and year (columns country, year,
    people_served, tokens)."""
    empty = pd.DataFrame(columns=["country", "year", "people_served", "tokens"])
    if tables.demand.empty or tables.routing.empty:  # nothing served: no people, no revenue
        return empty
    d = tables.demand[tables.demand["tokens_per_s"].astype(float) > 0].copy()
    if d.empty:
        return empty
    unmet = tables.unmet.set_index(["country", "workload", "year"])["tokens_per_s"]
    keys = list(zip(d["country"], d["workload"], d["year"], strict=True))
    d["share"] = 1 - pd.Series([unmet.get(k, 0.0) for k in keys], index=d.index) / d[
        "tokens_per_s"]
    d["served"] = d["share"].clip(lower=0.0) * d["users"]
    people = d.groupby(["country", "year"], as_index=False)[["served"]].mean()
    people = people.rename(columns={"served": "people_served"})
    r = tables.routing.copy()
    key = r["country"].astype(str) + "|" + r["workload"].astype(str)
    r["tokens"] = r["tokens_per_s"].astype(float) * SECONDS_PER_YEAR / key.map(factors).fillna(
        1.0)
    tokens = r.groupby(["country", "year"], as_index=False)["tokens"].sum()
    out = people.merge(tokens, on=["country", "year"], how="outer")
    return out.fillna({"people_served": 0.0, "tokens": 0.0})


def _inputs(tables: PlanTables) -> pd.DataFrame | None:
    table = tables.inputs_revenue
    return None if table.empty else table


def _catalog_figure(line: str, iso3: str, income_group: str) -> tuple[float, str] | None:
    """``line``'s figure for a country from the catalog (:func:`find_revenue`), for a plan
    whose ``inputs_revenue`` predates it."""
    f = find_revenue(line, iso3, income_group)
    if f is None:
        return None
    return f.value, f"{f.kind}: {f.source} (catalog revenue.csv; not in the plan)"


def _net_of(gross: float, fee: float, costs: list[tuple[str, float]]) -> tuple[float, str]:
    """What the site owners keep of ``gross`` (already before VAT): less the ``fee`` share
    (app stores and payment), then less each ``(name, share)`` of ``costs`` — shares of what
    is left after the fee, added up (together they may exceed it: a lab that spends more
    than it earns on research) — and the deductions in words."""
    after_fee = gross * (1 - fee)
    parts = [f"app stores and payment {fee:.0%} (${gross - after_fee:,.0f})"] if fee else []
    parts += [f"{name} {share:.0%} (${after_fee * share:,.0f})" for name, share in costs]
    return after_fee * (1 - sum(share for _, share in costs)), "; ".join(parts)


def country_revenue(tables: PlanTables, factors: dict[str, float]) -> pd.DataFrame:
    """Revenue lines per country and year, each with its payer.

    Columns: country, line (subscriptions | government_licence | api_enterprise | vat), payer,
    year, quantity (subscribers, seats or million tokens), unit, price_usd (per unit and
    year), gross_usd (what the payer pays), deductions_usd (VAT, fees, the model's
    development, sales and support), revenue_usd (= gross - deductions = new + existing:
    what the site owners keep; for ``vat``, what the government receives),
    new_revenue_usd, existing_revenue_usd, source.
    """
    served = served_by_country(tables, factors)
    if served.empty:
        return pd.DataFrame(columns=_COLUMNS)
    token_price = tables.finance.token_price_usd_per_million
    names = dict(zip(tables.inputs_countries["country"], tables.inputs_countries["name"],
                     strict=True))
    inputs = _inputs(tables)
    rows: list[dict[str, object]] = []
    if inputs is None:
        for c, y, tokens in zip(served["country"], served["year"], served["tokens"],
                                strict=True):
            mtok = tokens / TOKENS_PER_MILLION
            rev = mtok * (token_price or 0.0)
            rows.append({"country": c, "line": "api_enterprise",
                         "payer": f"{LINES['api_enterprise']} {names.get(c, c)}", "year": y,
                         "quantity": mtok, "unit": "million output tokens",
                         "price_usd": token_price or 0.0, "gross_usd": rev,
                         "deductions_usd": 0.0, "revenue_usd": rev,
                         "new_revenue_usd": rev, "existing_revenue_usd": 0.0,
                         "source": "scenario finance.token_price_usd_per_million for every "
                                   "token served (the plan has no inputs_revenue table)"})
        return pd.DataFrame(rows, columns=_COLUMNS)
    fig = {(c, line): (float(v), str(s)) for c, line, v, s in zip(
        inputs["country"], inputs["line"], inputs["value"], inputs["source"], strict=True)}
    ic = tables.inputs_countries
    group_of = ({str(c): str(g) for c, g in zip(ic["country"], ic["income_group"], strict=True)}
                if "income_group" in ic else {})
    for country in {str(c) for c, _ in fig}:
        for line in DEDUCTIONS:
            if (country, line) not in fig:
                found = _catalog_figure(line, country, group_of.get(country, ""))
                fig[(country, line)] = found if found is not None else (
                    0.0, "no figure in the plan or the catalog: nothing deducted")
    population_of = {str(c): float(p) for c, p in zip(ic["country"], ic["population"],
                                                      strict=True) if pd.notna(p)}
    online_of = {str(c): float(i) for c, i in zip(ic["country"], ic["internet_share"],
                                                  strict=True)}
    for c, y, served_people, tokens in zip(served["country"], served["year"],
                                           served["people_served"], served["tokens"],
                                           strict=True):
        if (c, "paying_share") not in fig:
            continue
        name = names.get(c, c)
        population = population_of.get(c, 0.0)
        online = population * online_of.get(c, 0.0)
        existing_people = online * fig[(c, "already_served_share")][0]
        existing = min(1.0, existing_people / served_people) if served_people > 0 else 0.0
        existing_note = (f"existing: {existing:.0%} of the people served are already "
                         f"served by the provider ({fig[(c, 'already_served_share')][1]})")

        vat, vat_src = fig[(c, "consumer_vat_rate")]
        store, store_src = fig[(c, "store_payment_fee_share")]
        model, model_src = fig[(c, "model_development_share")]
        sales, sales_src = fig[(c, "sales_support_share")]
        provider_costs = [("model development", model), ("sales and support", sales)]
        cost_note = (f"model development {model:g} ({model_src}); sales and support "
                     f"{sales:g} ({sales_src})")

        share, share_src = fig[(c, "paying_share")]
        price, price_src = fig[(c, "subscription_price_usd_per_month")]
        subs = served_people * share
        gross = subs * price * MONTHS_PER_YEAR
        before_vat = gross / (1 + vat)
        rev, cut = _net_of(before_vat, store, provider_costs)
        rows.append({"country": c, "line": "subscriptions",
                     "payer": f"{LINES['subscriptions']} {name}", "year": y,
                     "quantity": subs, "unit": "subscribers",
                     "price_usd": price * MONTHS_PER_YEAR, "gross_usd": gross,
                     "deductions_usd": gross - rev, "revenue_usd": rev,
                     "new_revenue_usd": rev * (1 - existing),
                     "existing_revenue_usd": rev * existing,
                     "source": f"paying share {share:g} ({share_src}); price ${price:g}/month "
                               f"({price_src}); kept after VAT {vat:g} ({vat_src}), "
                               f"{cut}: app stores and payment {store:g} ({store_src}), "
                               f"{cost_note}; {existing_note}"})
        tax = gross - before_vat
        rows.append({"country": c, "line": VAT_LINE,
                     "payer": f"{LINES[VAT_LINE]} {name}", "year": y,
                     "quantity": subs, "unit": "subscribers",
                     "price_usd": price * MONTHS_PER_YEAR * vat / (1 + vat), "gross_usd": tax,
                     "deductions_usd": 0.0, "revenue_usd": tax,
                     "new_revenue_usd": tax * (1 - existing),
                     "existing_revenue_usd": tax * existing,
                     "source": f"VAT {vat:g} included in the subscription price ({vat_src}): "
                               f"the government of {name}'s, not the site owners'; "
                               f"{existing_note}"})

        servants, servants_src = fig[(c, "public_servant_share")]
        seat, seat_src = fig[(c, "government_seat_usd_per_month")]
        seats = min(population * servants, served_people)
        gross = seats * seat * MONTHS_PER_YEAR
        rev, cut = _net_of(gross, 0.0, provider_costs)
        rows.append({"country": c, "line": "government_licence",
                     "payer": f"{LINES['government_licence']} {name}", "year": y,
                     "quantity": seats, "unit": "seats", "price_usd": seat * MONTHS_PER_YEAR,
                     "gross_usd": gross, "deductions_usd": gross - rev,
                     "revenue_usd": rev, "new_revenue_usd": rev, "existing_revenue_usd": 0.0,
                     "source": f"public servants {servants:g} of the population "
                               f"({servants_src}), at most the people served; seat "
                               f"${seat:g}/month ({seat_src}), priced before VAT; kept after "
                               f"{cut}: {cost_note}; new: the partnership's licence"})

        api_share, api_share_src = fig[(c, "api_token_share")]
        api_price, api_src = fig[(c, "api_usd_per_million_output_tokens")]
        if token_price is not None:
            api_price, api_src = token_price, "scenario finance.token_price_usd_per_million"
        mtok = tokens * api_share / TOKENS_PER_MILLION
        gross = mtok * api_price
        rev, cut = _net_of(gross, 0.0, provider_costs)
        rows.append({"country": c, "line": "api_enterprise",
                     "payer": f"{LINES['api_enterprise']} {name}", "year": y,
                     "quantity": mtok, "unit": "million output tokens", "price_usd": api_price,
                     "gross_usd": gross, "deductions_usd": gross - rev,
                     "revenue_usd": rev, "new_revenue_usd": rev * (1 - existing),
                     "existing_revenue_usd": rev * existing,
                     "source": f"{api_share:g} of tokens served paid by the token "
                               f"({api_share_src}); ${api_price:g} per million ({api_src}), "
                               f"priced before VAT; kept after {cut}: {cost_note}; "
                               f"{existing_note}"})
    return pd.DataFrame(rows, columns=_COLUMNS)


def site_revenue_lines(tables: PlanTables, factors: dict[str, float]) -> pd.DataFrame:
    """Each country's revenue lines shared among the sites that serve it, pro rata to the
    tokens each site serves it that year (columns site, country, line, payer, year,
    gross_usd, revenue_usd, new_revenue_usd, existing_revenue_usd). A country-year served
    nowhere has no revenue (it has no people served either)."""
    lines = country_revenue(tables, factors)
    cols = ["site", "country", "line", "payer", "year", "gross_usd", "revenue_usd",
            "new_revenue_usd", "existing_revenue_usd"]
    if lines.empty or tables.routing.empty:
        return pd.DataFrame(columns=cols)
    r = tables.routing.copy()
    key = r["country"].astype(str) + "|" + r["workload"].astype(str)
    r["tokens"] = r["tokens_per_s"].astype(float) * SECONDS_PER_YEAR / key.map(factors).fillna(
        1.0)
    w = r.groupby(["country", "site", "year"], as_index=False)["tokens"].sum()
    w["weight"] = w["tokens"] / w.groupby(["country", "year"])["tokens"].transform("sum")
    out = lines.merge(w[["country", "site", "year", "weight"]], on=["country", "year"],
                      how="inner")
    for col in ("gross_usd", "revenue_usd", "new_revenue_usd", "existing_revenue_usd"):
        out[col] = out[col] * out["weight"]
    return out[cols].reset_index(drop=True)
