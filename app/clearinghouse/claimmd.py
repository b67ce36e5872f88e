"""The Claim.MD adapter: 837P uploads, claim statuses, 835s and eligibility (270 → 271 over `elig/`) over
Claim.MD's HTTP services.

Every call is a POST to `<base_url><service>/` with the form field `AccountKey` and `Accept:
application/json` (Claim.MD answers XML without it). Failures are sorted the way the worker needs them:
`ClearinghouseUnavailable` when trying again later may help (no answer, timeout, HTTP 5xx/408/429),
`ClearinghouseError` when it will not (HTTP 4xx, an `error[]` answer, a body that is not the JSON
expected). The AccountKey is a password: it never appears in a log line, an exception or a repr.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from app.clearinghouse.base import (
    ClaimReceipt, ClearinghouseError, ClearinghouseUnavailable, PollResult, RemittanceList, RemittanceNotice,
    UploadReceipt,
)
from app.x12.inbound import ClaimStatusReport

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://svc.claim.md/services/"

#: Rounds of `response/` in one poll: enough for a busy day, and a bound if the cursor never settles.
MAX_POLL_ROUNDS = 50
#: Pages of `eralist/` and `uploadlist/` read in one call.
MAX_LIST_PAGES = 50

#: Claim.MD's claim status letters mapped onto 277CA claim status categories.
STATUS_CATEGORIES = {"A": "A1", "R": "A7"}  # A1 acknowledged/received, A7 rejected: invalid information

#: Statuses that mean "no usable answer, try again later" rather than "refused".
RETRYABLE_STATUSES = frozenset({408, 429})

#: requests errors that describe our own configuration (a bad base URL): retrying will not help.
CONFIGURATION_ERRORS = (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema,
                        requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader,
                        requests.exceptions.URLRequired)

PAID_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y%m%d")


class ClaimMD:
    """`base.Clearinghouse` over Claim.MD's services API."""

    name = "claimmd"
    automated = True

    def __init__(self, account_key: str, base_url: str = DEFAULT_BASE_URL,
                 timeout: tuple[float, float] = (5.0, 60.0), session: requests.Session | None = None) -> None:
        if not account_key:
            raise ValueError("a Claim.MD AccountKey is required")
        self._account_key = account_key
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"ClaimMD(base_url={self.base_url!r})"  # never the AccountKey

    # ------------------------------------------------------------ the protocol

    def upload(self, filename: str, content: str) -> UploadReceipt:
        """Send one 837P file; the receipt lists what Claim.MD said about each claim in it."""
        response = self._post("upload", {"Filename": filename},
                              files={"File": (filename, content.encode("utf-8"), "text/plain")})
        raw = self._json("upload", response)
        # Money is not read from an upload answer, so `raw` keeps plain JSON types (it is stored as JSON).
        errors = tuple(_error_text(item) for item in _items(raw, "error", "upload"))
        claims = tuple(_claim_receipt(item) for item in _items(raw, "claim", "upload"))
        if not claims and errors:
            if _is_authentication_error(raw):
                raise ClearinghouseError(f"Claim.MD refused the AccountKey on upload: {'; '.join(errors)}")
            return UploadReceipt(accepted=False, errors=errors, raw=raw)
        if not claims:
            raise ClearinghouseError("Claim.MD answered the upload with neither claims nor errors")
        first = _items(raw, "claim", "upload")[0]
        reference = _text(first.get("fileid")) or _text(first.get("batchid"))
        return UploadReceipt(accepted=True, reference=reference, claims=claims, errors=errors, raw=raw)

    def find_upload(self, filename: str) -> UploadReceipt | None:
        """The earlier upload named `filename`, from `uploadlist/`; None when Claim.MD never got it.

        None sends the file again, so it is answered only after reading the whole list; when the list
        cannot be read to its end, this raises ClearinghouseError instead (a person has to look)."""
        seen: set[str] = set()
        for page in range(1, MAX_LIST_PAGES + 1):
            items = _items(self._call("uploadlist", {"Page": str(page)}), "upload", "uploadlist")
            if not items:
                return None  # past the last page: it is not there
            new_items = [item for item in items if _upload_key(item) not in seen]
            if not new_items:
                raise ClearinghouseError(f"Claim.MD uploadlist repeats page {page - 1} as page {page}: "
                                         f"cannot tell whether {filename} arrived")
            for item in new_items:
                if _text(item.get("filename")) == filename:
                    return UploadReceipt(accepted=True, reference=_text(item.get("fileid")), raw=item)
            seen.update(_upload_key(item) for item in new_items)
        raise ClearinghouseError(f"Claim.MD uploadlist: {filename} is not in the newest {MAX_LIST_PAGES} pages; "
                                 "cannot tell whether it arrived")

    def poll(self, cursor: str) -> PollResult:
        """Claim statuses since `cursor`, following `last_responseid` until it stops changing."""
        current = cursor or "0"
        reports: list[ClaimStatusReport] = []
        for _ in range(MAX_POLL_ROUNDS):
            answer = self._call("response", {"ResponseID": current})
            for item in _items(answer, "claim", "response"):
                report = _status_report(item)
                if report is not None:
                    reports.append(report)
            next_cursor = _text(answer.get("last_responseid"))
            if not next_cursor or next_cursor == current:
                break
            current = next_cursor
        else:
            # The reports so far are complete up to `current`; the next poll carries on from there.
            log.warning("Claim.MD response: cursor still moving after %d rounds", MAX_POLL_ROUNDS)
        return PollResult(reports=tuple(reports), cursor=current)

    def list_remittances(self, cursor: str) -> RemittanceList:
        """ERAs newer than `cursor` (an eraid); the new cursor is the largest eraid seen."""
        notices: dict[str, RemittanceNotice] = {}
        seen: set[str] = set()
        fields = {"ERAID": cursor} if cursor else {}
        # NewOnly=0: "new" is Claim.MD's idea of what was downloaded, which a crash between listing and
        # fetching would break; the ERAID cursor is ours, stored only once the 835s are safely in.
        fields["NewOnly"] = "0"
        for page in range(1, MAX_LIST_PAGES + 1):
            answer = self._call("eralist", {**fields, "Page": str(page)})
            items = _items(answer, "era", "eralist")
            new_ids = {_text(item.get("eraid")) for item in items} - seen
            if not new_ids:  # an empty page is the end; a page of nothing new means the service ignores Page
                break
            seen |= new_ids
            for item in items:
                notice = _remittance_notice(item)
                if notice is not None and _is_after(notice.reference, cursor):
                    notices[notice.reference] = notice
        else:
            log.warning("Claim.MD eralist: stopped after %d pages", MAX_LIST_PAGES)
        ordered = sorted(notices.values(), key=lambda notice: _eraid_order(notice.reference))
        return RemittanceList(notices=tuple(ordered), cursor=ordered[-1].reference if ordered else cursor)

    def fetch_remittance(self, notice: RemittanceNotice) -> str:
        """The 835 text of one ERA."""
        response = self._post("era835", {"eraid": notice.reference})
        return self._x12_answer("era835", response, f"an 835 for ERA {notice.reference}")

    def check_eligibility(self, inquiry: str) -> str:
        """Send one 270 to `elig/` (multipart, like an upload); Claim.MD answers with the payer's 271."""
        response = self._post("elig", {}, files={"File": ("inquiry.270", inquiry.encode("utf-8"), "text/plain")})
        return self._x12_answer("elig", response, "a 271")

    def _x12_answer(self, service: str, response: requests.Response, what: str) -> str:
        """An X12 file answered as the body itself, or as JSON `data` (a string or a list of strings)."""
        body = _body(response)
        if body.lstrip("\ufeff \r\n\t").startswith("ISA"):
            return body.lstrip("\ufeff \r\n\t")  # some accounts get the file itself, not JSON
        answer = self._json(service, response)
        self._raise_for_errors(service, answer)
        data = answer.get("data")
        if isinstance(data, list) and all(isinstance(part, str) for part in data):
            data = "".join(data)
        if not isinstance(data, str) or not data.lstrip().startswith("ISA"):
            raise ClearinghouseError(f"Claim.MD {service} answered without {what}")
        return data.lstrip()

    # ------------------------------------------------------------ HTTP

    def _call(self, service: str, fields: dict[str, str]) -> dict:
        """POST a form; the JSON answer (numbers as Decimal), refused when it carries `error[]`."""
        answer = self._json(service, self._post(service, fields), parse_float=Decimal)
        self._raise_for_errors(service, answer)
        return answer

    def _post(self, service: str, fields: dict[str, str], files: dict | None = None) -> requests.Response:
        url = f"{self.base_url}{service}/"
        data = {"AccountKey": self._account_key, **fields}
        try:
            # No redirects: requests would turn a redirected POST into a GET and drop the form.
            response = self.session.post(url, data=data, files=files, headers={"Accept": "application/json"},
                                         timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.Timeout:
            raise ClearinghouseUnavailable(f"Claim.MD did not answer the {service} request in time") from None
        except CONFIGURATION_ERRORS as error:
            raise ClearinghouseError(f"the Claim.MD address {self.base_url!r} is not usable: "
                                     f"{type(error).__name__}") from None
        except requests.exceptions.RequestException as error:
            # Connection refused or reset, DNS, TLS, an answer cut off: nothing usable came back.
            raise ClearinghouseUnavailable(f"could not reach Claim.MD for the {service} request "
                                           f"({type(error).__name__})") from None
        status = response.status_code
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise ClearinghouseUnavailable(f"Claim.MD answered the {service} request with HTTP {status}; "
                                           "try again later")
        if status >= 300:
            raise ClearinghouseError(f"Claim.MD refused the {service} request with HTTP {status}")
        return response

    @staticmethod
    def _json(service: str, response: requests.Response, parse_float=None) -> dict:
        try:
            answer = json.loads(_body(response), parse_float=parse_float)
        except ValueError:
            raise ClearinghouseError(f"Claim.MD answered the {service} request with something that is not "
                                     "JSON") from None
        if not isinstance(answer, dict):
            raise ClearinghouseError(f"Claim.MD answered the {service} request with JSON that is not an object")
        return answer

    @staticmethod
    def _raise_for_errors(service: str, answer: dict) -> None:
        errors = [_error_text(item) for item in _items(answer, "error", service)]
        if errors:
            raise ClearinghouseError(f"Claim.MD refused the {service} request: {'; '.join(errors)}")


# ---------------------------------------------------------------- reading answers


def _body(response: requests.Response) -> str:
    """The body as text: the charset the answer names, else UTF-8 (JSON's own encoding), never a guess."""
    content_type = response.headers.get("Content-Type", "")
    charset = "utf-8"
    if "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(' "\'') or "utf-8"
    try:
        return response.content.decode(charset, errors="replace")
    except LookupError:
        return response.content.decode("utf-8", errors="replace")


def _items(answer: dict, key: str, service: str) -> list[dict]:
    """`answer[key]` as a list of objects; a lone object counts as a list of one (XML-born JSON does that)."""
    value = answer.get(key)
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise ClearinghouseError(f"Claim.MD answered the {service} request with a {key!r} that is not a list of objects")


def _text(value: Any) -> str:
    """An id or label as text: Claim.MD sends ids as strings or numbers, and absent ones as null."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return ""
    return str(value).strip()


def _error_text(item: dict) -> str:
    code, message = _text(item.get("error_code")), _text(item.get("error_mesg"))
    if code and message:
        return f"{message} (error {code})"
    return message or (f"error {code}" if code else "an error without a message")


def _is_authentication_error(answer: dict) -> bool:
    """Whether an `error[]` is about the AccountKey (a setup problem) rather than the file's content.
    Claim.MD does not publish its error codes, so this reads the message."""
    messages = " ".join(_text(item.get("error_mesg")) for item in _items(answer, "error", "upload"))
    squeezed = messages.lower().replace(" ", "")
    return "accountkey" in squeezed


def _message_texts(item: dict) -> tuple[str, ...]:
    messages = item.get("messages")
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return ()
    texts = (_text(message.get("message")) for message in messages if isinstance(message, dict))
    return tuple(text for text in texts if text)


def _claim_receipt(item: dict) -> ClaimReceipt:
    return ClaimReceipt(patient_control_number=_text(item.get("pcn")),
                        accepted=_text(item.get("status")).upper() == "A",
                        clearinghouse_claim_id=_text(item.get("claimid")) or _text(item.get("remote_claimid")),
                        messages=_message_texts(item))


def _status_report(item: dict) -> ClaimStatusReport | None:
    status = _text(item.get("status")).upper()
    category = STATUS_CATEGORIES.get(status)
    pcn = _text(item.get("pcn"))
    claim_id = _text(item.get("claimmd_id")) or _text(item.get("claimid"))
    if category is None or not (pcn or claim_id):
        # Skipped, not fatal: one odd item must not block every later status behind the cursor.
        log.warning("Claim.MD response: skipped a claim status %r for claim %s", status, claim_id or "?")
        return None
    return ClaimStatusReport(patient_control_number=pcn, category=category, status_code="",
                             message="; ".join(_message_texts(item)),
                             payer_claim_number=_text(item.get("remote_claimid")),
                             effective_date=_date(item.get("response_time")),
                             charge_cents=_cents(item.get("total_charge")),
                             clearinghouse_claim_id=claim_id)


def _remittance_notice(item: dict) -> RemittanceNotice | None:
    eraid = _text(item.get("eraid"))
    if not eraid:
        log.warning("Claim.MD eralist: skipped an ERA without an eraid")
        return None
    return RemittanceNotice(reference=eraid, payer_name=_text(item.get("payer_name")),
                            payer_id=_text(item.get("payerid")), check_number=_text(item.get("check_number")),
                            paid_on=_date(item.get("paid_date")), amount_cents=_cents(item.get("paid_amount")))


def _eraid_order(eraid: str) -> tuple[int, int, str]:
    """Numeric eraids compare as numbers ("9" before "10"); anything else after them, as text."""
    return (0, int(eraid), "") if eraid.isdigit() else (1, 0, eraid)


def _is_after(eraid: str, cursor: str) -> bool:
    # Filtered here too, in case the service ignores ERAID and lists everything again.
    return not cursor or _eraid_order(eraid) > _eraid_order(cursor)


def _upload_key(item: dict) -> str:
    return _text(item.get("fileid")) or _text(item.get("filename")) + "|" + _text(item.get("filetime"))


def _date(value: Any) -> date | None:
    """A date from YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD (a time after it is ignored); None otherwise."""
    text = _text(value)
    if not text:
        return None
    day_part = text.replace("T", " ").split(" ")[0]
    for pattern in PAID_DATE_FORMATS:
        try:
            return datetime.strptime(day_part, pattern).date()
        except ValueError:
            continue
    return None


def _cents(value: Any) -> int | None:
    """An amount in dollars ("1,234.50", 1234.5 parsed as Decimal, "$12") as integer cents; None when it is
    not a whole number of cents."""
    if isinstance(value, bool) or value is None:
        return None
    text = _text(value).replace(",", "").replace("$", "")
    if not text:
        return None
    try:
        cents = Decimal(text) * 100
    except InvalidOperation:
        return None
    if not cents.is_finite() or cents != cents.to_integral_value():
        return None
    return int(cents)
