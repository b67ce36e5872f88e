"""How claims leave and answers come back: one protocol (`base.Clearinghouse`), three implementations
chosen per practice (`Practice.clearinghouse`): `sandbox` (the default; plays clearinghouse and payer),
`claimmd` (the Claim.MD HTTP API) and `files` (people download 837s and upload 999/277CA/835 files)."""
from __future__ import annotations

from app.clearinghouse.base import Clearinghouse, ClearinghouseError
from app.clearinghouse.claimmd import ClaimMD
from app.clearinghouse.files import Files
from app.clearinghouse.sandbox import Sandbox

NAMES = {"sandbox": "Sandbox (simulated payer, for trying Parity)", "claimmd": "Claim.MD",
         "files": "Files (download 837s, upload 999, 277CA and 835 files)"}


def for_practice(practice, *, claimmd_account_key: str | None, claimmd_url: str,
                 claimmd_timeout: float) -> Clearinghouse:
    """The practice's adapter, configured from its settings and the installation's: the practice's Claim.MD
    AccountKey in plain text (stored encrypted, decrypted by the caller), `claimmd_url`, and
    `claimmd_timeout` in seconds for one answer."""
    if practice.clearinghouse == "claimmd":
        if not claimmd_account_key:
            raise ClearinghouseError("Claim.MD needs the practice's AccountKey (Settings → Insurance).")
        return ClaimMD(claimmd_account_key, base_url=claimmd_url,
                       timeout=(min(5.0, claimmd_timeout), claimmd_timeout))
    if practice.clearinghouse == "sandbox":
        return Sandbox(practice.id)
    return Files()
