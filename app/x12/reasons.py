"""Payer codes in plain words for a biller: adjustment reasons (CARC), remarks (RARC), adjustment groups,
claim status categories and codes (277), and claim statuses (835 CLP02).

The wording is ours and short on purpose: the official code lists are long and legalistic, and a biller
needs to know what happened and what to do. A code we do not know still gets a sentence that says which
code it is and where to look, so nothing is ever shown blank.
"""
from __future__ import annotations

# ---------------------------------------------------------------- 835 adjustment groups (CAS01)

GROUPS = {
    "CO": "Contractual adjustment",  # write off; never bill the client
    "PR": "Patient responsibility",  # the client owes this
    "OA": "Other adjustment",
    "PI": "Payer-initiated reduction",
    "CR": "Correction or reversal",  # retired in 5010, still seen in old files
}

# ---------------------------------------------------------------- claim adjustment reason codes (CARC)
# Written to follow "Contractual adjustment: …", so they start in lower case; describe_reason capitalizes.

REASONS = {
    "1": "deductible",
    "2": "coinsurance",
    "3": "copay",
    "4": "the modifier does not fit the procedure code, or a required modifier is missing",
    "5": "the procedure code does not fit the place of service",
    "6": "the procedure code does not fit the patient's age",
    "7": "the procedure code does not fit the patient's sex",
    "8": "the procedure code does not fit the provider's type or taxonomy",
    "9": "the diagnosis does not fit the patient's age",
    "10": "the diagnosis does not fit the patient's sex",
    "11": "the diagnosis does not support the procedure",
    "13": "the date of death is before the date of service",
    "15": "the authorization number is missing, wrong, or does not cover this service",
    "16": "the claim is missing information or has a billing error (see the remark codes)",
    "18": "duplicate of a claim or service already processed",
    "19": "work injury: bill the workers' compensation carrier",
    "20": "injury covered by a liability carrier",
    "21": "injury covered by a no-fault carrier",
    "22": "another payer may be primary (coordination of benefits)",
    "23": "accounts for what an earlier payer paid or adjusted",
    "24": "covered under a capitation or managed-care agreement",
    "26": "the service was before the coverage started",
    "27": "the service was after the coverage ended",
    "29": "the filing deadline has passed",
    "31": "the payer cannot identify the patient as its member",
    "35": "the lifetime benefit maximum has been reached",
    "39": "the authorization was denied when it was requested",
    "45": "the charge is above the payer's allowed amount",
    "49": "routine or preventive service the plan does not cover",
    "50": "the payer does not consider the service medically necessary",
    "51": "pre-existing condition the plan does not cover",
    "55": "the payer considers the service experimental",
    "58": "the payer does not accept this place of service for the service",
    "59": "reduced under multiple or concurrent procedure rules",
    "94": "processed in excess of the charges",
    "95": "the plan's procedures were not followed",
    "96": "service not covered (see the remark codes)",
    "97": "paid as part of another service already processed",
    "100": "the payment went to the patient or subscriber",
    "107": "the related or qualifying service is not on this claim",
    "109": "this payer does not cover the claim: send it to the right payer",
    "110": "the billing date is before the date of service",
    "119": "the benefit maximum for the period has been reached",
    "125": "billing or submission error",
    "129": "earlier processing information looks wrong (see the remark codes)",
    "140": "the member id and the patient's name do not match",
    "146": "the diagnosis was not valid on the date of service",
    "149": "the lifetime maximum for this kind of benefit has been reached",
    "150": "the payer finds the records do not support this level of service",
    "151": "the payer finds the records do not support this many services",
    "165": "referral missing or exceeded",
    "167": "the diagnosis is not covered",
    "170": "not paid when this type of provider bills it",
    "171": "not paid when this type of provider bills it in this type of facility",
    "177": "the patient did not meet the plan's eligibility rules",
    "181": "the procedure code was not valid on the date of service",
    "182": "the modifier was not valid on the date of service",
    "183": "the referring provider may not refer this service",
    "185": "the rendering provider may not bill this service",
    "189": "an unlisted code was billed where a specific code exists",
    "197": "prior authorization or notification was missing",
    "198": "more services than the authorization allows",
    "200": "the service fell in a lapse in coverage",
    "204": "not covered by the patient's current plan",
    "206": "the NPI is missing",
    "207": "the NPI is not valid",
    "208": "the NPI does not match the payer's records",
    "209": "the provider may not collect this amount from the patient",
    "222": "more hours, days or units than the contract allows for the period",
    "223": "adjustment required by law or regulation",
    "226": "information the payer asked the provider for was not sent, was late, or was incomplete",
    "227": "information the payer asked the patient for was not sent, was late, or was incomplete",
    "234": "this procedure is not paid separately",
    "236": "this code combination is not allowed on the same day (NCCI edits)",
    "242": "the service was not from an in-network or primary care provider",
    "243": "the service was not authorized by an in-network or primary care provider",
    "250": "the documentation received was the wrong kind",
    "251": "the documentation received was incomplete",
    "252": "the payer needs documentation or an attachment to decide",
    "253": "sequestration: the federal payment cut",
    "256": "not payable under the managed-care contract",
    "272": "the plan's coverage guidelines were not met",
    "273": "the plan's coverage guidelines were exceeded",
    "276": "services the earlier payer denied are not covered by this payer either",
    "A1": "the claim or service was denied (see the remark codes)",
    "B7": "the provider was not certified or eligible for this service on this date",
    "B9": "the patient is enrolled in hospice",
    "B11": "the claim was passed on to the right payer",
    "B13": "already paid in an earlier payment",
    "B15": "needs a qualifying service that was not received or covered",
    "B16": "the new-patient rules were not met",
    "B20": "another provider furnished part or all of the service",
    "B22": "adjusted because of the diagnosis",
}

# ---------------------------------------------------------------- remittance advice remark codes (RARC)

REMARKS = {
    "M15": "services billed separately were bundled into one procedure",
    "M20": "the HCPCS code is missing or not valid",
    "M51": "the procedure code is missing or not valid",
    "M62": "the authorization number is missing or not valid",
    "M76": "the diagnosis is missing or not valid",
    "M79": "the charge is missing or not valid",
    "M80": "not covered in the same session or on the same day as another service already processed",
    "M86": "already paid for the same or a similar service in this period",
    "M127": "the medical record for this service is missing",
    "MA01": "you may appeal this decision",
    "MA04": "a secondary claim needs the primary payer's name and payment details",
    "MA07": "the claim was also sent to Medicaid",
    "MA18": "the claim was also sent to the patient's supplemental insurer",
    "MA130": "the claim is incomplete or not valid and was not processed: correct it and send it again",
    "N1": "you may appeal this decision",
    "N4": "the prior payer's explanation of benefits is missing or not valid",
    "N10": "adjusted after a review by the payer",
    "N20": "not paid when billed with another service on the same date",
    "N30": "the patient is not eligible for this service",
    "N54": "the claim does not match the authorized services",
    "N56": "the procedure code is not right for the service or the date of service",
    "N95": "this provider type or specialty may not bill this service",
    "N115": "decided under a local coverage determination (LCD)",
    "N130": "see the plan's benefit documents for limits on this service",
    "N179": "the payer has asked the member for more information",
    "N257": "the billing provider's identifier is missing or not valid",
    "N286": "the referring provider's identifier is missing or not valid",
    "N290": "the rendering provider's identifier is missing or not valid",
    "N362": "more days or units than the payer allows",
    "N381": "see your contract with the payer for the limits on these charges",
    "N386": "decided under a national coverage determination (NCD)",
    "N432": "adjusted after a recovery audit",
    "N522": "duplicate of a claim processed, or to be processed, as a crossover claim",
    "N657": "bill this with the code that fits these services",
}

# ---------------------------------------------------------------- 277 claim status categories (STC01-1)

CATEGORIES = {
    "A0": "Forwarded: the claim was passed on to another entity",
    "A1": "Received: the claim arrived but is not yet accepted for processing",
    "A2": "Accepted: the claim entered the payer's processing system",
    "A3": "Rejected: the claim was returned as unprocessable",
    "A4": "Rejected: the claim was not found",
    "A5": "Accepted: the claim was split into several claims",
    "A6": "Rejected: information is missing",
    "A7": "Rejected: information is not valid",
    "A8": "Rejected: fields that must agree with each other do not",
    "P0": "Pending: adjudication is under way",
    "P1": "Pending: in process",
    "P2": "Pending: under payer review",
    "P3": "Pending: waiting for information the payer asked the provider for",
    "P4": "Pending: waiting for information from the patient",
    "P5": "Pending: on hold at the payer",
    "F0": "Finalized",
    "F1": "Finalized: paid",
    "F2": "Finalized: denied",
    "F3": "Finalized: the payer revised its decision",
    "F3F": "Finalized: revised and forwarded",
    "F3N": "Finalized: revised, not forwarded",
    "F4": "Finalized: processing is complete and no payment will follow",
    "E0": "No answer possible: the request had errors",
    "E1": "No answer possible: the payer's system is unavailable",
    "E2": "No answer possible: the payer is not responding; try again later",
    "E3": "Correction required: fields that must agree with each other do not",
    "E4": "Correction required: a trading-partner requirement was not met",
    "D0": "Data reporting acknowledgement (encounter data)",
    "R0": "More information requested: general",
    "R1": "More information requested about an entity",
    "R3": "More information requested about the claim or a line",
    "R4": "Documentation requested",
    "R5": "More specific information requested",
}
# The other R categories (R6–R16) all ask for more information of some kind; one sentence serves them.
CATEGORIES.update({f"R{number}": f"More information requested (R{number})" for number in range(2, 17)
                   if f"R{number}" not in CATEGORIES})

#: Categories that mean the claim was refused before adjudication: fix and resend (not a denial).
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})

# ---------------------------------------------------------------- 277 claim status codes (STC01-2)

STATUSES = {
    "0": "no further status can be given electronically",
    "1": "see the remittance advice for details",
    "2": "details will come in a letter",
    "3": "processed and waiting for the payment cycle",
    "6": "a balance is due from the subscriber",
    "12": "procedure codes were combined",
    "15": "procedure codes were changed",
    "16": "forwarded to another entity",
    "19": "receipt acknowledged",
    "20": "accepted for processing",
    "21": "information is missing or not valid",
    "23": "returned to the sender",
    "24": "not approved as an electronic submitter",
    "25": "not approved",
    "26": "not found",
    "27": "the policy was cancelled",
    "29": "the subscriber and the policy number do not match",
    "30": "the subscriber and the member id do not match",
    "31": "the subscriber and the policyholder name do not match",
    "32": "the subscriber and the policy number were not found",
    "33": "the subscriber and the member id were not found",
    "35": "the claim was not found",
    "54": "duplicate of a claim already processed",
    "65": "paid",
    "78": "duplicate of a claim waiting to be processed",
    "84": "the service was not authorized",
    "85": "not the primary payer for this entity",
    "88": "not eligible for benefits on the dates of service",
    "95": "information the payer asked for was not received",
    "96": "no agreement with this entity",
    "97": "the patient's eligibility was not found",
    "100": "a pre-certification penalty was taken",
    "101": "processed as an adjustment to an earlier claim",
    "107": "processed under the provider's contract",
    "109": "not eligible",
    "116": "sent to the wrong payer",
    "125": "the name",
    "126": "the address",
    "128": "the tax id",
    "145": "the specialty or taxonomy code",
    "153": "the id number",
    "158": "the date of birth",
    "163": "the policy or group number",
    "164": "the member id",
    "187": "the date(s) of service",
    "247": "the line information",
    "249": "the place of service",
    "252": "the prior authorization number",
    "254": "the principal diagnosis code",
    "255": "the diagnosis code",
    "400": "the claim is out of balance",
    "453": "the procedure code modifiers",
    "454": "the procedure code",
    "464": "the payer's claim control number",
    "476": "the units of service",
    "477": "the diagnosis pointer",
    "481": "the claim format is not valid",
    "496": "the submitter is not approved to send claims for this entity",
    "500": "the ZIP code",
    "501": "the state",
    "502": "the city",
    "562": "the NPI",
}

#: STC01-3 and NM101 entity codes a 277CA names most.
ENTITIES = {
    "03": "the dependant", "1P": "the provider", "40": "the receiver", "41": "the submitter",
    "77": "the service location", "82": "the rendering provider", "85": "the billing provider",
    "87": "the pay-to provider", "DN": "the referring provider", "DK": "the ordering provider",
    "DQ": "the supervising provider", "IL": "the subscriber", "PR": "the payer", "QC": "the patient",
    "TT": "the crossover payer",
}

# ---------------------------------------------------------------- 835 claim status (CLP02)

CLAIM_STATUSES = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary and forwarded to another payer",
    "20": "Processed as secondary and forwarded to another payer",
    "21": "Processed as tertiary and forwarded to another payer",
    "22": "Reversal of an earlier payment",
    "23": "Not this payer's claim; forwarded to another payer",
    "25": "Pricing only (predetermination), no payment",
}


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe_group(group: str) -> str:
    return GROUPS.get(group, f"Adjustment group {group}")


def describe_reason(code: str) -> str:
    """'45' → "The charge is above the payer's allowed amount"."""
    words = REASONS.get(code)
    return _capitalized(words) if words else f"Reason code {code} (see the payer's remittance advice)"


def describe_adjustment(group: str, reason: str) -> str:
    """('CO', '45') → "Contractual adjustment: the charge is above the payer's allowed amount (CO-45)"."""
    words = REASONS.get(reason, f"reason code {reason}, see the payer's remittance advice")
    return f"{describe_group(group)}: {words} ({group}-{reason})"


def describe_remark(code: str) -> str:
    words = REMARKS.get(code)
    return f"{_capitalized(words)} ({code})" if words else f"Remark code {code} (see the payer's remittance advice)"


def describe_category(code: str) -> str:
    words = CATEGORIES.get(code)
    return f"{words} ({code})" if words else f"Status category {code} (see the payer's claim status report)"


def describe_status(code: str) -> str:
    words = STATUSES.get(code)
    return f"{_capitalized(words)} ({code})" if words else f"Status code {code} (see the payer's claim status report)"


def describe_entity(code: str) -> str:
    return ENTITIES.get(code, f"entity {code}")


def describe_claim_status(category: str, status: str = "", entity: str = "") -> str:
    """One STC composite in words: "Rejected: information is not valid (A7) — the NPI (562), billing provider"."""
    words = describe_category(category)
    if status:
        words += f" — {STATUSES[status] if status in STATUSES else f'status code {status}'} ({status})"
        if entity:
            words += f", {describe_entity(entity)}"
    elif entity:
        words += f" — {describe_entity(entity)}"
    return words


def describe_clp_status(code: str) -> str:
    return CLAIM_STATUSES.get(code, f"Claim status {code} (see the payer's remittance advice)")


# ---------------------------------------------------------------- 999 statuses (IK501 / AK901)

ACK_STATUSES = {
    "A": "accepted",
    "E": "accepted with errors",
    "P": "partially accepted: some transactions were rejected",
    "R": "rejected",
    "M": "rejected: the message authentication code failed",
    "W": "rejected: the assurance failed",
    "X": "rejected: the content could not be analyzed after decryption",
}


def describe_ack_status(code: str) -> str:
    return ACK_STATUSES.get(code, f"acknowledgement status {code}")


# ---------------------------------------------------------------- 835 provider adjustments (PLB03-1)

PROVIDER_ADJUSTMENTS = {
    "50": "Late filing reduction",
    "51": "Interest penalty charge",
    "72": "Authorized return (refund to the payer)",
    "90": "Early payment allowance",
    "AH": "Origination fee",
    "AM": "Applied to the borrower's account",
    "AP": "Acceleration of benefits",
    "B2": "Rebate",
    "B3": "Recovery allowance",
    "BD": "Bad debt adjustment",
    "BN": "Bonus",
    "C5": "Temporary allowance",
    "CR": "Capitation interest",
    "CS": "Adjustment (see the reference)",
    "CT": "Capitation payment",
    "CV": "Capital passthrough",
    "CW": "Nurse anesthetist passthrough",
    "DM": "Direct medical education passthrough",
    "E3": "Withholding",
    "FB": "Forwarding balance: money carried over from or to another payment",
    "FC": "Fund allocation",
    "GO": "Graduate medical education passthrough",
    "HM": "Hemophilia clotting factor supplement",
    "IP": "Incentive premium payment",
    "IR": "IRS withholding",
    "IS": "Interim settlement",
    "J1": "Non-reimbursable",
    "L3": "Penalty",
    "L6": "Interest owed to the provider",
    "LE": "Levy",
    "LS": "Lump sum",
    "OA": "Organ acquisition passthrough",
    "OB": "Offset for affiliated providers",
    "PI": "Periodic interim payment",
    "PL": "Payment final",
    "RA": "Retroactive adjustment",
    "RE": "Return on equity",
    "SL": "Student loan repayment",
    "TL": "Third-party liability",
    "WO": "Overpayment recovery: the payer took back money paid earlier",
    "WU": "Unspecified recovery",
}


def describe_provider_adjustment(reason: str) -> str:
    """PLB reason in words: 'L6' → 'Interest owed to the provider'."""
    return PROVIDER_ADJUSTMENTS.get(reason, f"Provider adjustment {reason} (see the payer's remittance advice)")
