"""The Claim.MD adapter against a local server that speaks Claim.MD's API over real HTTP.

No app or database: the adapter takes file text and cursors and returns plain answers.
"""
from __future__ import annotations

import logging
import time
from datetime import date, datetime

import pytest

from app.clearinghouse.base import (ClearinghouseError, ClearinghouseUnavailable, RemittanceNotice,
                                    UploadReceipt)
from app.clearinghouse.claimmd import ClaimMD
from app.x12.claim_data import (Address, Batch, BillingProvider, Claim, Payer, Receiver, ServiceLine, Subscriber,
                                Submitter)
from app.x12.writer_837p import write_837p
from tests.support.claimmd_server import ClaimMDServer

ACCOUNT_KEY = "test-key"
HOME = Address(line1="8 Elm St", city="Beaverton", state="OR", zip_code="97005")
OFFICE = Address(line1="120 Harbor Way", city="Portland", state="OR", zip_code="97201-3344")
ERA_TEXT = ("ISA*00*          *00*          *ZZ*CLAIMMD        *ZZ*PARITY01       *260320*1200*^*00501*000000901*0*T*:~"
            "GS*HP*CLAIMMD*PARITY01*20260320*1200*901*X*005010X221A1~ST*835*0001~SE*2*0001~GE*1*901~IEA*1*000000901~")


def claim(pcn: str, cents: int = 15000) -> Claim:
    subscriber = Subscriber(member_id="W123456789", last_name="Rivera", first_name="Ana", birth_date=date(1984, 5, 17),
                            sex="F", address=HOME)
    line = ServiceLine(line_id=f"{pcn}-1", procedure_code="90834", charge_cents=cents, units=1,
                       service_date=date(2026, 3, 10), diagnosis_pointers=(1,))
    return Claim(patient_control_number=pcn, place_of_service="11", diagnoses=("F41.1",), lines=(line,),
                 subscriber=subscriber, payer=Payer(name="Cascade Health Plan", payer_id="93221"))


def file_837p(*pcns: str) -> str:
    """A real 837P (the writer's own output) holding one claim per patient control number."""
    return write_837p(Batch(
        interchange_control_number=4711, group_control_number=4712, transaction_control_number=4713,
        created_at=datetime(2026, 3, 11, 14, 30), usage_indicator="T", sender_id="PARITY01", receiver_id="CLAIMMD",
        submitter=Submitter(name="Calm Harbor Counseling", identifier="CH12345", contact_name="Mia Chen",
                            phone="503-555-0100"),
        receiver=Receiver(name="Claim.MD", identifier="CLAIMMD"),
        billing_provider=BillingProvider(name="Calm Harbor Counseling LLC", npi="2000000002", taxonomy="261QM0801X",
                                         tax_id="12-3456789", address=OFFICE),
        claims=tuple(claim(pcn) for pcn in pcns)))


@pytest.fixture
def server():
    with ClaimMDServer(account_key=ACCOUNT_KEY) as running:
        yield running


@pytest.fixture
def claimmd(server):
    return ClaimMD(ACCOUNT_KEY, base_url=server.url, timeout=(2.0, 5.0))


# ---------------------------------------------------------------- upload


def test_upload_with_every_claim_accepted(server, claimmd):
    receipt = claimmd.upload("P1-000004711.837", file_837p("S1001", "S1002"))

    assert receipt.accepted and not receipt.errors
    assert [(c.patient_control_number, c.accepted, c.messages) for c in receipt.claims] == [
        ("S1001", True, ()), ("S1002", True, ())]
    assert all(c.clearinghouse_claim_id for c in receipt.claims)
    assert receipt.reference == server.uploaded_files()[0].fileid
    assert receipt.raw["claim"][0]["pcn"] == "S1001"  # the answer as received, kept for the Submission
    service, fields = server.requests[0]
    assert (service, fields) == ("upload", {"Filename": "P1-000004711.837", "File": "P1-000004711.837"})
    assert server.uploaded_files()[0].text.startswith("ISA*")


def test_upload_with_some_claims_rejected_keeps_their_messages(server, claimmd):
    server.reject_claims(["S1002"], "Subscriber ID is invalid for this payer")

    receipt = claimmd.upload("batch.837", file_837p("S1001", "S1002"))

    assert receipt.accepted  # the file was taken; one of its claims was not
    by_pcn = {c.patient_control_number: c for c in receipt.claims}
    assert by_pcn["S1001"].accepted and not by_pcn["S1001"].messages
    assert not by_pcn["S1002"].accepted
    assert by_pcn["S1002"].messages == ("Subscriber ID is invalid for this payer",)


def test_a_refused_file_answers_not_accepted_with_the_errors(server, claimmd):
    server.reject_next_file("Invalid ISA segment")

    receipt = claimmd.upload("batch.837", file_837p("S1001"))

    assert receipt == UploadReceipt(accepted=False, errors=("Invalid ISA segment (error FILE)",), raw=receipt.raw)
    assert receipt.raw["error"][0]["error_mesg"] == "Invalid ISA segment"
    assert server.received_claims() == {}


def test_a_wrong_account_key_is_an_error_not_a_refused_file(server):
    wrong = ClaimMD("not-the-key", base_url=server.url)

    with pytest.raises(ClearinghouseError, match="AccountKey") as upload_error:
        wrong.upload("batch.837", file_837p("S1001"))
    with pytest.raises(ClearinghouseError, match="Invalid AccountKey") as poll_error:
        wrong.poll("")

    for error in (upload_error.value, poll_error.value):
        assert not isinstance(error, ClearinghouseUnavailable)  # retrying with the same key will not help
        assert "not-the-key" not in str(error)
    assert "not-the-key" not in repr(wrong)
    assert server.received_claims() == {}


# ---------------------------------------------------------------- no usable answer


def test_http_500_is_unavailable(server, claimmd):
    server.fail_next(1, status=500)

    with pytest.raises(ClearinghouseUnavailable, match="upload.*HTTP 500"):
        claimmd.upload("batch.837", file_837p("S1001"))
    assert server.received_claims() == {}
    assert claimmd.upload("batch.837", file_837p("S1001")).accepted  # the next try goes through


@pytest.mark.parametrize("status, unavailable", [(429, True), (503, True), (403, False), (404, False)])
def test_http_statuses_sort_into_retry_or_give_up(server, claimmd, status, unavailable):
    server.fail_next(1, status=status)

    with pytest.raises(ClearinghouseError) as raised:
        claimmd.poll("")
    assert isinstance(raised.value, ClearinghouseUnavailable) is unavailable


def test_a_slow_answer_times_out_as_unavailable(server):
    impatient = ClaimMD(ACCOUNT_KEY, base_url=server.url, timeout=(1.0, 0.2))
    server.delay_next(1, seconds=2.0)

    started = time.monotonic()
    with pytest.raises(ClearinghouseUnavailable, match="response request in time"):
        impatient.poll("")
    assert time.monotonic() - started < 1.5


def test_a_refused_connection_is_unavailable():
    with ClaimMDServer() as stopped:
        url = stopped.url
    with pytest.raises(ClearinghouseUnavailable, match="could not reach Claim.MD for the eralist request"):
        ClaimMD(ACCOUNT_KEY, base_url=url).list_remittances("")


def test_a_lost_answer_then_find_upload_finds_the_file_so_nothing_goes_twice(server, claimmd):
    content = file_837p("S1001", "S1002")
    server.drop_after_receiving_next_upload()

    with pytest.raises(ClearinghouseUnavailable, match="upload"):
        claimmd.upload("P1-000004711.837", content)

    found = claimmd.find_upload("P1-000004711.837")
    assert found is not None and found.accepted
    assert found.reference == server.uploaded_files()[0].fileid
    assert claimmd.find_upload("P1-000004712.837") is None
    assert server.received_claims() == {"S1001": 1, "S1002": 1}


def test_find_upload_pages_through_the_upload_list():
    with ClaimMDServer(account_key=ACCOUNT_KEY, uploads_per_page=2) as server:
        claimmd = ClaimMD(ACCOUNT_KEY, base_url=server.url)
        for number in range(5):
            claimmd.upload(f"file-{number}.837", file_837p(f"S{number}"))

        found = claimmd.find_upload("file-0.837")  # the oldest: on the last page, newest first

        assert found is not None and found.reference == server.uploaded_files()[0].fileid
        pages = [fields["Page"] for service, fields in server.requests if service == "uploadlist"]
        assert pages == ["1", "2", "3"]
        assert claimmd.find_upload("never-sent.837") is None


def test_find_upload_refuses_to_guess_when_the_list_repeats_itself(server, claimmd):
    page = '{"upload": [{"fileid": "1", "filename": "other.837", "filetime": "", "claimcount": "1"}]}'
    server.answer_next_with(page)
    server.answer_next_with(page)  # a service that ignores Page: the rest of the list is out of reach

    with pytest.raises(ClearinghouseError, match="cannot tell whether batch.837 arrived"):
        claimmd.find_upload("batch.837")


# ---------------------------------------------------------------- poll


def test_poll_follows_the_cursor_until_it_stops_changing():
    with ClaimMDServer(account_key=ACCOUNT_KEY, responses_per_page=2) as server:
        claimmd = ClaimMD(ACCOUNT_KEY, base_url=server.url)
        server.reject_claims(["S1003"], "Patient date of birth is missing")
        claimmd.upload("batch.837", file_837p("S1001", "S1002", "S1003"))
        server.add_response("S1001", "A", "Accepted by payer", remote_claimid="PAYER-77")
        last_id = server.add_response("S1002", "R", "Invalid procedure code")

        result = claimmd.poll("")

        summary = [(r.patient_control_number, r.category, r.message, r.payer_claim_number) for r in result.reports]
        assert summary == [("S1001", "A1", "", ""), ("S1002", "A1", "", ""),
                           ("S1003", "A7", "Patient date of birth is missing", ""),
                           ("S1001", "A1", "Accepted by payer", "PAYER-77"),
                           ("S1002", "A7", "Invalid procedure code", "")]
        assert result.cursor == str(last_id)
        cursors = [fields["ResponseID"] for service, fields in server.requests if service == "response"]
        assert cursors == ["0", "2", "4", "5"]  # two per page, then once more to see it stay
        assert all(report.clearinghouse_claim_id for report in result.reports)
        assert all(report.status_code == "" and report.charge_cents == 15000 for report in result.reports)


def test_poll_with_the_returned_cursor_yields_nothing_new(server, claimmd):
    claimmd.upload("batch.837", file_837p("S1001"))
    first = claimmd.poll("")

    again = claimmd.poll(first.cursor)

    assert [r.patient_control_number for r in first.reports] == ["S1001"]
    assert again.reports == () and again.cursor == first.cursor
    server.add_response("S1001", "R", "Duplicate claim")
    later = claimmd.poll(again.cursor)
    assert [(r.category, r.message) for r in later.reports] == [("A7", "Duplicate claim")]
    assert int(later.cursor) > int(first.cursor)


# ---------------------------------------------------------------- remittances


def test_era_list_cursor_and_835_round_trip(server, claimmd):
    first_id = server.add_era(ERA_TEXT, payer_name="Cascade Health Plan", check_number="CHK100",
                              paid_amount="1234.56", paid_date="2026-03-20")
    second_id = server.add_era(ERA_TEXT.replace("CHK", "EFT"), payer_name="Blue Ridge", check_number="EFT200",
                               paid_amount="80.10", paid_date="03/21/2026")

    listed = claimmd.list_remittances("")

    assert [n.reference for n in listed.notices] == [first_id, second_id]
    assert listed.notices[0] == RemittanceNotice(reference=first_id, payer_name="Cascade Health Plan",
                                                 payer_id="93221", check_number="CHK100",
                                                 paid_on=date(2026, 3, 20), amount_cents=123456)
    assert (listed.notices[1].paid_on, listed.notices[1].amount_cents) == (date(2026, 3, 21), 8010)
    assert listed.cursor == second_id
    assert claimmd.fetch_remittance(listed.notices[0]) == ERA_TEXT

    assert claimmd.list_remittances(listed.cursor).notices == ()
    assert claimmd.list_remittances(listed.cursor).cursor == listed.cursor
    third_id = server.add_era(ERA_TEXT, paid_amount="0.00", paid_date="20260322")
    newer = claimmd.list_remittances(listed.cursor)
    assert [(n.reference, n.paid_on, n.amount_cents) for n in newer.notices] == [(third_id, date(2026, 3, 22), 0)]
    assert newer.cursor == third_id
    eralist_fields = [fields for service, fields in server.requests if service == "eralist"]
    assert "ERAID" not in eralist_fields[0] and eralist_fields[-1]["ERAID"] == second_id


def test_era_list_pages_until_empty():
    with ClaimMDServer(account_key=ACCOUNT_KEY, eras_per_page=2) as server:
        claimmd = ClaimMD(ACCOUNT_KEY, base_url=server.url)
        ids = [server.add_era(ERA_TEXT, paid_amount="10.00") for _ in range(5)]

        listed = claimmd.list_remittances("")

        assert [n.reference for n in listed.notices] == ids and listed.cursor == ids[-1]


def test_an_835_sent_as_plain_text_is_accepted(server, claimmd):
    server.answer_next_with(ERA_TEXT, content_type="text/plain")

    assert claimmd.fetch_remittance(RemittanceNotice(reference="5001")) == ERA_TEXT


def test_an_unknown_era_is_an_error(server, claimmd):
    with pytest.raises(ClearinghouseError, match="was not found"):
        claimmd.fetch_remittance(RemittanceNotice(reference="999"))


# ---------------------------------------------------------------- answers that make no sense


@pytest.mark.parametrize("body", ["{not json", "[]", '{"claim": "S1001"}', "<html>maintenance</html>"])
def test_an_answer_that_is_not_the_json_expected_is_an_error(server, claimmd, body):
    server.answer_next_with(body)

    with pytest.raises(ClearinghouseError) as raised:
        claimmd.upload("batch.837", file_837p("S1001"))
    assert not isinstance(raised.value, ClearinghouseUnavailable)


def test_malformed_json_on_poll_and_era_list_is_an_error(server, claimmd):
    server.answer_next_with('{"last_responseid": "3", "claim": [')
    with pytest.raises(ClearinghouseError, match="not JSON"):
        claimmd.poll("")
    server.answer_next_with('{"era": {"eraid": 7}, "error": {"error_code": "X", "error_mesg": "Account suspended"}}')
    with pytest.raises(ClearinghouseError, match="Account suspended"):
        claimmd.list_remittances("")


def test_the_account_key_never_reaches_the_log(server, claimmd, caplog):
    caplog.set_level(logging.DEBUG)
    server.fail_next(1, status=502)

    with pytest.raises(ClearinghouseUnavailable):
        claimmd.poll("")
    claimmd.upload("batch.837", file_837p("S1001"))
    claimmd.poll("")

    assert ACCOUNT_KEY not in caplog.text
