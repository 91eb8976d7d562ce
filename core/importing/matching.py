"""Resolving free text to inventory records: hardware names, sites and regions, titles.

Hardware is written in many ways ("NVIDIA A100 SXM4 40 GB", "A100-80GB", "8 x NVIDIA
A100-SXM4-80GB"). Names are cut into tokens (vendor words dropped, "40 GB" joined to
"40gb"); the first token with a digit is the chip ("a100", "v4") and must match, the
rest (form factor, memory) refine; a name without a form factor ("A100-80GB") is not
taken for one of several cards of that chip that differ by form factor (SXM4 or PCIe:
their power differs), the user picks. Sites match by cloud region code, name, the place in
brackets ("Iowa") or country (code or name). Each match has a confidence in 0..1;
:data:`ACCEPT` and :data:`MARGIN` decide when a match is taken without asking.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.reference import reference_dir

#: a match is taken without asking when it scores at least this ...
ACCEPT = 0.6
#: ... and beats the runner-up by this much
MARGIN = 0.12

_VENDOR_WORDS = {
    "nvidia", "amd", "intel", "google", "tesla", "geforce", "radeon", "instinct", "cloud",
    "gpu", "gpus", "the", "x", "with", "and", "of", "accelerator", "chip", "chips",
}  # fmt: skip
_FORM_FACTORS = {"sxm", "sxm2", "sxm4", "sxm5", "pcie", "nvl", "oam"}
_CPU_WORDS = {"epyc", "xeon", "core", "ryzen", "graviton", "platinum", "gold", "silver", "cpu"}


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    tokens: frozenset[str]
    extra: tuple[str, ...] = ()


def tokens(text: str) -> list[str]:
    """Lower-case tokens of a hardware name with vendor words dropped and sizes joined."""
    t = text.lower().replace("_", " ")
    t = re.sub(r"(\d+)\s*(gb|tb|g)\b", r"\1gb", t)
    t = re.sub(r"\bv\s+(\d)", r"v\1", t)
    parts = re.split(r"[^a-z0-9+]+", t)
    return [p for p in parts if p and p not in _VENDOR_WORDS]


def _primary(toks: Sequence[str]) -> str | None:
    return next((t for t in toks if re.search(r"\d", t) and not t.endswith("gb")), None)


def split_multi(text: str) -> list[tuple[int, str]]:
    """ "8 x A100" -> [(8, "A100")]; "2 x T4, 1 x A10G" -> two entries; "A100" -> [(1, "A100")]."""
    out = []
    for part in re.split(r"\s*(?:[,;+&]|\band\b)\s*", text):
        part = part.strip()
        if not part:
            continue
        match = re.match(r"^(\d+)\s*(?:x|×|\*)\s*(.+)$", part, re.IGNORECASE)
        if match:
            out.append((int(match.group(1)), match.group(2).strip()))
        else:
            out.append((1, part))
    return out


def hardware_candidates(rows: Sequence[tuple[int, str]]) -> list[Candidate]:
    return [Candidate(i, n, frozenset(tokens(n))) for i, n in rows]


class Matches(list):
    """``(id, name, confidence)`` best first, and whether :func:`decide` must ask even
    when the best is clear (``ask``: e.g. the form factor of a card is not known)."""

    ask: bool = False


def match_hardware(text: str, candidates: Sequence[Candidate]) -> list[tuple[int, str, float]]:
    """``(id, name, confidence)`` of the hardware ``text`` may mean, best first (top 5).

    When ``text`` names no form factor and the best match has one, while another card of
    the same chip has another ("A100-80GB": "A100 PCIe 80GB" or "A100 SXM4"), the list
    is marked to be asked (:attr:`Matches.ask`): the name does not say which card it is.
    """
    q = tokens(text)
    if not q:
        return []
    qs = set(q)
    primary = _primary(q)
    scored = []
    by_id: dict[int, Candidate] = {}
    for c in candidates:
        if not c.tokens:
            continue
        by_id[c.id] = c
        if c.name.lower() == text.strip().lower():
            scored.append((c.id, c.name, 1.0))
            continue
        common = len(qs & c.tokens)
        if not common:
            continue
        score = common / len(qs | c.tokens)
        q_form, c_form = qs & _FORM_FACTORS, c.tokens & _FORM_FACTORS
        if q_form and c_form and not (q_form & c_form):
            score -= 0.3  # SXM4 is not PCIe: a different card despite the same chip
        if primary and primary not in c.tokens:
            score *= 0.3
        elif primary:
            score = 0.5 + 0.5 * score  # the chip matches: the rest only refines
        scored.append((c.id, c.name, round(score, 3)))
    scored.sort(key=lambda s: (-s[2], s[1]))
    out = Matches(scored[:5])
    if scored and scored[0][2] < 1.0 and primary and not qs & _FORM_FACTORS:
        best = by_id[scored[0][0]].tokens & _FORM_FACTORS
        out.ask = bool(best) and any(
            primary in by_id[i].tokens and (by_id[i].tokens & _FORM_FACTORS) - best
            for i, _, _ in scored[1:]
        )
    return out


def looks_like_cpu(text: str) -> bool:
    return bool(set(tokens(text)) & _CPU_WORDS)


# -- sites and regions ---------------------------------------------------------------------

#: ISO 3166-1 alpha-2 codes for country names and common variants (lower case)
COUNTRIES: dict[str, str] = {}
_COUNTRY_NAMES = {
    "AR": ("argentina", "arg"),
    "AU": ("australia", "aus"),
    "AT": ("austria", "aut"),
    "BE": ("belgium", "bel"),
    "BH": ("bahrain", "bhr"),
    "BR": ("brazil", "brasil", "bra"),
    "CA": ("canada", "can"),
    "CH": ("switzerland", "che"),
    "CL": ("chile", "chl"),
    "CN": ("china", "people's republic of china", "chn"),
    "CZ": ("czechia", "czech republic", "cze"),
    "DE": ("germany", "deutschland", "deu"),
    "DK": ("denmark", "dnk"),
    "ES": ("spain", "esp"),
    "FI": ("finland", "fin"),
    "FR": ("france", "fra"),
    "GB": ("united kingdom", "uk", "great britain", "britain", "england", "gbr"),
    "HK": ("hong kong", "hkg"),
    "ID": ("indonesia", "idn"),
    "IE": ("ireland", "irl"),
    "IL": ("israel", "isr"),
    "IN": ("india", "ind"),
    "IT": ("italy", "ita"),
    "JP": ("japan", "jpn"),
    "KR": (
        "south korea", "korea", "korea (republic of)", "republic of korea",
        "korea, republic of", "kor",
    ),
    "MX": ("mexico", "mex"),
    "MY": ("malaysia", "mys"),
    "NL": ("netherlands", "the netherlands", "holland", "nld"),
    "NO": ("norway", "nor"),
    "NZ": ("new zealand", "nzl"),
    "PL": ("poland", "pol"),
    "PT": ("portugal", "prt"),
    "QA": ("qatar", "qat"),
    "SA": ("saudi arabia", "sau"),
    "SE": ("sweden", "swe"),
    "SG": ("singapore", "sgp"),
    "TW": ("taiwan", "twn"),
    "US": ("united states", "united states of america", "usa", "us", "u.s.", "america"),
    "ZA": ("south africa", "zaf"),
    "AE": ("united arab emirates", "uae", "are"),
}  # fmt: skip
for _code, _names in _COUNTRY_NAMES.items():
    COUNTRIES[_code.lower()] = _code
    for _name in _names:
        COUNTRIES[_name] = _code


def country_code(text: str) -> str | None:
    """ISO alpha-2 code for a country name or code ("Korea (Republic of)" -> "KR"), or
    for a sub-national grid zone of the reference data the country it lies in
    ("US-CA" -> "US")."""
    key = " ".join(text.strip().lower().split())
    code = COUNTRIES.get(key)
    if code is None and key.upper() in _subnational_zones()[1]:
        code = key[:2].upper()
    return code


#: a sub-national zone's name in the grid factors: "California (US)"
_ZONE_NAME = re.compile(r"^(.+?)\s*\(([A-Z]{2})\)$")


@functools.cache
def _subnational_zones() -> tuple[dict[tuple[str, str], str], frozenset[str]]:
    """``({(country, lower-case place or zone part): zone}, zones)`` of the sub-national
    zones of the shipped grid factors (US states, Chinese provinces...): "california"
    and "ca" in the US are "US-CA"."""
    by_place: dict[tuple[str, str], str] = {}
    zones: set[str] = set()
    try:
        with open(reference_dir() / "grid_factors.csv", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("kind") != "subnational":
                    continue
                zone = (row.get("zone") or "").strip().upper()
                match = _ZONE_NAME.match((row.get("zone_name") or "").strip())
                if not match or not zone.startswith(match.group(2) + "-"):
                    continue  # e.g. "Norway Bidding Zone 1 (Oslo)": not a place name
                country = match.group(2)
                zones.add(zone)
                by_place[(country, " ".join(match.group(1).lower().split()))] = zone
                by_place[(country, zone[3:].lower())] = zone
    except OSError:  # no reference data: places are not known, countries still are
        pass
    return by_place, frozenset(zones)


def grid_zone(place: str, country: str | None) -> str | None:
    """The sub-national grid zone of the reference data that ``place`` names within
    ``country`` (a name or code): ("california", "USA") -> "US-CA"; ("TX", "US") ->
    "US-TX"; ("US-WA", None) -> "US-WA". None when the reference data does not know it.
    """
    key = " ".join(place.strip().lower().split())
    if not key:
        return None
    by_place, zones = _subnational_zones()
    if key.upper() in zones:
        return key.upper()
    code = country_code(country) if country else None
    if code is None:
        return None
    return by_place.get((code, key))


@dataclass(frozen=True)
class SiteRow:
    id: int
    name: str
    region_code: str
    country: str
    grid_region: str


def match_site(text: str, sites: Sequence[SiteRow]) -> list[tuple[int, str, float]]:
    """``(id, name, confidence)`` of the sites ``text`` may mean, best first (top 5).

    An exact name or cloud region code is certain; the place in a site's brackets
    ("Iowa" for "GCP us-central1 (Iowa)") or the grid region is likely; a country
    alone only suggests the sites in it.
    """
    q = " ".join(text.strip().lower().split())
    if not q:
        return []
    code = country_code(q)
    scored: list[tuple[int, str, float]] = []
    for s in sites:
        name = s.name.lower()
        if q == name:
            score = 1.0
        elif s.region_code and q == s.region_code.lower():
            score = 0.95
        elif re.search(r"\(([^)]*)\)", name) and q == re.search(r"\(([^)]*)\)", name).group(1):
            score = 0.75
        elif s.grid_region and q == s.grid_region.lower():
            score = 0.6
        elif code and s.country and s.country.upper() == code:
            score = 0.35
        elif len(q) >= 4 and q in name:
            score = 0.45
        else:
            continue
        scored.append((s.id, s.name, score))
    scored.sort(key=lambda s: (-s[2], s[1]))
    return scored[:5]


def prepare_titles(options: Sequence[tuple[int, str]]) -> list[tuple[int, str, str, set[str]]]:
    """``options`` with their normalised titles and words, for :func:`match_title` (an
    import matches hundreds of distinct names against the same titles)."""
    out = []
    for i, title in options:
        t = " ".join(title.lower().split())
        out.append((i, title, t, set(re.split(r"[^a-z0-9.]+", t)) - {""}))
    return out


def match_title(
    text: str,
    options: Sequence[tuple[int, str]],
    prepared: list[tuple[int, str, str, set[str]]] | None = None,
) -> list[tuple[int, str, float]]:
    """``(id, title, confidence)`` for models and deployments: exact title (case and spacing
    aside) first, then titles sharing words. ``prepared``: :func:`prepare_titles` of
    ``options``, when matching many texts against them."""
    q = " ".join(text.strip().lower().split())
    if not q:
        return []
    qs = set(re.split(r"[^a-z0-9.]+", q)) - {""}
    scored = []
    for i, title, t, ts in prepared if prepared is not None else prepare_titles(options):
        if t == q:
            scored.append((i, title, 1.0))
            continue
        common = len(qs & ts)
        if common:
            scored.append((i, title, round(0.8 * common / len(qs | ts), 3)))
    scored.sort(key=lambda s: (-s[2], s[1]))
    return scored[:5]


def decide(matches: Sequence[tuple[int, str, float]]) -> int | None:
    """The id to take without asking, or None when the best match is weak or contested
    (or the matches say to ask, see :class:`Matches`)."""
    if not matches or getattr(matches, "ask", False):
        return None
    best = matches[0][2]
    second = matches[1][2] if len(matches) > 1 else 0.0
    if best >= 1.0 and second < 1.0:
        return matches[0][0]
    if best >= ACCEPT and best - second >= MARGIN:
        return matches[0][0]
    return None
