"""ICD-10-CM reference, search and claim checks (the FY2026 release the simple-icd-10-cm package ships)."""
import re
import subprocess
import sys
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from app.billing import diagnoses
from app.billing.diagnoses import Diagnosis


def codes(results: list[Diagnosis]) -> list[str]:
    return [result.code for result in results]


def test_is_the_installed_code_set_of_the_fiscal_year_parity_names():
    # The package names its data after the CDC release ("icd10c-tabular-April-1-2026.xml"); the federal
    # fiscal year starts on October 1, so an October release belongs to the next year. Bumping the pin
    # without CODE_SET_FISCAL_YEAR (or the other way round) fails here.
    tabular = next(path.name for path in metadata.files("simple-icd-10-cm")
                   if "tabular" in path.name and path.suffix == ".xml")
    month, year = re.search(r"(January|April|October)\D.*?(\d{4})", tabular).groups()
    assert int(year) + (month == "October") == diagnoses.CODE_SET_FISCAL_YEAR


# --- Billable or not ---------------------------------------------------------------------------------

def test_is_f43_8_a_category_header_that_is_not_billable():
    assert diagnoses.normalize("F43.8") == "F43.8"
    assert not diagnoses.is_billable("F43.8")
    assert diagnoses.billable_codes_under("F43.8") == ["F43.81", "F43.89"]


def test_is_f32_a_billable_even_though_it_ends_in_a_letter():
    assert diagnoses.is_billable("F32.A")
    assert diagnoses.is_billable("f32a")
    assert diagnoses.describe("F32.A") == "Depression, unspecified"


def test_does_a_code_needing_a_seventh_character_count_as_a_category():
    assert not diagnoses.is_billable("T74.11")
    assert diagnoses.is_billable("T74.11XA")


@pytest.mark.parametrize("pseudo_code", ["F40-F48", "5", "A00-B99"])
def test_are_chapters_and_blocks_not_codes(pseudo_code):
    assert diagnoses.normalize(pseudo_code) is None
    assert diagnoses.describe(pseudo_code) is None
    assert not diagnoses.is_billable(pseudo_code)


def test_is_a_made_up_code_unknown():
    assert diagnoses.lookup("Z99.9X") is None
    assert not diagnoses.is_billable("Z99.9X")
    assert diagnoses.describe("Z99.9X") is None


# --- Normalizing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, normalized", [
    ("f329", "F32.9"),
    ("F32.9", "F32.9"),
    ("F32.A", "F32.A"),
    ("f32a", "F32.A"),
    ("  F41.1 ", "F41.1"),
    ("T7411XA", "T74.11XA"),
    ("F41", "F41"),
    ("F41.", "F41"),
    ("B99", "B99"),  # a block with a single category shares its name: the code wins
    ("F4.11", None),  # the dot belongs after the third character
    ("F41.1.", None),
    ("F32.Z", None),
    ("Z99.9X", None),
    ("", None),
    ("anxiety", None),
])
def test_does_normalize_give_the_dotted_upper_case_code(typed, normalized):
    assert diagnoses.normalize(typed) == normalized


# --- Search ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["F411", "F41.1", "f41.1", "gener anx", "generalized anxiety"])
def test_is_f41_1_the_first_result_for_its_code_or_words(query):
    assert diagnoses.search(query)[0] == Diagnosis("F41.1", "Generalized anxiety disorder", True)


def test_does_a_category_code_list_itself_then_its_codes_shortest_first():
    results = diagnoses.search("F41")
    assert codes(results) == ["F41", "F41.0", "F41.1", "F41.3", "F41.8", "F41.9"]
    assert [result.billable for result in results] == [False, True, True, True, True, True]


def test_are_shorter_codes_listed_before_longer_ones_for_a_code_prefix():
    lengths = [len(code) for code in codes(diagnoses.search("F43", limit=50))]
    assert lengths == sorted(lengths) and lengths[0] == 3


def test_does_search_keep_category_headers_marked_not_billable():
    results = diagnoses.search("adjustment disorder")
    assert Diagnosis("F43.2", "Adjustment disorders", False) in results
    assert Diagnosis("F43.21", "Adjustment disorder with depressed mood", True) in results


def test_does_ptsd_find_the_post_traumatic_stress_codes_first():
    assert set(codes(diagnoses.search("ptsd")[:4])) == {"F43.1", "F43.10", "F43.11", "F43.12"}
    assert set(codes(diagnoses.search("post trauma")[:4])) == {"F43.1", "F43.10", "F43.11", "F43.12"}


def test_do_partial_words_find_mental_health_codes_first():
    assert codes(diagnoses.search("depr")[:2]) == ["F32", "F32.A"]
    assert all(code.startswith("F43.2") for code in codes(diagnoses.search("adjustment dis")[:6]))


def test_does_a_description_starting_with_the_first_word_rank_ahead():
    # Both contain "other" and "insomnia"; only F51.09 starts with the first word typed.
    assert codes(diagnoses.search("other insomnia")[:2]) == ["F51.09", "F51.05"]
    assert codes(diagnoses.search("insomnia other")[:2]) == ["F51.05", "F51.09"]


def test_must_every_query_word_match():
    assert all("anxiety" in result.description.lower() and "adjustment" in result.description.lower()
               for result in diagnoses.search("adjust anx"))
    assert diagnoses.search("anxiety xyzzy") == []


def test_does_search_ignore_accents_and_hyphens():
    assert "C84.1" in codes(diagnoses.search("sezary"))
    assert "F43.10" in codes(diagnoses.search("posttraumatic stress"))


@pytest.mark.parametrize("limit", [1, 5, 20])
def test_does_search_return_no_more_than_the_limit(limit):
    assert len(diagnoses.search("disorder", limit=limit)) == limit
    assert len(diagnoses.search("F", limit=limit)) == limit


def test_does_a_zero_limit_or_an_empty_query_return_nothing():
    assert diagnoses.search("anxiety", limit=0) == []
    assert diagnoses.search("   ") == []


def test_does_search_never_return_chapters_or_blocks():
    # "Anxiety, dissociative, stress-related … (F40-F48)" is a block's description.
    for query in ["anxiety dissociative stress", "certain infectious parasitic", "1", "F40-F48"]:
        for result in diagnoses.search(query, limit=50):
            assert diagnoses.normalize(result.code) == result.code, (query, result)


def test_is_a_query_matching_nothing_empty():
    assert diagnoses.search("xyzzy") == []
    assert diagnoses.search("Z99.9X") == []


# --- Claims ------------------------------------------------------------------------------------------

def test_do_billable_codes_pass_in_any_spelling():
    assert diagnoses.validate_for_claim(["F41.1", "f32a", "Z63.0", "T74.11XA"]) == []


def test_does_a_category_get_a_message_naming_specific_codes():
    assert diagnoses.validate_for_claim(["F43.8"]) == [
        "F43.8 is a category, not a billable code: pick a more specific code such as F43.81 or F43.89."]


def test_does_a_large_category_say_how_many_codes_it_holds():
    assert diagnoses.validate_for_claim(["F32"]) == [
        "F32 is a category, not a billable code: pick a more specific code such as F32.0, F32.1 or F32.2 "
        "(10 codes in all)."]


def test_is_an_unknown_code_named_as_typed():
    assert diagnoses.validate_for_claim(["F41.1", "Z99.9X"]) == ["Z99.9X is not an ICD-10-CM code."]


def test_is_a_code_listed_twice_reported_once():
    assert diagnoses.validate_for_claim(["F41.1", "f411", "F32.A"]) == ["F41.1 is listed more than once."]


def test_may_a_claim_carry_at_most_twelve_diagnoses():
    thirteen = diagnoses.billable_codes_under("F32") + ["F41.0", "F41.1", "F41.3"]
    assert len(thirteen) == 13
    assert diagnoses.validate_for_claim(thirteen[:12]) == []
    assert diagnoses.validate_for_claim(thirteen) == ["A claim carries at most 12 diagnoses; this one has 13."]


def test_does_a_claim_need_a_diagnosis():
    assert diagnoses.validate_for_claim([]) == ["A claim needs at least one diagnosis."]
    assert diagnoses.validate_for_claim(["F41.1", " "]) == ["Diagnosis 2 is blank."]


def test_can_an_external_cause_code_come_first():
    assert diagnoses.validate_for_claim(["T74.11XA", "Y07.010"]) == []
    assert diagnoses.validate_for_claim(["Y07.010", "T74.11XA"]) == [
        "Y07.010 describes an external cause and can't be the first diagnosis: "
        "list the condition it explains first."]


def test_does_a_date_inside_the_release_change_nothing():
    assert diagnoses.validate_for_claim(["F41.1"], date_of_service=date(2026, 4, 1)) == []
    assert diagnoses.validate_for_claim(["F43.8"], date_of_service=date(2025, 10, 1)) == \
        diagnoses.validate_for_claim(["F43.8"])


def test_does_a_problem_before_the_release_say_the_older_code_set_was_not_checked():
    problems = diagnoses.validate_for_claim(["F43.8", "Z99.9X"], date_of_service=date(2025, 9, 30))
    assert len(problems) == 2
    assert all("can't check the one in force on September 30, 2025" in problem for problem in problems)


def test_is_a_valid_code_before_the_release_passed_without_pretending_to_check():
    assert diagnoses.validate_for_claim(["F41.1"], date_of_service=date(2024, 3, 1)) == []


# --- The index built once, then loaded ----------------------------------------------------------------

_PROCESS = """
import sys
from app.billing import diagnoses
diagnoses.preload(sys.argv[1])
print("loaded" if diagnoses._loaded else "built", diagnoses.search("gener anx")[0].code)
"""


def _start(cache_dir) -> list[str]:
    """A fresh process's preload into `cache_dir`: how it got the index, and its first answer."""
    done = subprocess.run([sys.executable, "-c", _PROCESS, str(cache_dir)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=True)
    return done.stdout.split()


def test_does_a_second_start_load_the_index_the_first_one_built(tmp_path):
    assert _start(tmp_path) == ["built", "F41.1"]
    [copy] = tmp_path.glob("icd10cm-*.pickle")
    assert metadata.version("simple_icd_10_cm") in copy.name
    assert _start(tmp_path) == ["loaded", "F41.1"]


def test_is_a_damaged_or_stale_copy_built_again_and_replaced(tmp_path):
    assert _start(tmp_path) == ["built", "F41.1"]
    [copy] = tmp_path.glob("icd10cm-*.pickle")
    copy.write_bytes(copy.read_bytes()[:1000])  # cut short, as by a full disk
    stale = tmp_path / "icd10cm-0.0.1-0000000000000000.pickle"
    stale.write_bytes(b"from an earlier release")
    assert _start(tmp_path) == ["built", "F41.1"]
    assert list(tmp_path.glob("icd10cm-*.pickle")) == [copy] and copy.stat().st_size > 1_000_000
    assert _start(tmp_path) == ["loaded", "F41.1"]
