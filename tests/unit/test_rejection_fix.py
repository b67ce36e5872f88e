"""A payer's or clearinghouse's rejection links to the page where it is fixed (app/billing/claims.rejection_fix)."""
import pytest

from app.billing.claims import rejection_fix
from app.models import Claim

POLICY, PRACTICE, MEMBER, BILL = "/clients/3/policies/4", "/settings/practice", "/settings/members/5", "/bills/6"


@pytest.mark.parametrize("status_code, entity, words, page", [
    ("33", "IL", "Subscriber not found: member ID X1R is not on file", POLICY),
    ("", "", "Subscriber not found", POLICY),
    ("164", "", "", POLICY),  # the member id
    ("26", "QC", "", POLICY),  # the patient not found
    ("88", "", "", POLICY),  # not eligible on the dates of service
    ("562", "85", "", PRACTICE),  # the billing provider's NPI
    ("128", "", "", PRACTICE),  # the tax id
    ("145", "82", "", MEMBER),  # the rendering clinician's taxonomy
    ("26", "85", "", PRACTICE),  # the billing provider was not found
    ("21", "", "Procedure code 90834 is not valid with modifier GT", BILL),
    ("", "", "", BILL),
])
def test_a_rejection_links_to_where_it_is_fixed(status_code, entity, words, page):
    claim = Claim(client_id=3, policy_id=4, clinician_id=5, bill_id=6)
    assert rejection_fix(claim, status_code, entity, words) == page
