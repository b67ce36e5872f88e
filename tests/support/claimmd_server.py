"""A local HTTP server that speaks the Claim.MD services API, for tests of the `claimmd` adapter and the jobs.

    with ClaimMDServer(account_key="test-key") as server:
        adapter = ClaimMD("test-key", base_url=server.url)

It serves `upload/`, `uploadlist/`, `response/`, `eralist/`, `era835/` and `elig/` (a 270 in, the payer's 271
back as the body, text/plain) under `/services/`, keeps
everything in memory behind one lock, and has knobs for the failures a real clearinghouse has: refused
claims and files, HTTP errors, slow answers, and an upload that arrives but whose answer never does.

Choices where Claim.MD's documentation says little, kept close to what its clients see:
- A wrong AccountKey answers HTTP 200 with `{"error": [{"error_code": "AUTH", "error_mesg": "Invalid
  AccountKey"}]}`: Claim.MD reports its own refusals in the body, not in the HTTP status.
- Without `Accept: application/json` the answer is XML (Claim.MD's default), which the adapter must not get.
- Every claim of an upload gets a `response/` entry on receipt, with the status the upload answered.
- Response ids, file ids, claim ids and ERA ids are increasing integers, sent as strings.
"""
from __future__ import annotations

import collections
import email.parser
import email.policy
import itertools
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable

from app.x12 import eligibility
from app.x12.inbound import X12ReadError

SERVICES = ("upload", "uploadlist", "response", "eralist", "era835", "elig")


@dataclass(frozen=True)
class UploadedFile:
    fileid: str
    batchid: str
    filename: str
    text: str
    received_at: str  #: filetime, "YYYY-MM-DD HH:MM:SS"
    patient_control_numbers: tuple[str, ...]


@dataclass
class StoredClaim:
    claimid: str
    pcn: str
    total_charge: str
    fileid: str
    batchid: str
    status: str
    messages: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class StoredResponse:
    responseid: int
    claim: StoredClaim | None
    pcn: str
    status: str
    message: str
    remote_claimid: str
    response_time: str


@dataclass
class StoredEra:
    eraid: int
    text: str
    payer_name: str
    payer_id: str
    check_number: str
    paid_amount: str
    paid_date: str
    downloaded: bool = False


@dataclass
class RawAnswer:
    body: str
    content_type: str
    status: int


class ClaimMDServer:
    """In-memory Claim.MD on 127.0.0.1, on a free port. `url` is the base URL, ending in "/services/"."""

    def __init__(self, account_key: str = "test-key", *, responses_per_page: int = 100,
                 eras_per_page: int = 100, uploads_per_page: int = 100) -> None:
        self.account_key = account_key
        self.responses_per_page = responses_per_page
        self.eras_per_page = eras_per_page
        self.uploads_per_page = uploads_per_page
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1001)
        self._response_ids = itertools.count(1)
        self._era_ids = itertools.count(5001)
        self._files: list[UploadedFile] = []
        self._claims: list[StoredClaim] = []
        self._responses: list[StoredResponse] = []
        self._eras: list[StoredEra] = []
        self._requests: list[tuple[str, dict[str, str]]] = []
        self._rejected_pcns: dict[str, str] = {}
        self._file_refusals: collections.deque[str] = collections.deque()
        self._failures: collections.deque[int] = collections.deque()
        self._delays: collections.deque[float] = collections.deque()
        self._raw_answers: collections.deque[RawAnswer] = collections.deque()
        self._drop_next_upload = False
        self._eligibility: dict[str, tuple[bool | None, tuple[str, str] | None]] = {}
        self._inquiries: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ life cycle

    def start(self) -> ClaimMDServer:
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        # A short poll interval: shutdown() waits for the serving loop to look up, 0.5 s by default.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="claimmd-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in delay_next
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> ClaimMDServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the Claim.MD test server is not running: call start() or use it in a with block")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/services/"

    # ------------------------------------------------------------ knobs

    def reject_claims(self, pcns: Iterable[str], message: str = "Subscriber ID is invalid") -> None:
        """Claims with these patient control numbers answer status R with `message` (until changed)."""
        with self._lock:
            self._rejected_pcns.update({pcn: message for pcn in pcns})

    def reject_next_file(self, error_mesg: str = "The file could not be read") -> None:
        """The next upload answers `error[]` and no claims; nothing of it is kept."""
        with self._lock:
            self._file_refusals.append(error_mesg)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next n requests answer HTTP `status` without doing anything."""
        with self._lock:
            self._failures.extend([status] * n)

    def delay_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """The next n requests sleep `seconds` first, then answer normally (an upload is still received)."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def drop_after_receiving_next_upload(self) -> None:
        """The next upload is received and kept, then the connection closes without an answer."""
        with self._lock:
            self._drop_next_upload = True

    def answer_next_with(self, body: str, content_type: str = "application/json", status: int = 200) -> None:
        """The next request gets exactly this answer, whatever it asked (a malformed or unexpected body)."""
        with self._lock:
            self._raw_answers.append(RawAnswer(body, content_type, status))

    def add_response(self, pcn: str, status: str, message: str = "", remote_claimid: str = "") -> int:
        """A later status for a claim (e.g. the payer's acceptance or rejection); returns its response id."""
        with self._lock:
            claim = next((claim for claim in reversed(self._claims) if claim.pcn == pcn), None)
            return self._add_response(claim, pcn, status, message, remote_claimid)

    def add_era(self, text: str, *, payer_name: str = "Cascade Health Plan", payer_id: str = "93221",
                check_number: str = "", paid_amount: str | Decimal = "0.00", paid_date: str = "") -> str:
        """An 835 waiting for the practice; returns its eraid."""
        with self._lock:
            era = StoredEra(eraid=next(self._era_ids), text=text, payer_name=payer_name, payer_id=payer_id,
                            check_number=check_number, paid_amount=str(paid_amount), paid_date=paid_date)
            self._eras.append(era)
            return str(era.eraid)

    def answer_eligibility(self, member_id: str, *, active: bool | None = True,
                           rejection: tuple[str, str] | None = None) -> None:
        """How the payer answers 270s for this member ID: active (a $25 copay, 20 % coinsurance), inactive, or an
        AAA rejection (AAA03, AAA04). Member IDs never set answer active."""
        with self._lock:
            self._eligibility[member_id] = (active, rejection)

    def inquiries(self) -> list[str]:
        """The 270s received by `elig/`, in order."""
        with self._lock:
            return list(self._inquiries)

    # ------------------------------------------------------------ what arrived

    def received_claims(self) -> collections.Counter[str]:
        """How many times each patient control number arrived in a kept upload."""
        with self._lock:
            return collections.Counter(pcn for file in self._files for pcn in file.patient_control_numbers)

    def uploaded_files(self) -> list[UploadedFile]:
        with self._lock:
            return list(self._files)

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """(service, form fields without AccountKey) per request, in order; a file field shows its filename."""
        with self._lock:
            return list(self._requests)

    # ------------------------------------------------------------ serving (called by the handler)

    def _add_response(self, claim: StoredClaim | None, pcn: str, status: str, message: str,
                      remote_claimid: str) -> int:
        response = StoredResponse(responseid=next(self._response_ids), claim=claim, pcn=pcn, status=status,
                                  message=message, remote_claimid=remote_claimid,
                                  response_time=time.strftime("%Y-%m-%d %H:%M:%S"))
        self._responses.append(response)
        return response.responseid

    def _before_answer(self, service: str, fields: dict[str, str]) -> tuple[float, int | None, RawAnswer | None]:
        """Record the request and take the knobs it consumes: (delay, failure status, raw answer)."""
        with self._lock:
            self._requests.append((service, {name: value for name, value in fields.items() if name != "AccountKey"}))
            delay = self._delays.popleft() if self._delays else 0.0
            failure = self._failures.popleft() if self._failures else None
            raw = self._raw_answers.popleft() if failure is None and self._raw_answers else None
            return delay, failure, raw

    def _serve(self, service: str, fields: dict[str, str], files: dict[str, tuple[str, str]]) -> dict | None:
        """The JSON answer to one authenticated request, or None to close the connection unanswered."""
        with self._lock:
            if service == "upload":
                return self._upload(fields, files)
            if service == "uploadlist":
                return self._upload_list(fields)
            if service == "response":
                return self._response_list(fields)
            if service == "eralist":
                return self._era_list(fields)
            if service == "elig":
                return self._elig(files)
            return self._era_835(fields)

    def _upload(self, fields: dict[str, str], files: dict[str, tuple[str, str]]) -> dict | None:
        if "File" not in files:
            return _errors("FILE", "No file was uploaded")
        part_filename, text = files["File"]
        filename = fields.get("Filename") or part_filename
        if self._file_refusals:
            return _errors("FILE", self._file_refusals.popleft())
        claim_segments = _claim_segments(text)
        if not claim_segments:
            return _errors("FILE", "The file holds no CLM segments")
        fileid, batchid = str(next(self._ids)), str(next(self._ids))
        answered: list[dict] = []
        for pcn, total in claim_segments:
            claim = StoredClaim(claimid=str(next(self._ids)), pcn=pcn, total_charge=total, fileid=fileid,
                                batchid=batchid, status="A")
            if pcn in self._rejected_pcns:
                claim.status = "R"
                claim.messages = [{"status": "R", "message": self._rejected_pcns[pcn], "fields": "ins_number",
                                   "mesgid": str(next(self._ids))}]
            self._claims.append(claim)
            self._add_response(claim, pcn, claim.status, "; ".join(m["message"] for m in claim.messages), "")
            answered.append({"claimid": claim.claimid, "remote_claimid": "", "pcn": pcn, "fileid": fileid,
                             "batchid": batchid, "status": claim.status, "messages": claim.messages})
        self._files.append(UploadedFile(fileid=fileid, batchid=batchid, filename=filename, text=text,
                                        received_at=time.strftime("%Y-%m-%d %H:%M:%S"),
                                        patient_control_numbers=tuple(pcn for pcn, _ in claim_segments)))
        if self._drop_next_upload:
            self._drop_next_upload = False
            return None
        return {"claim": answered, "error": []}

    def _upload_list(self, fields: dict[str, str]) -> dict:
        page = _page(fields)
        newest_first = list(reversed(self._files))
        chosen = newest_first[(page - 1) * self.uploads_per_page:page * self.uploads_per_page]
        return {"upload": [{"fileid": file.fileid, "filename": file.filename, "filetime": file.received_at,
                            "claimcount": str(len(file.patient_control_numbers))} for file in chosen]}

    def _response_list(self, fields: dict[str, str]) -> dict:
        after = fields.get("ResponseID", "0") or "0"
        if not after.isdigit():
            return _errors("PARAM", f"ResponseID {after!r} is not a number")
        claim_id = fields.get("ClaimID", "")
        newer = [response for response in self._responses if response.responseid > int(after)
                 and (not claim_id or (response.claim and response.claim.claimid == claim_id))]
        chosen = newer[:self.responses_per_page]
        last = str(chosen[-1].responseid) if chosen else after
        return {"last_responseid": last, "claim": [_response_item(response) for response in chosen]}

    def _era_list(self, fields: dict[str, str]) -> dict:
        after = fields.get("ERAID", "")
        if after and not after.isdigit():
            return _errors("PARAM", f"ERAID {after!r} is not a number")
        page = _page(fields)
        eras = [era for era in self._eras if not after or era.eraid > int(after)]
        if fields.get("NewOnly") == "1":
            eras = [era for era in eras if not era.downloaded]
        chosen = eras[(page - 1) * self.eras_per_page:page * self.eras_per_page]
        return {"era": [{"eraid": str(era.eraid), "payerid": era.payer_id, "payer_name": era.payer_name,
                         "check_number": era.check_number, "paid_date": era.paid_date,
                         "paid_amount": era.paid_amount, "prov_npi": "", "prov_taxid": ""} for era in chosen]}

    def _elig(self, files: dict[str, tuple[str, str]]) -> dict | RawAnswer:
        if "File" not in files:
            return _errors("FILE", "No 270 file was uploaded")
        text = files["File"][1]
        try:
            asked = eligibility.read_270(text)
        except X12ReadError as error:
            return _errors("FILE", f"The 270 could not be read: {error}")
        self._inquiries.append(text)
        active, rejection = self._eligibility.get(asked.member_id, (True, None))
        lines = [eligibility.BenefitLine(code="1", plan_name="CLAIMMD TEST PLAN")] if active else \
            [eligibility.BenefitLine(code="6")]
        if active:
            lines += [eligibility.BenefitLine(code="B", service_types=("MH", "A6"), period="27", amount_cents=2500,
                                              in_network=True),
                      eligibility.BenefitLine(code="A", service_types=("MH", "A6"), percent=20, in_network=True)]
        answer = eligibility.write_271(asked, active=active if rejection is None else None, lines=lines,
                                       rejection=rejection, sender_id="CLAIMMD",
                                       interchange_control_number=next(self._ids),
                                       created_at=datetime.now(timezone.utc))
        return RawAnswer(answer, "text/plain", 200)

    def _era_835(self, fields: dict[str, str]) -> dict:
        eraid = fields.get("eraid", "")
        era = next((era for era in self._eras if str(era.eraid) == eraid), None)
        if era is None:
            return _errors("ERA", f"ERA {eraid!r} was not found")
        era.downloaded = True
        return {"data": era.text}


# ---------------------------------------------------------------- helpers


def _errors(code: str, message: str) -> dict:
    return {"error": [{"error_code": code, "error_mesg": message}]}


def _page(fields: dict[str, str]) -> int:
    page = fields.get("Page", "1")
    return max(int(page), 1) if page.isdigit() else 1


def _response_item(response: StoredResponse) -> dict:
    claim = response.claim
    messages = [{"status": response.status, "message": response.message}] if response.message else []
    return {"claimmd_id": claim.claimid if claim else "", "claimid": claim.claimid if claim else "",
            "remote_claimid": response.remote_claimid, "pcn": response.pcn, "payerid": "",
            "total_charge": claim.total_charge if claim else "", "fdos": "", "response_time": response.response_time,
            "status": response.status, "messages": messages}


def _claim_segments(text: str) -> list[tuple[str, str]]:
    """(CLM01, CLM02) of every CLM segment. The ISA names the separators by position (element separator at
    3, segment terminator at 105); a text without a full ISA is read with the usual * and ~."""
    stripped = text.lstrip()
    element, terminator = "*", "~"
    if stripped.startswith("ISA") and len(stripped) >= 106:
        element, terminator = stripped[3], stripped[105]
    claims = []
    for segment in stripped.split(terminator):
        parts = segment.strip().split(element)
        if parts[0] == "CLM" and len(parts) > 2:
            claims.append((parts[1], parts[2]))
    return claims


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Form fields and files ({name: (filename, text)}) of a multipart/form-data body, read with `email`."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str]] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, text)
        else:
            fields[name] = text
    return fields, files


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, claimmd: ClaimMDServer) -> None:
        self.claimmd = claimmd
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Also hang up kept-alive connections, so no handler thread outlives the server."""
        super().server_close()
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up makes the late answer fail; that is the point of the test.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the body ~40 ms
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # quiet tests

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._send(405, "text/plain", "Claim.MD services take POST only")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        claimmd = self.server.claimmd
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0].strip("/").split("/")
        if len(path) != 2 or path[0] != "services" or path[1] not in SERVICES:
            self._send(404, "text/plain", f"no such service: {self.path}")
            return
        service = path[1]
        content_type = self.headers.get("Content-Type", "")
        files: dict[str, tuple[str, str]] = {}
        if content_type.startswith("multipart/form-data"):
            fields, files = _parse_multipart(content_type, body)
        else:
            parsed = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
            fields = {name: values[-1] for name, values in parsed.items()}
        recorded = {**fields, **{name: filename for name, (filename, _) in files.items()}}
        delay, failure, raw = claimmd._before_answer(service, recorded)
        if delay:
            claimmd._stopping.wait(delay)
        if failure is not None:
            self._send(failure, "text/html", f"<html><body>HTTP {failure}</body></html>")
            return
        if raw is not None:
            self._send(raw.status, raw.content_type, raw.body)
            return
        if "application/json" not in self.headers.get("Accept", ""):
            self._send(200, "text/xml", '<?xml version="1.0"?><result><error error_code="FMT" '
                                        'error_mesg="XML is the default; ask for JSON with Accept"/></result>')
            return
        if fields.get("AccountKey") != claimmd.account_key:
            self._send_json(_errors("AUTH", "Invalid AccountKey"))
            return
        answer = claimmd._serve(service, fields, files)
        if answer is None:
            self._drop_connection()
            return
        if isinstance(answer, RawAnswer):
            self._send(answer.status, answer.content_type, answer.body)
            return
        self._send_json(answer)

    def _send_json(self, answer: dict) -> None:
        self._send(200, "application/json", json.dumps(answer))

    def _send(self, status: int, content_type: str, body: str) -> None:
        encoded = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def _drop_connection(self) -> None:
        """Hang up without a byte of answer: the client cannot know whether its request arrived."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
