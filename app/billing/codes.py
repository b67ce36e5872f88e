"""The behavioral-health procedure code reference: lookups, time and unit rules, add-on checks, search.

Pure Python with no Flask in it. app/data/procedure_codes.json is read once per process. The time
rules are shared/domain.md's formulas, where m is the minutes actually spent face to face.
"""
import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from typing import Literal, Protocol

from app.billing.money import dollars

_CODE_FORMAT = re.compile(r"\d{4}[0-9FTU]|[A-Z]\d{4}")  # CPT Category I/II/III and PLA; HCPCS Level II
_WORD = re.compile(r"[a-z0-9]+")


class CodeKind(StrEnum):
    CPT = "CPT"
    HCPCS = "HCPCS"


class TimeRule(StrEnum):
    """How minutes turn into a billable code and its units (see the JSON file's "time_rules")."""

    UNTIMED = "untimed"  # any minutes, 1 unit
    BAND = "band"  # 1 unit from min_minutes; max_minutes, when set, is where the next code up starts
    UNITS = "units"  # units = 0 if m < min_minutes else 1 + (m - min_minutes) // unit_minutes
    FIFTEEN_MINUTE_UNITS = "fifteen_minute_units"  # 15-minute units under a payer's Rounding


class UnitRule(StrEnum):
    """What one billed unit stands for."""

    ONE = "one"
    PER_PATIENT = "per_patient"
    PER_INSTRUMENT = "per_instrument"
    PER_DAY = "per_day"
    PER_15_MINUTES = "per_15_minutes"
    PER_30_MINUTES = "per_30_minutes"
    PER_HOUR = "per_hour"


class Rounding(StrEnum):
    """How a payer turns minutes into 15-minute units; the CMS 8-minute rule unless a payer says otherwise."""

    CMS_8_MINUTE = "cms_8_minute"  # 0 if m < 8 else (m + 7) // 15
    FULL_UNITS_ONLY = "full_units_only"  # m // 15
    ANY_MINUTES = "any_minutes"  # ceil(m / 15)


_FIRST_UNIT_AT = {Rounding.CMS_8_MINUTE: 8, Rounding.FULL_UNITS_ONLY: 15, Rounding.ANY_MINUTES: 1}
_ROUNDING_WORDS = {Rounding.CMS_8_MINUTE: "the 8-minute rule", Rounding.FULL_UNITS_ONLY: "whole units only",
                   Rounding.ANY_MINUTES: "any part of a unit counts"}
_REPEATABLE_UNITS = {UnitRule.PER_INSTRUMENT, UnitRule.PER_15_MINUTES, UnitRule.PER_30_MINUTES, UnitRule.PER_HOUR}


@dataclass(frozen=True, slots=True)
class MedicareRate:
    """A Medicare national non-facility amount, for reference only: never a payer's contracted rate."""

    cents: int
    year: int
    source: str


@dataclass(frozen=True, slots=True)
class ProcedureCode:
    """One entry of the reference, described in Parity's own words."""

    code: str
    kind: CodeKind
    name: str
    description: str
    family: str
    time_rule: TimeRule
    min_minutes: int | None
    max_minutes: int | None
    unit_minutes: int | None
    unit_rule: UnitRule
    addon_parents: tuple[str, ...]
    never_with: tuple[str, ...]
    once_per_day: bool
    under_minimum_bill: tuple[str, ...]  #: what to bill instead when the minutes fall short (90839 → 90832/90833)
    medicare_nonfacility: MedicareRate | None

    @property
    def is_addon(self) -> bool:
        return bool(self.addon_parents)


@dataclass(frozen=True, slots=True)
class TimeFit:
    """Whether a code may be billed for the minutes spent, and why, in words a clinician can act on."""

    code: str
    minutes: int
    ok: bool
    message: str
    units: int = 0  #: units of `code` the minutes support (0 when not ok)
    best_code: str | None = None  #: the code these minutes support in this family (an add-on's primary code)
    lower_code: bool = False  #: ok only because a code lower than the minutes support is allowed
    addon: str | None = None  #: the add-on that carries time past this code's first unit (90840, 96131 …)
    addon_units: int = 0


# ---------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class _Reference:
    by_code: dict[str, ProcedureCode]
    ordered: tuple[ProcedureCode, ...]
    by_family: dict[str, tuple[ProcedureCode, ...]]


def _parse(raw: dict) -> ProcedureCode:
    rate = raw["medicare_nonfacility"]
    return ProcedureCode(
        code=raw["code"], kind=CodeKind(raw["kind"]), name=raw["name"], description=raw["description"],
        family=raw["family"], time_rule=TimeRule(raw["time_rule"]), min_minutes=raw["min_minutes"],
        max_minutes=raw["max_minutes"], unit_minutes=raw["unit_minutes"], unit_rule=UnitRule(raw["unit_rule"]),
        addon_parents=tuple(raw["addon_parents"]), never_with=tuple(raw["never_with"]),
        once_per_day=raw["once_per_day"], under_minimum_bill=tuple(raw["under_minimum_bill"]),
        medicare_nonfacility=MedicareRate(rate["cents"], rate["year"], rate["source"]) if rate else None)


def _check(entries: tuple[ProcedureCode, ...], by_code: dict[str, ProcedureCode]) -> None:
    """Refuse a reference whose entries the rules below would misread; the message names the code."""
    if len(by_code) != len(entries):
        raise ValueError("procedure_codes.json lists a code twice")
    for entry in entries:
        needs_minimum = entry.time_rule in {TimeRule.BAND, TimeRule.UNITS}
        problems = [
            not is_valid_code_format(entry.code) and "bad code format",
            not (entry.name.strip() and entry.description.strip()) and "empty name or description",
            needs_minimum and not entry.min_minutes and "min_minutes missing",
            entry.time_rule == TimeRule.UNITS and not (entry.unit_minutes and len(entry.addon_parents) == 1)
            and "a units add-on needs unit_minutes and exactly one parent",
            entry.time_rule == TimeRule.FIFTEEN_MINUTE_UNITS and entry.unit_minutes != 15 and "unit_minutes != 15",
            any(other not in by_code for other in entry.addon_parents + entry.never_with + entry.under_minimum_bill)
            and "refers to a code not in the reference",
        ]
        if any(problems):
            raise ValueError(f"procedure_codes.json, {entry.code}: {', '.join(filter(None, problems))}")


@cache
def _reference() -> _Reference:
    text = resources.files("app").joinpath("data/procedure_codes.json").read_text(encoding="utf-8")
    entries = tuple(sorted((_parse(raw) for raw in json.loads(text)["codes"]), key=lambda entry: entry.code))
    by_code = {entry.code: entry for entry in entries}
    _check(entries, by_code)
    by_family: dict[str, list[ProcedureCode]] = {}
    for entry in entries:
        by_family.setdefault(entry.family, []).append(entry)
    return _Reference(by_code, entries, {family: tuple(members) for family, members in by_family.items()})


# ---------------------------------------------------------------- lookups


def normalize_code(code: str | None) -> str:
    """The code as stored and compared: surrounding spaces removed, upper case (' h0004' → 'H0004')."""
    return (code or "").strip().upper()


def is_valid_code_format(code: str | None) -> bool:
    """True for a CPT code (four digits then a digit, F, T or U) or a HCPCS Level II code (a letter and
    four digits). Exact: normalize_code() first if the text came from a person."""
    return bool(_CODE_FORMAT.fullmatch(code or ""))


def get(code: str | None) -> ProcedureCode | None:
    """The reference entry for a code, or None when the reference does not have it."""
    return _reference().by_code.get(normalize_code(code))


def all_codes() -> tuple[ProcedureCode, ...]:
    """Every reference entry, ordered by code."""
    return _reference().ordered


def is_addon(code: str) -> bool:
    """True for a code billed only together with a primary code (90785, 90833, 90840, 96131 …)."""
    entry = get(code)
    return entry is not None and entry.is_addon


def parents(code: str) -> tuple[str, ...]:
    """The primary codes an add-on may be billed with; empty for a primary or unknown code."""
    entry = get(code)
    return entry.addon_parents if entry else ()


def unit_minutes(code: str) -> int | None:
    """Minutes one unit stands for when the code is billed in time units (15, 30 or 60), else None."""
    entry = get(code)
    return entry.unit_minutes if entry else None


def is_repeatable(code: str) -> bool:
    """True when one session may bill more than one unit of the code (time units, screening instruments)."""
    entry = get(code)
    return entry is not None and entry.unit_rule in _REPEATABLE_UNITS


def reference_price_text(code: str) -> str:
    """The Medicare national amount as '113.90', a starting point for a practice's own price; '' when unknown."""
    entry = get(code)
    return dollars(entry.medicare_nonfacility.cents) if entry and entry.medicare_nonfacility else ""


# ---------------------------------------------------------------- time and units


def _rounding(rounding: Rounding | str | None) -> Rounding:
    # An empty setting means the default; an unknown name raises rather than guessing.
    return Rounding(rounding) if rounding else Rounding.CMS_8_MINUTE


def fifteen_minute_units(minutes: int, rounding: Rounding | str | None = None) -> int:
    """Units of a 15-minute code for these minutes under the payer's rounding rule."""
    match _rounding(rounding):
        case Rounding.CMS_8_MINUTE:
            return 0 if minutes < 8 else (minutes + 7) // 15
        case Rounding.FULL_UNITS_ONLY:
            return max(minutes, 0) // 15
        case Rounding.ANY_MINUTES:
            return -(-max(minutes, 0) // 15)


def _threshold_units(minutes: int, first_unit_at: int, unit_minutes_: int) -> int:
    return 0 if minutes < first_unit_at else 1 + (minutes - first_unit_at) // unit_minutes_


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _band_ladder(family: str) -> tuple[ProcedureCode, ...]:
    return tuple(entry for entry in _reference().by_family.get(family, ()) if entry.time_rule == TimeRule.BAND)


def _in_band(entry: ProcedureCode, minutes: int) -> bool:
    return entry.min_minutes <= minutes and (entry.max_minutes is None or minutes <= entry.max_minutes)


def _time_addon(code: str) -> ProcedureCode | None:
    """The add-on that carries the time past this code's first unit (90839 → 90840, 96130 → 96131)."""
    entry = get(code)
    family = _reference().by_family.get(entry.family, ()) if entry else ()
    return next((other for other in family if other.time_rule == TimeRule.UNITS and other.addon_parents == (code,)),
                None)


def code_for_minutes(family_or_code: str, minutes: int, rounding: Rounding | str | None = None) -> str | None:
    """The code these minutes support in a family ('psychotherapy', 45 → '90834') or in a code's own family
    ('90833', 45 → '90836'; '96131', 60 → '96130'). None when nothing is billable or the family offers
    several codes for the same time and no code was given to choose between them."""
    entry = get(family_or_code)
    asked = (family_or_code or "").strip().lower()
    family = entry.family if entry else next((name for name in _reference().by_family if name.lower() == asked), "")
    preferred = entry.code if entry else None
    ladder = _band_ladder(family)
    if ladder:
        supported = [candidate for candidate in ladder if _in_band(candidate, minutes)]
        if any(candidate.code == preferred for candidate in supported):
            return preferred
        highest = max((candidate.min_minutes for candidate in supported), default=None)
        top = [candidate.code for candidate in supported if candidate.min_minutes == highest]
        if top:  # two codes for the same time (90846 and 90847) are not ours to choose between
            return top[0] if len(top) == 1 else None
        # Below every band: what the family says to bill instead (crisis under 30 minutes → 90832).
        return next((alternative for candidate in ladder if minutes < candidate.min_minutes
                     for alternative in candidate.under_minimum_bill if fits(alternative, minutes).ok), None)
    if preferred:
        return preferred if fits(preferred, minutes, rounding).ok else None
    members = _reference().by_family.get(family, ())
    fitting = [member.code for member in members if fits(member.code, minutes, rounding).ok]
    return fitting[0] if len(fitting) == 1 else None


def fits(code: str, minutes: int, rounding: Rounding | str | None = None) -> TimeFit:
    """Does `code` fit `minutes` face to face? A code lower than the minutes support is allowed (ok, with a
    note); a higher one, or too few minutes, is not. `rounding` applies to 15-minute codes only."""
    return _fits(normalize_code(code), minutes, _rounding(rounding))


@lru_cache(maxsize=8192)  # search asks the same (code, minutes) pairs on every keystroke
def _fits(code: str, minutes: int, rounding: Rounding) -> TimeFit:
    entry = get(code)
    if entry is None:
        message = f"{code} is not in the code reference." if code else "Enter a code."
        return TimeFit(code, minutes, False, message)
    if minutes < 0:
        return TimeFit(code, minutes, False, "Minutes can't be negative.")
    match entry.time_rule:
        case TimeRule.UNTIMED:
            return TimeFit(code, minutes, True, f"{code} is not timed, so any length of session fits.", 1, code)
        case TimeRule.BAND:
            return _band_fit(entry, minutes)
        case TimeRule.UNITS:
            return _units_fit(entry, minutes)
        case TimeRule.FIFTEEN_MINUTE_UNITS:
            return _fifteen_minute_fit(entry, minutes, rounding)


def _band_fit(entry: ProcedureCode, minutes: int) -> TimeFit:
    code, spent = entry.code, _plural(minutes, "minute")
    best = code_for_minutes(code, minutes)
    if minutes < entry.min_minutes:
        if best and get(best).family == entry.family:
            return TimeFit(code, minutes, False, f"{spent} is {best}, not {code}.", best_code=best)
        floor = min(member.min_minutes for member in _band_ladder(entry.family))
        message = f"{spent} is too short to bill {entry.family} ({floor} minutes minimum)"
        instead = [other for other in entry.under_minimum_bill if fits(other, minutes).ok]
        message += f": bill {' or '.join(instead)} instead." if instead else "."
        return TimeFit(code, minutes, False, message, best_code=best)
    lower = best != code and entry.max_minutes is not None and minutes > entry.max_minutes
    message = (f"{code} is allowed as a lower code, but {spent} would support {best}." if lower
               else f"{code} fits {spent}.")
    addon = _time_addon(code)
    addon_units = _threshold_units(minutes, addon.min_minutes, addon.unit_minutes) if addon else 0
    if addon_units:
        message = message[:-1] + f"; bill {addon.code} × {addon_units} with it for the time past the first unit."
    return TimeFit(code, minutes, True, message, 1, best, lower, addon.code if addon else None, addon_units)


def _units_fit(entry: ProcedureCode, minutes: int) -> TimeFit:
    code, spent, primary = entry.code, _plural(minutes, "minute"), entry.addon_parents[0]
    units = _threshold_units(minutes, entry.min_minutes, entry.unit_minutes)
    best = code_for_minutes(code, minutes)
    if units:
        return TimeFit(code, minutes, True, f"{code} fits {spent}: {_plural(units, 'unit')} on top of {primary}.",
                       units, best)
    message = f"{spent} is too short for {code} (its first unit starts at {entry.min_minutes} minutes)"
    message += f"; {primary} alone covers {spent}." if minutes >= get(primary).min_minutes else "."
    return TimeFit(code, minutes, False, message, best_code=best)


def _fifteen_minute_fit(entry: ProcedureCode, minutes: int, rounding: Rounding) -> TimeFit:
    code, spent, rule = entry.code, _plural(minutes, "minute"), _ROUNDING_WORDS[rounding]
    units = fifteen_minute_units(minutes, rounding)
    if units:
        return TimeFit(code, minutes, True, f"{code} fits {spent}: {_plural(units, 'unit')} of 15 minutes ({rule}).",
                       units, code)
    return TimeFit(code, minutes, False, f"{spent} is too short to bill a 15-minute unit of {code} "
                                         f"({_FIRST_UNIT_AT[rounding]} minutes minimum, {rule}).")


def units_for(code: str, minutes: int, rounding: Rounding | str | None = None) -> int:
    """Units of `code` that `minutes` support (0 when the code does not fit). KeyError for an unknown code."""
    if get(code) is None:
        raise KeyError(f"{code} is not in the code reference")
    return fits(code, minutes, rounding).units


# ---------------------------------------------------------------- codes billed together


def _code_ranges(codes: Iterable[str]) -> str:
    """'90791, 90792, 90832, 90833, 90834, 90853' → '90791–90792, 90832–90834, 90853'."""
    runs: list[list[str]] = []
    for code in sorted(codes):
        previous = runs[-1][-1] if runs else None
        if previous and previous.isdigit() and code.isdigit() and int(code) == int(previous) + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)


def _never_together(first: ProcedureCode, second: ProcedureCode) -> bool:
    return second.code in first.never_with or first.code in second.never_with


def addon_problems(codes_on_same_session: Iterable[str]) -> list[str]:
    """Plain-word problems with the codes billed for one session: add-ons without one of their primary
    codes, and pairs that may never be billed together. Codes not in the reference are left to others."""
    entries = [entry for entry in dict.fromkeys(map(get, codes_on_same_session)) if entry is not None]
    present = {entry.code for entry in entries}
    problems = []
    for entry in entries:
        if entry.is_addon and not present & set(entry.addon_parents):
            families = {get(parent).family for parent in entry.addon_parents}
            which = (f"one of {_code_ranges(entry.addon_parents)}" if len(entry.addon_parents) > 1
                     else entry.addon_parents[0])
            if len(families) == 1 and len(entry.addon_parents) > 1:
                which = f"an {families.pop()} code ({_code_ranges(entry.addon_parents)})"
            problems.append(f"{entry.code} ({entry.name}) is an add-on: bill it with {which} on the same session.")
    by_code = sorted(entries, key=lambda entry: entry.code)  # the same words whatever order the lines are in
    for position, entry in enumerate(by_code):
        for other in by_code[position + 1:]:
            if _never_together(entry, other):
                problems.append(f"{entry.code} ({entry.name}) and {other.code} ({other.name}) "
                                f"can't be billed together.")
    return problems


# ---------------------------------------------------------------- search


class CodeLike(Protocol):
    """Anything the index can hold: a reference entry, or a practice's own service."""

    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SearchResult:
    code: str
    name: str
    item: CodeLike  #: the indexed object itself, so callers keep their own fields (price, id)
    matched_on: Literal["code", "words"]
    check: "TimeCheck | None" = None  #: the time check, when minutes were given and the code has a known rule

    @property
    def fits(self) -> bool | None:
        """None when no minutes were given or the code has no known time rule."""
        return None if self.check is None else self.check.fits


class Verdict(StrEnum):
    FITS = "fits"  #: the minutes fall in the code's own time band (or the code is untimed)
    LOWER = "lower"  #: allowed only with the clinician's reason: the minutes support a higher code
    MISFIT = "misfit"  #: may not be billed for these minutes


@dataclass(frozen=True, slots=True)
class TimeCheck:
    """The one answer to "may this code be billed for these minutes?", shared by the code autocomplete,
    /codes/validate, Mark Session Complete, bill editing and the claim scrubber."""

    code: str
    minutes: int
    verdict: Verdict
    message: str  #: the whole answer in words, for a page or a form field
    mark: str  #: the short answer the autocomplete shows beside the code ("fits 53 min" …)
    units: int = 0  #: units the minutes support (0 when the code may not be billed)
    best_code: str | None = None  #: the code the minutes support, when it is another one

    @property
    def fits(self) -> bool:
        return self.verdict == Verdict.FITS

    @property
    def allowed(self) -> bool:
        """May be billed: fits, or is a lower code (which needs the clinician's reason)."""
        return self.verdict != Verdict.MISFIT

    @property
    def lower_code(self) -> bool:
        return self.verdict == Verdict.LOWER


def check_time(code: str, minutes: int, *, rounding: Rounding | str | None = None,
               custom: bool = False) -> TimeCheck:
    """Check a code against the minutes actually spent. `custom`: the practice's own code, which has no time
    rule; `rounding` applies to 15-minute codes. A code lower than the minutes support is never said to fit."""
    return _check_time(normalize_code(code), minutes, _rounding(rounding), custom)


@lru_cache(maxsize=8192)  # the autocomplete asks the same (code, minutes) pairs on every keystroke
def _check_time(code: str, minutes: int, rounding: Rounding, custom: bool) -> TimeCheck:
    spent = f"{minutes} min"
    if get(code) is None:
        if custom:
            return TimeCheck(code, minutes, Verdict.FITS, f"{code} is your practice's own code; it has no time rule.",
                             "no time rule", 1)
        return TimeCheck(code, minutes, Verdict.MISFIT, f"{code or 'That'} is not a code Parity knows: pick one "
                                                        "from the list.", "unknown code")
    fit = _fits(code, minutes, rounding)
    if not fit.ok:
        return TimeCheck(code, minutes, Verdict.MISFIT, fit.message, f"does not fit {spent}: {fit.message}",
                         0, fit.best_code)
    if fit.lower_code:
        return TimeCheck(code, minutes, Verdict.LOWER,
                         f"{_plural(minutes, 'minute')} supports {fit.best_code}; {code} is lower. Billing a lower "
                         "code needs your confirmation with a short reason.",
                         f"lower than {spent} supports ({fit.best_code})", fit.units, fit.best_code)
    return TimeCheck(code, minutes, Verdict.FITS, fit.message, f"fits {spent}", fit.units, fit.best_code)


def reference_fit(code: str, minutes: int) -> TimeCheck | None:
    """The reference time check for a code, or None for a code the reference does not know."""
    return check_time(code, minutes) if get(code) else None


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _prefix_postings(texts: list[str]) -> dict[str, frozenset[int]]:
    """Every prefix of every word → the positions of the texts holding such a word."""
    postings: dict[str, set[int]] = {}
    for position, text in enumerate(texts):
        for word in _words(text):
            for end in range(1, len(word) + 1):
                postings.setdefault(word[:end], set()).add(position)
    return {prefix: frozenset(positions) for prefix, positions in postings.items()}


class CodeIndex:
    """An in-memory search index over codes, built once and then queried per keystroke without scanning.

    A later item replaces an earlier one with the same code, so a practice's own entry wins over the
    reference. `fit` answers the time check for a code and minutes (None: unknown)."""

    __slots__ = ("_items", "_codes", "_name_words", "_all_words", "_fit")

    def __init__(self, items: Iterable[CodeLike],
                 fit: Callable[[str, int], "TimeCheck | None"] = reference_fit):
        by_code = {normalize_code(item.code): item for item in items}
        self._codes = tuple(sorted(by_code))
        self._items = tuple(by_code[code] for code in self._codes)
        # The code is indexed as a word too, so "9083 crisis" narrows by both.
        self._name_words = _prefix_postings([f"{code} {item.name}" for code, item in zip(self._codes, self._items)])
        self._all_words = _prefix_postings([f"{code} {item.name} {item.description}"
                                            for code, item in zip(self._codes, self._items)])
        self._fit = fit

    def __len__(self) -> int:
        return len(self._items)

    def _code_prefix_matches(self, query: str) -> list[int]:
        prefix = normalize_code(query)
        if not prefix or any(char.isspace() for char in prefix):
            return []
        matches = []
        for position in range(bisect_left(self._codes, prefix), len(self._codes)):
            if not self._codes[position].startswith(prefix):
                break
            matches.append(position)
        return matches

    @staticmethod
    def _every_word(postings: dict[str, frozenset[int]], words: list[str]) -> frozenset[int]:
        found = [postings.get(word, frozenset()) for word in words]
        return frozenset.intersection(*sorted(found, key=len)) if found else frozenset()

    def search(self, query: str, limit: int = 20, minutes: int | None = None) -> list[SearchResult]:
        """Codes starting with the query first, then entries where every query word starts a word of the
        code, name (before description-only matches) or description; by code within each group. With
        minutes, codes that fit come first (exact fits before lower codes), then unknown, then misfits."""
        if limit <= 0 or not (query or "").strip():
            return []
        by_code = self._code_prefix_matches(query)
        words = sorted(_words(query))
        in_name = self._every_word(self._name_words, words)
        anywhere = self._every_word(self._all_words, words)
        taken = set(by_code)
        ranked = [(position, "code") for position in by_code]
        ranked += [(position, "words") for position in sorted(in_name - taken)]
        ranked += [(position, "words") for position in sorted(anywhere - in_name - taken)]
        if minutes is None:
            return [self._result(position, matched_on) for position, matched_on in ranked[:limit]]
        checked = [(position, matched_on, self._fit(self._codes[position], minutes)) for position, matched_on in ranked]
        checked.sort(key=lambda row: _fit_rank(row[2]))  # stable: keeps the match order within each rank
        return [self._result(position, matched_on, fit) for position, matched_on, fit in checked[:limit]]

    def _result(self, position: int, matched_on: str, fit: "TimeCheck | None" = None) -> SearchResult:
        item = self._items[position]
        return SearchResult(self._codes[position], item.name, item, matched_on, fit)


def _fit_rank(fit: "TimeCheck | None") -> int:
    if fit is None:
        return 2
    return {Verdict.FITS: 0, Verdict.LOWER: 1, Verdict.MISFIT: 3}[fit.verdict]


@cache
def reference_index() -> CodeIndex:
    """The search index over the reference alone, built once per process."""
    return CodeIndex(all_codes())
