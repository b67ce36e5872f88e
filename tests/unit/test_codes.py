"""The procedure code reference (app/billing/codes.py) against shared/domain.md's time rules."""
import json
import math
import timeit
from dataclasses import dataclass
from importlib import resources

import pytest

from app.billing import codes
from app.billing.codes import Rounding

PSYCHOTHERAPY = ["90832", "90834", "90837"]
PSYCHOTHERAPY_WITH_EM = ["90833", "90836", "90838"]
EM_CODES = (["99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215", "99221", "99222",
             "99223", "99231", "99232", "99233", "99234", "99235", "99236", "99238", "99239", "99242", "99243",
             "99244", "99245", "99252", "99253", "99254", "99255"] + [str(code) for code in range(99304, 99311)]
            + ["99315", "99316", "99341", "99342", "99344", "99345", "99347", "99348", "99349", "99350"])
REQUIRED = (["90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90785", "90839", "90840",
             "90846", "90847", "90849", "90853", "96127", "96130", "96131", "96132", "96133", "96136", "96137",
             "96138", "96139", "H0001", "H0004", "H0005", "H0031", "H0032", "H0035", "H2011", "H2014", "H2017",
             "H2019"] + [str(code) for code in range(97151, 97159)] + EM_CODES)
FIFTEEN_MINUTE = [str(code) for code in range(97151, 97159)] + ["H0004", "H0031", "H2011", "H2014", "H2017", "H2019"]
DOMAIN_MEDICARE_CENTS = {"90791": 17335, "90832": 8584, "90834": 11390, "90837": 16700}
ENTRY_KEYS = {"code", "kind", "name", "description", "family", "time_rule", "min_minutes", "max_minutes",
              "unit_minutes", "unit_rule", "addon_parents", "never_with", "once_per_day", "under_minimum_bill",
              "medicare_nonfacility"}


def raw_entries() -> list[dict]:
    """The JSON file as shipped, read independently of the module under test."""
    text = resources.files("app").joinpath("data/procedure_codes.json").read_text(encoding="utf-8")
    return json.loads(text)["codes"]


# ---------------------------------------------------------------- the data file


def test_every_code_in_domain_md_is_in_the_reference():
    assert sorted(set(REQUIRED) - {entry["code"] for entry in raw_entries()}) == []


@pytest.mark.parametrize("deleted", ["99201", "99241", "99251", "99217", "99318", "99324", "99343", "90835"])
def test_codes_deleted_before_2026_are_not_offered(deleted):
    assert codes.get(deleted) is None


def test_every_entry_has_exactly_the_documented_fields():
    for entry in raw_entries():
        assert set(entry) == ENTRY_KEYS, entry["code"]


def test_every_entry_has_a_valid_code_kind_and_rules():
    for entry in raw_entries():
        code = entry["code"]
        assert codes.is_valid_code_format(code), code
        assert entry["kind"] == ("HCPCS" if code[0].isalpha() else "CPT"), code
        assert entry["time_rule"] in {"untimed", "band", "units", "fifteen_minute_units"}, code
        assert entry["unit_rule"] in {rule.value for rule in codes.UnitRule}, code
        assert isinstance(entry["once_per_day"], bool), code
        assert entry["family"] and entry["family"] == entry["family"].strip(), code
        if entry["time_rule"] == "untimed":
            assert entry["min_minutes"] is entry["max_minutes"] is entry["unit_minutes"] is None, code
        if entry["time_rule"] in {"band", "units"}:
            assert entry["min_minutes"] > 0, code
        if entry["max_minutes"] is not None:
            assert entry["max_minutes"] > entry["min_minutes"], code


def test_every_description_is_our_own_plain_sentence():
    descriptions = [entry["description"] for entry in raw_entries()]
    for entry in raw_entries():
        text = entry["description"]
        assert len(text) >= 40 and text.endswith("."), entry["code"]
        assert text != entry["name"] and entry["name"].strip(), entry["code"]
        assert "and/or" not in text, entry["code"]  # a hallmark of the licensed descriptor style
    assert len(set(descriptions)) == len(descriptions)


def test_every_timed_description_states_its_starting_minutes():
    for entry in raw_entries():
        if entry["time_rule"] in {"band", "units"}:
            assert str(entry["min_minutes"]) in entry["description"], entry["code"]


def test_every_referenced_code_exists():
    known = {entry["code"] for entry in raw_entries()}
    for entry in raw_entries():
        assert set(entry["addon_parents"] + entry["never_with"] + entry["under_minimum_bill"]) <= known, entry["code"]


def test_unit_rules_agree_with_time_rules():
    for entry in raw_entries():
        per_time = {"per_15_minutes": 15, "per_30_minutes": 30, "per_hour": 60}.get(entry["unit_rule"])
        assert entry["unit_minutes"] == per_time, entry["code"]
        assert (entry["time_rule"] == "fifteen_minute_units") == (per_time == 15), entry["code"]


def test_em_codes_are_untimed_cpt_evaluation_and_management():
    for code in EM_CODES:
        entry = codes.get(code)
        assert (entry.kind, entry.family, entry.time_rule) == ("CPT", "evaluation and management", "untimed")
        assert codes.units_for(code, 40) == 1


@pytest.mark.parametrize("addon", PSYCHOTHERAPY_WITH_EM)
def test_psychotherapy_with_em_attaches_to_exactly_the_em_codes(addon):
    assert codes.parents(addon) == tuple(sorted(EM_CODES))


def test_medicare_amounts_are_the_ones_domain_md_gives_and_no_others():
    amounts = {entry["code"]: entry["medicare_nonfacility"] for entry in raw_entries() if entry["medicare_nonfacility"]}
    assert {code: amount["cents"] for code, amount in amounts.items()} == DOMAIN_MEDICARE_CENTS
    for amount in amounts.values():
        assert amount["year"] == 2026 and "33.4009" in amount["source"]


def test_medicare_amount_reads_as_a_price_and_is_blank_when_unknown():
    assert codes.reference_price_text("90834") == "113.90"
    assert codes.get("90791").medicare_nonfacility.cents == 17335
    assert codes.reference_price_text("90847") == "" and codes.get("90847").medicare_nonfacility is None


def test_all_codes_is_ordered_by_code_and_loaded_once():
    listed = [entry.code for entry in codes.all_codes()]
    assert listed == sorted(listed) and len(listed) == len(set(listed))
    assert codes.all_codes() is codes.all_codes()


def test_hcpcs_codes_are_marked_hcpcs():
    assert codes.get("H2019").kind == codes.CodeKind.HCPCS and codes.get("90834").kind == codes.CodeKind.CPT


# ---------------------------------------------------------------- code format


@pytest.mark.parametrize("code, ok", [("90834", True), ("0362T", True), ("1234F", True), ("0001U", True),
                                      ("H0004", True), ("T1017", True), ("9083", False), ("908345", False),
                                      ("ABCDE", False), ("H004", False), ("9083X", False), ("h0004", False),
                                      (" 90834", False), ("", False), (None, False)])
def test_code_format_is_cpt_or_hcpcs(code, ok):
    assert codes.is_valid_code_format(code) is ok


def test_normalize_code_trims_and_upper_cases():
    assert codes.normalize_code("  h0004 ") == "H0004" and codes.normalize_code(None) == ""
    assert codes.is_valid_code_format(codes.normalize_code(" 0362t"))


def test_get_accepts_what_a_person_types():
    assert codes.get(" h2019").code == "H2019" and codes.get("99999") is None


# ---------------------------------------------------------------- psychotherapy bands


@pytest.mark.parametrize("minutes, plain, with_em", [(0, None, None), (15, None, None), (16, "90832", "90833"),
                                                     (37, "90832", "90833"), (38, "90834", "90836"),
                                                     (52, "90834", "90836"), (53, "90837", "90838"),
                                                     (180, "90837", "90838")])
def test_which_psychotherapy_code_fits_the_minutes(minutes, plain, with_em):
    assert codes.code_for_minutes("psychotherapy", minutes) == plain
    assert codes.code_for_minutes("psychotherapy with an E/M visit", minutes) == with_em
    assert codes.code_for_minutes("90834", minutes) == plain  # a code stands for its family
    assert codes.code_for_minutes("90836", minutes) == with_em


@pytest.mark.parametrize("code, minutes, ok", [
    ("90832", 15, False), ("90832", 16, True), ("90832", 37, True), ("90832", 38, True), ("90832", 53, True),
    ("90834", 15, False), ("90834", 37, False), ("90834", 38, True), ("90834", 52, True), ("90834", 53, True),
    ("90837", 37, False), ("90837", 52, False), ("90837", 53, True), ("90837", 54, True),
    ("90833", 15, False), ("90833", 16, True), ("90836", 37, False), ("90836", 38, True),
    ("90838", 52, False), ("90838", 53, True)])
def test_psychotherapy_boundaries(code, minutes, ok):
    result = codes.fits(code, minutes)
    assert (result.ok, result.units) == (ok, 1 if ok else 0)


def test_90834_fits_45_minutes():
    result = codes.fits("90834", 45)
    assert result.ok and result.message == "90834 fits 45 minutes." and result.best_code == "90834"
    assert not result.lower_code


def test_90837_does_not_fit_45_minutes_and_names_90834():
    result = codes.fits("90837", 45)
    assert not result.ok and result.message == "45 minutes is 90834, not 90837." and result.best_code == "90834"


def test_90834_does_not_fit_37_minutes_and_names_90832():
    result = codes.fits("90834", 37)
    assert not result.ok and result.message == "37 minutes is 90832, not 90834."


def test_90834_at_53_minutes_is_allowed_as_a_lower_code_but_points_to_90837():
    result = codes.fits("90834", 53)
    assert result.ok and result.lower_code and result.best_code == "90837"
    assert "53 minutes would support 90837" in result.message


def test_90834_at_60_minutes_is_allowed_and_says_60_minutes_would_support_90837():
    result = codes.fits("90834", 60)
    assert result.ok and result.units == 1 and "60 minutes would support 90837" in result.message


def test_90833_at_45_minutes_points_to_90836_not_90834():
    result = codes.fits("90833", 45)
    assert result.ok and result.best_code == "90836"


def test_12_minutes_is_too_short_to_bill_psychotherapy():
    result = codes.fits("90834", 12)
    assert not result.ok and result.best_code is None
    assert result.message == "12 minutes is too short to bill psychotherapy (16 minutes minimum)."


# ---------------------------------------------------------------- crisis


@pytest.mark.parametrize("minutes, ok", [(29, False), (30, True), (74, True), (75, True), (200, True)])
def test_90839_needs_30_minutes(minutes, ok):
    assert codes.fits("90839", minutes).ok is ok


@pytest.mark.parametrize("minutes, units", [(29, 0), (74, 0), (75, 1), (104, 1), (105, 2), (134, 2), (135, 3)])
def test_90840_units_follow_the_crisis_formula(minutes, units):
    assert codes.units_for("90840", minutes) == units
    assert codes.fits("90839", minutes).addon_units == (units if minutes >= 30 else 0)


def test_crisis_under_30_minutes_bills_90832_or_90833():
    result = codes.fits("90839", 25)
    assert not result.ok and result.best_code == "90832"
    assert "bill 90832 or 90833 instead" in result.message
    assert codes.code_for_minutes("crisis psychotherapy", 25) == "90832"


def test_crisis_under_16_minutes_bills_nothing():
    assert codes.fits("90839", 15).best_code is None and codes.code_for_minutes("90839", 15) is None


def test_90839_at_100_minutes_adds_one_unit_of_90840():
    result = codes.fits("90839", 100)
    assert (result.ok, result.units, result.addon, result.addon_units) == (True, 1, "90840", 1)
    assert "90840 × 1" in result.message


def test_90840_alone_under_75_minutes_points_back_to_90839():
    result = codes.fits("90840", 60)
    assert not result.ok and result.best_code == "90839" and "90839 alone covers 60 minutes" in result.message


def test_90839_is_once_a_day_and_others_are_not():
    assert codes.get("90839").once_per_day
    assert [entry.code for entry in codes.all_codes() if entry.once_per_day] == ["90839"]


# ---------------------------------------------------------------- family therapy


@pytest.mark.parametrize("code", ["90846", "90847"])
@pytest.mark.parametrize("minutes, ok", [(25, False), (26, True), (27, True), (90, True)])
def test_family_therapy_needs_26_minutes(code, minutes, ok):
    result = codes.fits(code, minutes)
    assert result.ok is ok and result.lower_code is False
    assert codes.code_for_minutes(code, minutes) == (code if ok else None)


def test_family_therapy_family_alone_cannot_choose_between_with_and_without_the_client():
    assert codes.code_for_minutes("family psychotherapy", 40) is None


# ---------------------------------------------------------------- testing: hours and 30-minute units


def domain_hour_units(minutes: int) -> int:
    return 0 if minutes < 31 else 1 + (minutes - 31) // 60


def domain_thirty_minute_units(minutes: int) -> int:
    return 0 if minutes < 16 else 1 + (minutes - 16) // 30


@pytest.mark.parametrize("base, addon", [("96130", "96131"), ("96132", "96133")])
@pytest.mark.parametrize("minutes, base_units, addon_units", [(30, 0, 0), (31, 1, 0), (90, 1, 0), (91, 1, 1),
                                                              (150, 1, 1), (151, 1, 2)])
def test_hour_based_testing_puts_the_first_hour_on_the_base_code(base, addon, minutes, base_units, addon_units):
    assert (codes.units_for(base, minutes), codes.units_for(addon, minutes)) == (base_units, addon_units)


@pytest.mark.parametrize("base, addon", [("96136", "96137"), ("96138", "96139")])
@pytest.mark.parametrize("minutes, base_units, addon_units", [(15, 0, 0), (16, 1, 0), (45, 1, 0), (46, 1, 1),
                                                              (75, 1, 1), (76, 1, 2)])
def test_thirty_minute_testing_puts_the_first_half_hour_on_the_base_code(base, addon, minutes, base_units,
                                                                          addon_units):
    assert (codes.units_for(base, minutes), codes.units_for(addon, minutes)) == (base_units, addon_units)


@pytest.mark.parametrize("base, addon, formula", [("96130", "96131", domain_hour_units),
                                                  ("96132", "96133", domain_hour_units),
                                                  ("96136", "96137", domain_thirty_minute_units),
                                                  ("96138", "96139", domain_thirty_minute_units)])
def test_base_and_addon_units_add_up_to_domain_md_formula_at_every_minute(base, addon, formula):
    for minutes in range(0, 500):
        total = codes.units_for(base, minutes) + codes.units_for(addon, minutes)
        assert total == formula(minutes), minutes
        assert codes.fits(base, minutes).addon_units == codes.units_for(addon, minutes), minutes


def test_96130_at_120_minutes_names_96131_for_the_second_hour():
    result = codes.fits("96130", 120)
    assert result.ok and (result.addon, result.addon_units) == ("96131", 1) and "96131 × 1" in result.message


def test_96131_alone_in_the_first_hour_does_not_fit():
    result = codes.fits("96131", 60)
    assert not result.ok and result.best_code == "96130" and "starts at 91 minutes" in result.message


def test_testing_family_code_is_the_base_code():
    assert codes.code_for_minutes("psychological testing evaluation", 120) == "96130"
    assert codes.code_for_minutes("96137", 50) == "96136"
    assert codes.code_for_minutes("96139", 10) is None


# ---------------------------------------------------------------- 15-minute units


@pytest.mark.parametrize("code", FIFTEEN_MINUTE)
@pytest.mark.parametrize("minutes, units", [(0, 0), (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (60, 4)])
def test_15_minute_codes_follow_the_8_minute_rule(code, minutes, units):
    assert codes.units_for(code, minutes) == units
    assert codes.fits(code, minutes).ok is (units > 0)


@pytest.mark.parametrize("rounding, minutes, units", [
    ("full_units_only", 14, 0), ("full_units_only", 15, 1), ("full_units_only", 29, 1),
    ("full_units_only", 30, 2), ("full_units_only", 44, 2),
    ("any_minutes", 0, 0), ("any_minutes", 1, 1), ("any_minutes", 15, 1), ("any_minutes", 16, 2),
    ("any_minutes", 31, 3),
    ("cms_8_minute", 7, 0), ("cms_8_minute", 8, 1), (None, 23, 2), ("", 22, 1)])
def test_a_payer_can_override_the_rounding_of_15_minute_units(rounding, minutes, units):
    assert codes.units_for("97153", minutes, rounding) == units


def test_rounding_accepts_the_enum_and_refuses_unknown_names():
    assert codes.units_for("H2019", 14, Rounding.FULL_UNITS_ONLY) == 0
    with pytest.raises(ValueError):
        codes.units_for("H2019", 14, "round_up_generously")


def test_rounding_formulas_match_domain_md_at_every_minute():
    for minutes in range(0, 300):
        assert codes.fifteen_minute_units(minutes) == (0 if minutes < 8 else (minutes + 7) // 15)
        assert codes.fifteen_minute_units(minutes, "full_units_only") == minutes // 15
        assert codes.fifteen_minute_units(minutes, "any_minutes") == math.ceil(minutes / 15)


def test_rounding_does_not_touch_codes_that_are_not_15_minute_units():
    assert codes.units_for("90840", 80, "any_minutes") == 1 and codes.fits("90834", 20, "any_minutes").ok is False


def test_7_minutes_is_too_short_for_a_15_minute_unit():
    result = codes.fits("97153", 7)
    assert not result.ok and "too short" in result.message and "8 minutes minimum" in result.message
    assert "15 minutes minimum" in codes.fits("97153", 14, "full_units_only").message


# ---------------------------------------------------------------- untimed, unknown, nonsense


@pytest.mark.parametrize("code", ["90791", "90792", "90785", "90849", "90853", "96127", "99213", "H0001", "H0035"])
@pytest.mark.parametrize("minutes", [0, 1, 45, 300])
def test_untimed_codes_fit_any_minutes_with_one_unit(code, minutes):
    result = codes.fits(code, minutes)
    assert (result.ok, result.units) == (True, 1)


def test_an_unknown_code_does_not_fit_and_says_so():
    result = codes.fits("99999", 45)
    assert not result.ok and result.message == "99999 is not in the code reference." and result.units == 0
    assert codes.fits("", 45).message == "Enter a code."


def test_units_for_an_unknown_code_raises():
    with pytest.raises(KeyError):
        codes.units_for("ABCDE", 30)


def test_negative_minutes_never_fit():
    assert not codes.fits("90791", -5).ok and "negative" in codes.fits("90834", -1).message


def test_code_for_minutes_with_an_unknown_family_is_none():
    assert codes.code_for_minutes("aromatherapy", 45) is None


def test_a_family_of_several_untimed_codes_does_not_guess():
    assert codes.code_for_minutes("diagnostic evaluation", 60) is None
    assert codes.code_for_minutes("90792", 60) == "90792"


# ---------------------------------------------------------------- add-ons and codes billed together


def test_addons_and_their_parents():
    assert codes.is_addon("90785") and codes.is_addon("90840") and codes.is_addon("96139")
    assert not codes.is_addon("90834") and not codes.is_addon("99999")
    assert codes.parents("90840") == ("90839",) and codes.parents("96133") == ("96132",)
    assert codes.parents("90785") == ("90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838",
                                      "90853")
    assert codes.parents("90834") == () and codes.parents("nope") == ()


def test_90785_is_never_billed_with_crisis_or_family_therapy():
    assert set(codes.get("90785").never_with) == {"90839", "90840", "90846", "90847"}


def test_an_addon_without_its_parent_is_a_problem():
    problems = codes.addon_problems(["96131"])
    assert problems == ["96131 (Psychological testing evaluation, each added hour) is an add-on: bill it with "
                        "96130 on the same session."]


def test_an_addon_with_its_parent_is_fine():
    assert codes.addon_problems(["90834", "90785"]) == []
    assert codes.addon_problems(["99213", "90836"]) == []
    assert codes.addon_problems(["90839", "90840"]) == []


def test_an_em_addon_without_an_em_visit_names_the_em_codes():
    [problem] = codes.addon_problems(["90836"])
    assert "evaluation and management" in problem and "99211–99215" in problem


def test_90785_lists_its_parents_as_ranges_when_alone():
    [problem] = codes.addon_problems(["90785"])
    assert "90791–90792, 90832–90834, 90836–90838, 90853" in problem


@pytest.mark.parametrize("other", ["90839", "90840", "90846", "90847"])
def test_90785_with_a_never_with_code_is_a_problem_in_either_order(other):
    conflict = f"90785 (Interactive complexity) and {other} ({codes.get(other).name}) can't be billed together."
    assert conflict in codes.addon_problems(["90853", "90785", other])
    assert conflict in codes.addon_problems([other, "90785", "90853"])
    assert not any("together" in problem for problem in codes.addon_problems(["90853", "90785"]))


def test_crisis_is_never_billed_with_routine_psychotherapy_on_the_same_session():
    assert any("can't be billed together" in problem for problem in codes.addon_problems(["90839", "90834"]))


def test_codes_listed_twice_or_unknown_are_not_reported_twice():
    assert codes.addon_problems(["96131", "96131", "XXXXX", None]) == codes.addon_problems(["96131"])


# ---------------------------------------------------------------- other lookups


def test_unit_minutes_and_repeatable_codes():
    assert [codes.unit_minutes(code) for code in ["97153", "90840", "96131", "90834", "96130"]] == [15, 30, 60,
                                                                                                       None, None]
    assert codes.is_repeatable("96127") and codes.is_repeatable("H2019") and codes.is_repeatable("96137")
    assert not codes.is_repeatable("90834") and not codes.is_repeatable("90853") and not codes.is_repeatable("x")


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class PracticeService:
    code: str
    name: str
    description: str
    price_cents: int = 0


def searched(query, **options):
    return [result.code for result in codes.reference_index().search(query, **options)]


def test_a_code_prefix_returns_the_codes_starting_with_it_in_order():
    results = codes.reference_index().search("9083")
    assert [result.code for result in results[:7]] == ["90832", "90833", "90834", "90836", "90837", "90838", "90839"]
    assert {result.matched_on for result in results[:7]} == {"code"}
    assert [(result.code, result.matched_on) for result in results[7:]] == [("90840", "words")]  # "add-on to 90839"


def test_code_prefix_matches_come_before_word_matches():
    results = codes.reference_index().search("90832")
    assert results[0].code == "90832" and results[0].matched_on == "code"
    assert len(results) > 1 and all(result.matched_on == "words" for result in results[1:])  # 90839 mentions 90832


def test_lower_case_hcpcs_prefix_finds_hcpcs_codes():
    assert searched("h20")[:3] == ["H2011", "H2014", "H2015"]


def test_family_finds_family_therapy_first():
    assert searched("family")[:2] == ["90846", "90847"]


def test_every_query_word_must_start_some_word():
    found = searched("family group")
    assert "90849" in found and "97157" in found and "90846" not in found
    assert searched("psychoth crisis") == ["90839", "90840"]


def test_words_in_the_name_rank_before_words_only_in_the_description():
    found = searched("family")
    assert found.index("90847") < found.index("90832")  # 90832 says "family may join" only in its description


def test_a_query_matching_nothing_returns_nothing():
    assert searched("zebra") == [] and searched("") == [] and searched("   ") == []
    assert searched("9083", limit=0) == []


def test_limit_cuts_the_results():
    assert len(searched("9", limit=5)) == 5 and len(searched("9")) == 20


def test_with_minutes_the_codes_that_fit_come_first_and_misfits_are_marked():
    results = codes.reference_index().search("9083", minutes=45)
    order = [result.code for result in results]
    assert order[:3] == ["90834", "90836", "90839"]  # the minutes' own bands first
    assert order[3:5] == ["90832", "90833"]  # lower codes: allowed
    misfits = {result.code: result for result in results if not result.check.allowed}
    assert set(misfits) == {"90837", "90838", "90840"} and order[-3:] == ["90837", "90838", "90840"]
    assert misfits["90837"].check.message == "45 minutes is 90834, not 90837."
    lower = {result.code: result.check.mark for result in results if result.check.lower_code}
    assert lower == {"90832": "lower than 45 min supports (90834)", "90833": "lower than 45 min supports (90836)"}
    assert all(result.fits is False for result in results if result.check.lower_code)


def test_without_minutes_nothing_is_marked():
    assert {result.check for result in codes.reference_index().search("9083")} == {None}


@pytest.mark.parametrize("code, verdict, mark", [
    ("90837", "fits", "fits 53 min"),
    ("90834", "lower", "lower than 53 min supports (90837)"),
    ("90832", "lower", "lower than 53 min supports (90837)"),
    ("90839", "fits", "fits 53 min"),
    ("90840", "misfit", "does not fit 53 min"),
])
def test_one_time_check_marks_a_53_minute_session(code, verdict, mark):
    check = codes.check_time(code, 53)
    assert check.verdict == verdict and check.mark.startswith(mark)
    assert check.allowed is (verdict != "misfit") and check.fits is (verdict == "fits")


def test_a_custom_code_has_no_time_rule_and_an_unknown_one_is_refused():
    assert codes.check_time("LATE-CANCEL", 53, custom=True).fits
    unknown = codes.check_time("LATE-CANCEL", 53)
    assert not unknown.allowed and "not a code Parity knows" in unknown.message


def test_a_practice_index_holds_custom_codes_and_its_own_names():
    index = codes.CodeIndex([*codes.all_codes(), PracticeService("SELFPAY1", "Sliding scale session", "Own code."),
                             PracticeService("90834", "Therapy 45", "Our usual session.", 15000)])
    assert [result.code for result in index.search("sliding")] == ["SELFPAY1"]
    [ours] = [result for result in index.search("90834")]
    assert ours.name == "Therapy 45" and ours.item.price_cents == 15000  # a later entry replaces the reference's
    custom = index.search("selfpay", minutes=45)
    assert custom[0].fits is None and custom[0].check is None  # no time rule known for a custom code


def test_unknown_fit_ranks_between_fits_and_misfits():
    index = codes.CodeIndex([PracticeService("90837", "Long", "x"), PracticeService("ZZ1", "Long custom", "x"),
                             PracticeService("90834", "Long usual", "x")])
    assert [result.code for result in index.search("long", minutes=45)] == ["90834", "ZZ1", "90837"]


def test_search_is_fast():
    index = codes.reference_index()
    queries = [("9083", None), ("9083", 45), ("family", None), ("psy", 50), ("adaptive behavior", 30), ("h", None)]
    best_seconds = min(timeit.repeat(lambda: [index.search(query, minutes=minutes) for query, minutes in queries],
                                     number=200, repeat=5))
    assert best_seconds / (200 * len(queries)) < 0.0002
