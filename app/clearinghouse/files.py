"""The `files` clearinghouse: for any clearinghouse Parity has no API for (Office Ally, Availity, Waystar …).
People download 837P batches from the claims page (their claims become Sent) and upload the 999, 277CA and
835 files they receive; the worker has nothing to send or poll. Eligibility the same way: people download a
check's 270 from the client's page and upload the 271 they get back."""
from app.clearinghouse.base import (ClearinghouseError, PollResult, RemittanceList, RemittanceNotice,
                                    UploadReceipt)


class Files:
    name = "files"
    automated = False

    def upload(self, filename: str, content: str) -> UploadReceipt:
        raise ClearinghouseError("This practice sends claims as files: download the batch from the claims page.")

    def find_upload(self, filename: str) -> UploadReceipt | None:
        return None

    def poll(self, cursor: str) -> PollResult:
        return PollResult(cursor=cursor)

    def list_remittances(self, cursor: str) -> RemittanceList:
        return RemittanceList(cursor=cursor)

    def fetch_remittance(self, notice: RemittanceNotice) -> str:
        raise ClearinghouseError("This practice uploads 835 files on the Remittances page.")

    def check_eligibility(self, inquiry: str) -> str:
        raise ClearinghouseError("This practice moves files by hand: download the 270 from the client's page and "
                                 "upload the 271 you get back.")
