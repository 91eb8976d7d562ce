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
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

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


#: one prepared title: ``(id, title, normalised title, words)``
TitleEntry = tuple[int, str, str, set[str]]


def _title_words(normalised: str) -> set[str]:
    return set(re.split(r"[^a-z0-9.]+", normalised)) - {""}


def _score_titles(
    q: str, qs: set[str], entries: Iterable[TitleEntry]
) -> list[tuple[int, str, float]]:
    """The plain scan of :func:`match_title`: every entry scored, the best five."""
    scored = []
    for i, title, t, ts in entries:
        if t == q:
            scored.append((i, title, 1.0))
            continue
        common = len(qs & ts)
        if common:
            scored.append((i, title, round(0.8 * common / len(qs | ts), 3)))
    scored.sort(key=lambda s: (-s[2], s[1]))
    return scored[:5]


class TitleIndex(list):
    """Prepared titles (``(id, title, normalised title, words)``, in the options' order)
    with the positions of each normalised title and of each word, so that a text is
    scored only against the titles that can score: the same title, or a shared word.

    When many titles share a word of the text ("dep" in "dep-00001".."dep-50000"), the
    words in common are counted for all of them at once with numpy, and Python's score
    is computed only once per distinct (words in common, title's words) pair and for
    the five titles returned; the answer is the plain scan's, float for float.
    """

    def __init__(self, entries: list[TitleEntry]):
        super().__init__(entries)
        self.exact: dict[str, list[int]] = {}
        by_word: dict[str, list[int]] = {}
        for pos, (_, _, t, ts) in enumerate(entries):
            self.exact.setdefault(t, []).append(pos)
            for w in ts:
                by_word.setdefault(w, []).append(pos)
        # all words' positions in one array, each word's (ascending) a view of it: one
        # object per word instead of a list of ints
        flat = np.fromiter(
            itertools.chain.from_iterable(by_word.values()),
            dtype=np.intp,
            count=sum(len(p) for p in by_word.values()),
        )
        self.words: dict[str, np.ndarray] = {}
        start = 0
        for w, positions in by_word.items():
            self.words[w] = flat[start : start + len(positions)]
            start += len(positions)
        #: the number of words of each title
        self.sizes = np.fromiter((len(e[3]) for e in entries), dtype=np.intp, count=len(entries))
        # (words in common, title's words) as one int: common * stride + title's words
        self._stride = int(self.sizes.max(initial=0)) + 1
        #: a text whose words occur fewer times than this in all titles together is
        #: scored in a plain loop over the titles sharing them: numpy's cost per text
        #: grows with the number of titles (about 0.3 ms for 50,000), the loop's with
        #: the titles sharing words (about 2 µs each)
        self.scan_below = 32 + len(entries) // 400

    @functools.cached_property
    def title_order(self) -> np.ndarray:
        """The positions in the order of (title, position): the order in which the
        stable sort by title puts titles of one score. Made on first need."""
        order = sorted(range(len(self)), key=lambda pos: self[pos][1])
        return np.array(order, dtype=np.intp)

    def candidates(self, q: str, qs: set[str]) -> list[TitleEntry]:
        """The entries equal to ``q`` or sharing a word of ``qs``, in the options' order."""
        found = set(self.exact.get(q, ()))
        for w in qs:
            if w in self.words:
                found.update(self.words[w].tolist())
        return [self[pos] for pos in sorted(found)]

    def match(self, q: str, qs: set[str]) -> list[tuple[int, str, float]]:
        """:func:`match_title` of the normalised text ``q`` with words ``qs``."""
        arrays = [self.words[w] for w in qs if w in self.words]
        if sum(len(a) for a in arrays) < self.scan_below:
            return _score_titles(q, qs, self.candidates(q, qs))
        exact = self.exact.get(q, [])
        # the number of the text's words in each title (a word's positions are distinct)
        shared = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.intp)
        common = np.bincount(shared, minlength=len(self))
        if exact:
            common[exact] = 0  # the same title scores 1.0, whatever its words
        picked = dict.fromkeys(exact, 1.0)
        need = 5 - len(exact)  # a shared word scores at most 0.8: below every exact title
        if need > 0:
            for pos in self._best(common, len(qs), len(arrays), need).tolist():
                c, ts = int(common[pos]), self[pos][3]
                picked[pos] = round(0.8 * c / (len(qs) + len(ts) - c), 3)
        scored = [(self[pos][0], self[pos][1], picked[pos]) for pos in sorted(picked)]
        scored.sort(key=lambda s: (-s[2], s[1]))
        return scored[:5]

    def _best(self, common: np.ndarray, nq: int, most: int, need: int) -> np.ndarray:
        """The positions of the titles that the plain scan puts first among those
        sharing words with the text: the ``need`` best by (-score, title, position).

        ``common``: the number of the text's ``nq`` words in each title (at most
        ``most``; 0: the title is not scored).
        """
        # a score depends only on (words in common, title's words): one int per title,
        # and Python's own arithmetic and round once for each that occurs give the
        # plain scan's floats
        keys = common * self._stride + self.sizes
        span = (most + 1) * self._stride
        if span <= 4 * len(keys) + 4096:
            per_key = np.bincount(keys, minlength=span)
            present = np.flatnonzero(per_key[self._stride :]) + self._stride
            inverse = None
            titles = per_key[present].tolist()
        else:  # a text or title of very many words: too many pairs for a table
            scored_pos = np.flatnonzero(common)
            present, inverse, counts = np.unique(
                keys[scored_pos], return_inverse=True, return_counts=True
            )
            titles = counts.tolist()
        by_score: dict[float, list[int]] = {}
        for j, key in enumerate(present.tolist()):
            c, s = divmod(key, self._stride)
            by_score.setdefault(round(0.8 * c / (nq + s - c), 3), []).append(j)
        # the scores from the best down to the one at which the need is met
        classes = np.zeros(len(present), dtype=np.int8)  # 2: taken, 1: tied, 0: not
        taken, tied = 0, 0
        for score in sorted(by_score, reverse=True):
            if taken == need:
                break
            group = by_score[score]
            n = sum(titles[j] for j in group)
            if taken + n > need:
                classes[group] = 1
                tied = n
                break
            classes[group] = 2
            taken += n
        if inverse is None:
            table = np.zeros(span, dtype=np.int8)
            table[present] = classes
            cls = table[keys]
        else:
            cls = np.zeros(len(self), dtype=np.int8)
            cls[scored_pos] = classes[inverse.ravel()]
        best = np.flatnonzero(cls == 2)
        if not tied:
            return best
        # the first of the tied by title (then position): walk the titles in that order,
        # a stretch about long enough to meet them, longer if not
        is_tied = cls == 1
        order = self.title_order
        rest = need - taken
        found: list[int] = []
        start, step = 0, max(64, 4 * rest * len(self) // tied)
        while len(found) < rest:
            stretch = order[start : start + step]
            found += stretch[is_tied[stretch]][: rest - len(found)].tolist()
            start, step = start + step, step * 2
        return np.concatenate([best, np.array(found, dtype=np.intp)])


def prepare_titles(options: Sequence[tuple[int, str]]) -> TitleIndex:
    """``options`` with their normalised titles and words, for :func:`match_title` (an
    import matches hundreds of distinct names against the same titles, and an inventory
    may hold tens of thousands of them)."""
    out = []
    for i, title in options:
        t = " ".join(title.lower().split())
        out.append((i, title, t, _title_words(t)))
    return TitleIndex(out)


def match_title(
    text: str,
    options: Sequence[tuple[int, str]],
    prepared: list[TitleEntry] | None = None,
) -> list[tuple[int, str, float]]:
    """``(id, title, confidence)`` for models and deployments: exact title (case and spacing
    aside) first, then titles sharing words. ``prepared``: :func:`prepare_titles` of
    ``options``, when matching many texts against them (a plain list of its entries is
    scanned entry by entry)."""
    q = " ".join(text.strip().lower().split())
    if not q:
        return []
    qs = _title_words(q)
    if prepared is None:
        prepared = prepare_titles(options)
    if isinstance(prepared, TitleIndex):
        return prepared.match(q, qs)
    return _score_titles(q, qs, prepared)


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
