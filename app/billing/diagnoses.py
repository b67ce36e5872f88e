"""ICD-10-CM diagnoses: normalizing, billability, claim checks and a fast search for the autocomplete.

Built on the `simple_icd_10_cm` package, which ships one release of the CDC code set, pinned exactly in
pyproject.toml: the fiscal year it covers is CODE_SET_FISCAL_YEAR (docs/dependencies.md tells how to
move to the next one). Importing that package parses its XML (1–2 s), so nothing is loaded until the
first call; then one immutable reference per process serves every request and thread.

Building that reference takes seconds (the package's XML, then the word index), so a server builds it once:
`preload(cache_dir)` in the process that forks the others (gunicorn's master, the RQ worker before its work
horses), which share it copy-on-write, and a copy pickled into `cache_dir` (the instance folder's cache/), keyed by
the package's version and this module's source, lets the next start load it in a fraction of a second.

Codes come in dotted form ("F32.9"); input may be any case, with or without the dot. Chapters ("5")
and blocks ("F40-F48") are groupings of the classification, not codes: they are never returned, and
`normalize` rejects them. A code is billable when it is a leaf of the tree: "F43.8" has children
(F43.81, F43.89) so it is a category header, while "F32.A" has none and is billable.
"""
from __future__ import annotations

import functools
import hashlib
import heapq
import importlib.metadata
import logging
import os
import pickle
import re
import sys
import threading
import unicodedata
import warnings
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.memory import collector_paused
from app.models import Claim, NoteAddendum, SessionNote

MAX_DIAGNOSES_PER_CLAIM = 12  # the 837P HI segments hold 12 diagnoses per claim
DEFAULT_LIMIT = 20

#: The federal fiscal year of the code set the pinned simple-icd-10-cm ships (1.5.0: FY2026 with the
#: April 1, 2026 update). The one place it is named: bump it with the pin, every October.
CODE_SET_FISCAL_YEAR = 2026

#: The one release the package ships, and the dates of service it governs (the federal fiscal year).
RELEASE_NAME = f"FY{CODE_SET_FISCAL_YEAR} ICD-10-CM code set"
RELEASE_FIRST_DAY = date(CODE_SET_FISCAL_YEAR - 1, 10, 1)
RELEASE_LAST_DAY = date(CODE_SET_FISCAL_YEAR, 9, 30)

#: Undotted code prefixes a therapy practice uses most; they rank ahead of the rest of the
#: classification in word search (never a filter). F: mental and behavioral disorders; R45: emotional
#: state symptoms; T74/T76: abuse; Z55–Z65: psychosocial circumstances; Z69: abuse counseling;
#: Z71: counseling; Z91.4/Z91.5: history of trauma and self-harm.
_BEHAVIORAL_HEALTH_PREFIXES = ("F", "R45", "T74", "T76", "Z55", "Z56", "Z57", "Z59", "Z60", "Z62", "Z63",
                               "Z64", "Z65", "Z69", "Z71", "Z914", "Z915")

#: Abbreviations clinicians type that never appear in the descriptions (or only in a header's), searched
#: as the words they stand for. Only unambiguous ones: "bpd" (borderline or bipolar) is left out.
_ABBREVIATIONS = {
    "adhd": ("attention", "deficit", "hyperactivity"),
    "dmdd": ("disruptive", "mood", "dysregulation"),
    "gad": ("generalized", "anxiety"),
    "mdd": ("major", "depressive"),
    "ocd": ("obsessive", "compulsive"),
    "odd": ("oppositional", "defiant"),
    "ptsd": ("post", "traumatic", "stress"),
}

_UNDOTTED_CODE_PREFIX = re.compile(r"[A-Z](?:[0-9][0-9A-Z]{0,5})?")
_DOTTED_CODE_PREFIX = re.compile(r"[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{0,4}")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")
_AFTER_WORD_CHARACTERS = "{"  # sorts after every character a word may hold ([a-z0-9]), for prefix ranges
_EXTERNAL_CAUSE_LETTERS = ("V", "W", "X", "Y")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str  # dotted, upper case: "F41.1"
    description: str
    billable: bool  # False for category headers, which a claim cannot carry


@dataclass(frozen=True, slots=True)
class _WordIndex:
    """Sorted vocabulary with, per word, the ids of the codes using it (ascending, so in rank order)."""
    words: list[str]
    postings: list[array]
    cumulative_sizes: array  # cumulative_sizes[i] = total postings of words[:i]; sizes a prefix range in O(1)

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        return bisect_left(self.words, prefix), bisect_left(self.words, prefix + _AFTER_WORD_CHARACTERS)

    def range_size(self, word_range: tuple[int, int]) -> int:
        return self.cumulative_sizes[word_range[1]] - self.cumulative_sizes[word_range[0]]


@dataclass(frozen=True, slots=True)
class _WordIndexGroup:
    first_words: _WordIndex  # only each description's first word
    all_words: _WordIndex


@dataclass(frozen=True, slots=True)
class _Reference:
    entries: tuple[Diagnosis, ...]  # by id; ids follow the word-search rank
    undotted_codes: tuple[str, ...]  # by id
    # Each description's words as " first second …": "does a word start with T" is `" " + T in text`,
    # a substring search in C, so checking a candidate costs far less than walking its words.
    word_text_by_id: tuple[str, ...]
    id_by_undotted_code: dict[str, int]
    codes_by_length: dict[int, tuple[list[str], list[int]]]  # undotted length -> sorted codes and their ids
    # Behavioral-health codes, then the rest; in each, matches on a description's first word rank first.
    word_index_groups: tuple[_WordIndexGroup, ...]


# --- Loading ------------------------------------------------------------------------------------------

_load_lock = threading.Lock()
_log = logging.getLogger(__name__)


def preload(cache_dir: str | os.PathLike | None = None) -> None:
    """Have the reference ready now (at server or worker start) rather than on the first request: loaded from
    the copy in `cache_dir` when there is one for this package version and this code, else built and a copy
    saved there for the next start."""
    with _load_lock:
        if _loaded or _build_reference.cache_info().currsize:  # already here (or in the parent before the fork)
            return
        path = None if cache_dir is None else Path(cache_dir) / _cache_name()
        copy = _load_copy(path) if path else None
        if copy is not None:
            _loaded.append(copy)
            return
        reference = _build_reference()
        if path:
            _save_copy(path, reference)


def _reference() -> _Reference:
    # functools.cache alone would let two threads racing on the first request both build it.
    with _load_lock:
        return _loaded[0] if _loaded else _build_reference()


#: The reference loaded from the cache by preload(), when it was: then nothing is built.
_loaded: list[_Reference] = []


def _cache_name() -> str:
    """The copy's file name: a new package release or any change to this module (how the index is built and
    ranked) names another file, so a stale copy is never read."""
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"icd10cm-{importlib.metadata.version('simple_icd_10_cm')}-{source}.pickle"


def _load_copy(path: Path) -> _Reference | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        with collector_paused():  # a few hundred thousand objects, none in a cycle
            reference = pickle.loads(data)  # noqa: S301 - our own file in the instance folder, like the database
    except Exception:  # a copy cut short or from another Python: built again and saved over  # noqa: BLE001
        _log.warning("diagnosis index copy %s is unreadable; building it again", path)
        return None
    return reference if isinstance(reference, _Reference) else None


def _save_copy(path: Path, reference: _Reference) -> None:
    """Written under a temporary name and renamed, so a process starting meanwhile reads all or nothing; copies
    for other versions are removed. A folder that cannot be written only costs the next start the build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_bytes(pickle.dumps(reference, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, path)
        for old in path.parent.glob("icd10cm-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as error:
        _log.warning("diagnosis index not saved to %s: %s", path, error)


@functools.cache
def _build_reference() -> _Reference:
    with warnings.catch_warnings():  # the package reads its data with deprecated importlib calls
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm  # parses the package's XML on import: deferred to first use

    seen: set[str] = set()
    rows: list[tuple[str, str, str, bool]] = []  # dotted, undotted, description, billable
    for dotted in cm.get_all_codes(with_dots=True):
        # Chapters and blocks are groupings, not codes. A block holding a single category has that
        # category's name (B99): the name is then listed twice and the package resolves it to the code.
        if dotted in seen or not cm.is_category_or_subcategory(dotted):
            continue
        seen.add(dotted)
        rows.append((dotted, dotted.replace(".", ""), cm.get_description(dotted), cm.is_leaf(dotted)))

    rows.sort(key=_rank_key)
    behavioral_health_count = sum(1 for _, undotted, _, _ in rows if _is_behavioral_health(undotted))
    entries = tuple(Diagnosis(dotted, description, billable) for dotted, _, description, billable in rows)
    undotted_codes = tuple(undotted for _, undotted, _, _ in rows)
    words_by_id = tuple(_description_words(description) for _, _, description, _ in rows)

    codes_by_length: dict[int, tuple[list[str], list[int]]] = {}
    for length in sorted({len(code) for code in undotted_codes}):
        pairs = sorted((code, code_id) for code_id, code in enumerate(undotted_codes) if len(code) == length)
        codes_by_length[length] = ([code for code, _ in pairs], [code_id for _, code_id in pairs])

    return _Reference(
        entries=entries,
        undotted_codes=undotted_codes,
        word_text_by_id=tuple("".join(" " + word for word in words) for words in words_by_id),
        id_by_undotted_code={code: code_id for code_id, code in enumerate(undotted_codes)},
        codes_by_length=codes_by_length,
        word_index_groups=tuple(
            _WordIndexGroup(first_words=_word_index((code_id, words_by_id[code_id][:1]) for code_id in ids),
                            all_words=_word_index((code_id, words_by_id[code_id]) for code_id in ids))
            for ids in (range(behavioral_health_count), range(behavioral_health_count, len(rows)))),
    )


def _rank_key(row: tuple[str, str, str, bool]) -> tuple[bool, int, str]:
    """Word-search order: behavioral-health codes first, then shorter (more general) descriptions."""
    _, undotted, description, _ = row
    return not _is_behavioral_health(undotted), len(description), undotted


def _is_behavioral_health(undotted_code: str) -> bool:
    return undotted_code.startswith(_BEHAVIORAL_HEALTH_PREFIXES)


def _word_index(words_of_codes: Iterable[tuple[int, Sequence[str]]]) -> _WordIndex:
    ids_by_word: dict[str, array] = {}
    for code_id, words in words_of_codes:
        for word in set(words):
            ids_by_word.setdefault(word, array("I")).append(code_id)  # ids arrive ascending
    words = sorted(ids_by_word)
    postings = [ids_by_word[word] for word in words]
    cumulative_sizes = array("Q", [0])
    for ids in postings:
        cumulative_sizes.append(cumulative_sizes[-1] + len(ids))
    return _WordIndex(words, postings, cumulative_sizes)


def _fold(text: str) -> str:
    """Lower case without accents or apostrophes: "Sézary" -> "sezary", "Alzheimer's" -> "alzheimers"."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    if text.isascii():  # nearly every description: skip the costly decomposition
        return text
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def _split_words(text: str) -> list[str]:
    return [word for word in _WORD_SPLIT.split(_fold(text)) if word]


def _description_words(description: str) -> tuple[str, ...]:
    words = _split_words(description)
    if "-" in description:
        # "Post-traumatic" is indexed as "post", "traumatic" and "posttraumatic", however it is typed.
        words += [_fold(compound).replace("-", "") for compound in _HYPHENATED.findall(description)]
    # Interned: the same few thousand words recur across 98,000 descriptions.
    return tuple(sys.intern(word) for word in dict.fromkeys(words))


# --- Codes --------------------------------------------------------------------------------------------

def _undotted(code: str) -> str | None:
    """The upper-case code without its dot, or None when the text can't be (a prefix of) a code."""
    text = (code or "").strip().upper()
    if "." in text:
        return text.replace(".", "") if _DOTTED_CODE_PREFIX.fullmatch(text) else None
    return text if _UNDOTTED_CODE_PREFIX.fullmatch(text) else None


def lookup(code: str) -> Diagnosis | None:
    """The code with its description and billability, or None when it is not an ICD-10-CM code."""
    undotted = _undotted(code)
    if undotted is None:
        return None
    reference = _reference()
    code_id = reference.id_by_undotted_code.get(undotted)
    return None if code_id is None else reference.entries[code_id]


def normalize(code: str) -> str | None:
    """The dotted upper-case code ("f329" -> "F32.9"), or None when it is not an ICD-10-CM code."""
    diagnosis = lookup(code)
    return None if diagnosis is None else diagnosis.code


def is_billable(code: str) -> bool:
    """True for a code a claim can carry: an ICD-10-CM code with no more specific codes under it."""
    diagnosis = lookup(code)
    return diagnosis is not None and diagnosis.billable


def describe(code: str) -> str | None:
    """The code's official description, or None when it is not an ICD-10-CM code."""
    diagnosis = lookup(code)
    return None if diagnosis is None else diagnosis.description


def billable_codes_under(code: str) -> list[str]:
    """The billable codes a category header stands for, in code order ([] for a billable or unknown code)."""
    header = lookup(code)
    if header is None or header.billable:
        return []
    reference = _reference()
    # The hierarchy is in the code itself: every descendant's code starts with its ancestor's.
    under = [reference.entries[code_id] for code_id in
             _code_prefix_matches(reference, header.code.replace(".", ""))]
    return sorted((entry.code for entry in under if entry.billable), key=lambda dotted: dotted.replace(".", ""))


# --- Search -------------------------------------------------------------------------------------------

def search(query: str, limit: int = DEFAULT_LIMIT) -> list[Diagnosis]:
    """Codes for the autocomplete: code-prefix matches, then description-word matches.

    A query shaped like a code ("F41", "f411", "F41.1") lists the codes starting with it, shorter (more
    general) codes first, then in code order. Otherwise, and after those, every query word must start a
    word of the description ("gener anx" finds F41.1 Generalized anxiety disorder): descriptions whose
    first word matches come first, and within each group behavioral-health codes, then shorter
    descriptions. Category headers stay in the results, marked billable=False.
    """
    if limit <= 0:
        return []
    reference = _reference()
    found: dict[int, None] = {}  # ids in result order, without repeats
    for code_id in _ranked_matches(reference, query):  # lazy: stops walking postings at the limit
        found.setdefault(code_id)
        if len(found) >= limit:
            break
    return [reference.entries[code_id] for code_id in found]


def _ranked_matches(reference: _Reference, query: str) -> Iterator[int]:
    """Every match in result order; a code may come more than once."""
    undotted = _undotted(query)
    if undotted:
        yield from _code_prefix_matches(reference, undotted)
    terms = _split_words(query)
    expanded = [word for term in terms for word in _ABBREVIATIONS.get(term, (term,))]
    # An abbreviation typed in full ("ptsd") most likely means the condition: its words go first.
    for words in filter(None, [expanded, terms] if expanded != terms else [terms]):
        for group in reference.word_index_groups:
            yield from _word_matches(reference, group, words, first_word_only=True)
            yield from _word_matches(reference, group, words, first_word_only=False)


def _code_prefix_matches(reference: _Reference, undotted_prefix: str) -> Iterator[int]:
    for length in sorted(reference.codes_by_length):
        if length >= len(undotted_prefix):
            codes, ids = reference.codes_by_length[length]
            position = bisect_left(codes, undotted_prefix)
            while position < len(codes) and codes[position].startswith(undotted_prefix):
                yield ids[position]
                position += 1


def _word_matches(reference: _Reference, group: _WordIndexGroup, terms: list[str], *,
                  first_word_only: bool) -> Iterator[int]:
    """Ids, in rank order, of codes where every term starts a description word (the first term starting
    the description's first word, with first_word_only).

    Walks only the postings of the most selective term, merged in rank order, and checks the other terms
    against each candidate's own words, so a query stops as soon as the caller has enough.
    """
    ranges: list[tuple[_WordIndex, tuple[int, int]]] = []
    for position, term in enumerate(terms):
        index = group.first_words if first_word_only and position == 0 else group.all_words
        word_range = index.prefix_range(term)
        if word_range[0] == word_range[1]:
            return
        ranges.append((index, word_range))

    sizes = [index.range_size(word_range) for index, word_range in ranges]
    driver = sizes.index(min(sizes))
    index, (first, last) = ranges[driver]
    needles = [" " + term for position, term in enumerate(terms) if position != driver]
    first_word_needle = " " + terms[0] if first_word_only and driver != 0 else None

    postings = index.postings[first:last]
    candidates = postings[0] if len(postings) == 1 else heapq.merge(*postings)
    texts = reference.word_text_by_id
    previous = -1
    for code_id in candidates:
        if code_id == previous:  # a code with two words in the range arrives twice from the merge
            continue
        previous = code_id
        text = texts[code_id]
        if first_word_needle is not None and not text.startswith(first_word_needle):
            continue
        for needle in needles:
            if needle not in text:
                break
        else:
            yield code_id


# --- Claims -------------------------------------------------------------------------------------------

def validate_for_claim(codes: Sequence[str], date_of_service: date | None = None) -> list[str]:
    """Problems, in plain words, that stop these diagnoses (in claim order) from going on a claim.

    Checks: at least one and at most 12 codes, no code twice, every code in ICD-10-CM and billable, and
    no external-cause code (V00–Y99) first, since those only add detail to another diagnosis.

    Validity by date is limited to the one release the package ships (RELEASE_NAME, for services from
    RELEASE_FIRST_DAY through RELEASE_LAST_DAY). It cannot tell codes added in a mid-year update from the
    October ones, and it has no earlier or later release: for a date of service outside that year a code
    is still checked against this release, and a problem found says so, because the release in force on
    that date may differ. Nothing is claimed about other releases.
    """
    problems: list[str] = []
    if not codes:
        return ["A claim needs at least one diagnosis."]
    if len(codes) > MAX_DIAGNOSES_PER_CLAIM:
        problems.append(f"A claim carries at most {MAX_DIAGNOSES_PER_CLAIM} diagnoses; "
                        f"this one has {len(codes)}.")

    outside_release = date_of_service is not None and not (
        RELEASE_FIRST_DAY <= date_of_service <= RELEASE_LAST_DAY)
    # Only when the answer may differ in the release for that date: a code that passes is not flagged.
    release_caveat = (f" (Parity only has the {RELEASE_NAME}, for services from {_spoken(RELEASE_FIRST_DAY)}"
                      f" through {_spoken(RELEASE_LAST_DAY)}, and can't check the one in force on "
                      f"{_spoken(date_of_service)})" if outside_release else "")

    seen: set[str] = set()
    for position, raw in enumerate(codes, start=1):
        typed = (raw or "").strip()
        if not typed:
            problems.append(f"Diagnosis {position} is blank.")
            continue
        diagnosis = lookup(typed)
        if diagnosis is None:
            problems.append(f"{typed} is not an ICD-10-CM code{release_caveat}.")
            continue
        if diagnosis.code in seen:
            problems.append(f"{diagnosis.code} is listed more than once.")
            continue
        seen.add(diagnosis.code)
        if not diagnosis.billable:
            problems.append(_category_problem(diagnosis) + release_caveat + ".")
        if position == 1 and diagnosis.code.startswith(_EXTERNAL_CAUSE_LETTERS):
            problems.append(f"{diagnosis.code} describes an external cause and can't be the first "
                            f"diagnosis: list the condition it explains first.")
    return problems


def _spoken(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _category_problem(header: Diagnosis) -> str:
    choices = billable_codes_under(header.code)
    if not choices:  # every header has billable codes under it; kept so the message never breaks
        return f"{header.code} is a category, not a billable code"
    examples = choices[:3]
    listed = examples[0] if len(examples) == 1 else ", ".join(examples[:-1]) + " or " + examples[-1]
    more = f" ({len(choices)} codes in all)" if len(choices) > len(examples) else ""
    return (f"{header.code} is a category, not a billable code: pick a more specific code "
            f"such as {listed}{more}")


# --- Codes in use -------------------------------------------------------------------------------------

#: The records that store diagnoses, in the order a report lists them.
RECORD_KINDS = ("draft notes", "signed notes", "addenda", "claims")
_ROWS_PER_FETCH = 2000


@dataclass(frozen=True, slots=True)
class UnbillableCodeInUse:
    """A stored diagnosis code that the installed code set does not accept on a claim, and its users."""
    practice_id: int
    code: str  # as stored
    problem: str  # in plain words: unknown to this release, or a category
    records_by_kind: dict[str, int]  # kind (RECORD_KINDS) -> how many records of that kind carry the code


def unbillable_codes_in_use(session: Session) -> list[UnbillableCodeInUse]:
    """Every diagnosis code stored in notes, addenda and claims that is not billable in the installed code
    set, by practice then code, with how many records of each kind carry it.

    Run after moving to a new fiscal year's code set: a code that year deleted, or split into more specific
    codes, shows up here. Records of past years are included, since a claim for them may still be sent.
    """
    counts: dict[tuple[int, str], Counter[str]] = {}
    for practice_id, kind, codes in _stored_diagnoses(session):
        for code in {code.strip() for code in codes if code and code.strip()}:  # a record counts once
            if not is_billable(code):
                counts.setdefault((practice_id, code), Counter())[kind] += 1
    return [UnbillableCodeInUse(practice_id, code, _unbillable_problem(code),
                                {kind: by_kind[kind] for kind in RECORD_KINDS if by_kind[kind]})
            for (practice_id, code), by_kind in sorted(counts.items())]


def _stored_diagnoses(session: Session) -> Iterator[tuple[int, str, list[str]]]:
    """(practice id, record kind, codes) for every record that stores diagnoses."""
    notes = select(SessionNote.practice_id, SessionNote.signed_at, SessionNote.diagnosis_codes,
                   SessionNote.signed_diagnoses)
    for practice_id, signed_at, draft_codes, signed_diagnoses in _stream(session, notes):
        # Once signed, the note's signed diagnoses are what claims and superbills use.
        if signed_at is None:
            yield practice_id, "draft notes", draft_codes or []
        else:
            yield practice_id, "signed notes", [entry["code"] for entry in signed_diagnoses or []]
    for practice_id, codes in _stream(session, select(NoteAddendum.practice_id, NoteAddendum.diagnosis_codes)):
        yield practice_id, "addenda", codes or []
    # Only the diagnoses out of each snapshot, not the whole document.
    for practice_id, codes in _stream(session, select(Claim.practice_id, Claim.snapshot["diagnoses"])):
        yield practice_id, "claims", codes or []


def _stream(session: Session, statement) -> Iterable[tuple]:
    """The statement's rows, fetched a batch at a time rather than all into memory."""
    return session.execute(statement.execution_options(yield_per=_ROWS_PER_FETCH))


def _unbillable_problem(code: str) -> str:
    diagnosis = lookup(code)
    if diagnosis is None:
        return f"{code} is not in the {RELEASE_NAME}"
    return _category_problem(diagnosis)
