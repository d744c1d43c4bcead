"""The planner's explanations (binding constraints, sovereignty, unmet demand, rounding,
baseline note, sources) read in the report's language, rebuilt from structured fields."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from daulat.report import write_report
from daulat.report.explain import KNOWN_KINDS

TODAY = dt.date(2026, 11, 27)

# the planner's own sentences (daulat.plan.diagnose / optimize), as summary.json has them
BINDING = [
    {"constraint": "site-power_limit", "site": "jakarta-1", "shadow_price": 412000.0,
     "text": "One more MW of power at Jakarta (Cikarang), Indonesia would save $412.0k "
             "(NPV of the plan's cost, ≈ $95.6k a year over 2026–2030)."},
    {"constraint": "site-power_built", "site": "batam-1", "year": 2027,
     "shadow_price": 1_250_000.0,
     "text": "One more MW ready at Batam (Nongsa), Indonesia in 2027 would save $1.25M "
             "(NPV of the plan's cost): the site's power binds that year."},
    {"constraint": "funder-budget", "funder": "government-idn", "year": 2027,
     "shadow_price": 0.06,
     "text": "government-idn's budget in 2027 binds: each extra $1M would save $60.0k "
             "(NPV of the plan's cost, ≈ $13.9k a year over 2026–2030)."},
    {"constraint": "training-compute", "workload": "national-model", "shadow_price": 0.7035,
     "text": "Training run national-model costs $0.70 per extra EFLOP at the margin."},
    {"constraint": "site-government_share", "site": "surabaya-1", "shadow_price": -0.02,
     "text": "The minimum government share (30%) binds at Surabaya, Indonesia: each extra "
             "$1M the government must put in costs the plan $20.0k."},
]
UNMET = [
    "Indonesia (IDN): 100% of assistant-medium demand unserved in 2026–2027 — its allowed "
    "sites are not ready before 2028 (Batam (Nongsa), Surabaya).",
    "Indonesia (IDN): 12% of assistant-medium demand unserved in 2030 — serving it would cost "
    "more than the unmet-demand price, or budgets, power ceilings or the portfolio limit "
    "leave no room.",
]
SOVEREIGNTY = {"relaxed_cost_usd": 320.15e6, "relaxed_people_served": 51704607,
               "text": "Keeping every country's traffic where its law allows costs $0.01B "
                       "(NPV) more than a plan free to serve anywhere within latency targets."}
ROUNDING = {"mode": "round", "applied": True, "direction": "up", "lp_accelerators": 3012.4,
            "accelerators": 3040.0, "lp_cost_usd": 330.0e6, "rounded_cost_usd": 332.55e6,
            "text": "Solved as an LP (LP too large for integer systems), then each purchase was "
                    "rounded up to whole systems (3,012.4 -> 3,040 accelerators) and the plan "
                    "re-solved with those counts fixed: MW, funding, routing and cost are "
                    "re-derived. Rounding adds $2.5M to the plan's cost (+0.77%)."}
# words only the English sentences use
ENGLISH = ("would", "binds", "One more", "budget", "Training run", "unserved", "Keeping",
           "Solved as", "allowed sites", "serving it", "per extra")


def _explained(plan_dir: Path, extra: list[dict[str, object]] | None = None) -> Path:
    path = plan_dir / "summary.json"
    summary = json.loads(path.read_text())
    summary.update(binding=BINDING + (extra or []), unmet_explained=UNMET,
                   sovereignty=SOVEREIGNTY, rounding=ROUNDING)
    path.write_text(json.dumps(summary))
    return plan_dir


def _limits(md: str, heading: str) -> str:
    return md.split(f"## {heading}")[1].split("\n## ")[0]


def test_indonesian_report_has_no_english_explanation(plan_dir: Path) -> None:
    md = write_report(_explained(plan_dir), "id", today=TODAY).markdown.read_text("utf-8")
    for b in BINDING:
        assert str(b["text"]) not in md
    for line in UNMET:
        assert line not in md
    assert SOVEREIGNTY["text"] not in md and ROUNDING["text"] not in md
    limits = _limits(md, "Yang membatasi rencana")
    summary = _limits(md, "Ringkasan eksekutif")
    for word in ENGLISH:
        assert word not in limits and word not in summary, word
    # each kind in Indonesian, numbers the Indonesian way ('.' groups, ',' decimals)
    assert "| Batas daya lokasi | Tambahan satu MW daya di Jakarta (Cikarang), Indonesia akan" \
        " menghemat US$412\xa0rb (NPV biaya rencana, ≈ US$95,5\xa0rb per tahun selama" \
        " 2026–2030)." in limits
    assert "siap di Batam (Nongsa), Indonesia pada 2027 akan menghemat US$1,2\xa0jt" in limits
    assert "Anggaran government-idn pada 2027 menjadi pembatas: setiap tambahan" \
        " US$1\xa0jt akan menghemat US$60\xa0rb" in limits
    assert "Pelatihan national-model harus menyelesaikan komputasinya; setiap EFLOP tambahan" \
        " (10^18 operasi floating-point) yang harus diselesaikan menambah biaya US$0,70." in limits
    assert "Porsi minimum pemerintah (30%) menjadi pembatas di Surabaya, Indonesia" in limits
    assert "Indonesia (IDN): 100% permintaan assistant-medium tidak terlayani pada 2026–2027" \
        " — lokasi yang diizinkan baru siap pada 2028 (Batam (Nongsa), Surabaya)." in limits
    assert "dibulatkan ke atas ke sistem utuh (3.012,4 → 3.040 akselerator)" in limits
    assert "Pembulatan menambah biaya rencana sebesar US$2,6\xa0jt (+0,77%)." in limits
    assert "menambah biaya US$12,4\xa0jt (NPV)" in summary


def test_english_report_rebuilds_the_same_sentences(plan_dir: Path) -> None:
    md = write_report(_explained(plan_dir), "en", today=TODAY).markdown.read_text("utf-8")
    limits = _limits(md, "What limits the plan")
    assert "| Site power limit | One more MW of power at Jakarta (Cikarang), Indonesia would" \
        " save $412K (NPV of the plan's cost, ≈ $95.5K a year over 2026–2030). |" in limits
    assert "government-idn's budget in 2027 binds: each extra $1M would save $60K" \
        in limits
    assert "each extra EFLOP (10^18 floating-point operations) it had to deliver would cost" \
        " $0.70 more." in limits
    assert "| $0.70 per EFLOP |" in limits and "| $412K per MW |" in limits
    assert UNMET[0] in limits


def test_unknown_kind_falls_back_to_the_planners_english(plan_dir: Path) -> None:
    odd = {"constraint": "grid-interconnect", "site": "jakarta-1", "shadow_price": 5.0,
           "text": "The grid interconnect at Jakarta binds."}
    assert odd["constraint"] not in KNOWN_KINDS
    md = write_report(_explained(plan_dir, [odd]), "id", today=TODAY).markdown.read_text("utf-8")
    assert "| grid-interconnect | The grid interconnect at Jakarta binds. |" in md


def test_real_plan_explanations_in_indonesian(real_plan_with_risk: Path) -> None:
    summary = json.loads((real_plan_with_risk / "summary.json").read_text())
    md = write_report(real_plan_with_risk, "id", today=TODAY).markdown.read_text("utf-8")
    kinds = {b["constraint"] for b in summary.get("binding") or []}
    assert kinds <= set(KNOWN_KINDS)
    for b in summary.get("binding") or []:
        assert b["text"] not in md
    for line in summary.get("unmet_explained") or []:
        assert line not in md
    sov = (summary.get("sovereignty") or {}).get("text")
    assert not sov or sov not in md
    assert summary["rounding"]["text"] not in md
    assert "Asumsi dan sumber" in md and "catalog constant" not in md


def test_sources_framing_in_indonesian() -> None:
    from daulat.report import load_strings
    from daulat.report.explain import source_text
    from daulat.report.text import Formatter

    s, f = load_strings("id"), Formatter("id_ID")
    assert source_text("catalog: fallback: median of 4 sourced countries in subregion Latin "
                       "America and the Caribbean", s, f) == (
        "katalog daulat: tidak ada harga bersumber; median 4 negara bersumber di subkawasan "
        "Amerika Latin")
    assert source_text("pro rata to site energy (energy.csv)", s, f) == (
        "pro rata menurut energi setiap lokasi (energy.csv)")
    cited = "catalog: OWID/Ember+EI (CC BY 4.0)"
    assert source_text(cited, s, f) == "katalog daulat: OWID/Ember+EI (CC BY 4.0)"
    assert source_text("a source nobody frames", s, f) == "a source nobody frames"
