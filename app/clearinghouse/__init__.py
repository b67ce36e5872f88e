"""How claims leave and answers come back: one protocol (`base.Clearinghouse`), three implementations
chosen per practice (`Practice.clearinghouse`): `sandbox` (the default; plays clearinghouse and payer),
`claimmd` (the Claim.MD HTTP API) and `files` (people download 837s and upload 999/277CA/835 files)."""
from __future__ import annotations

from flask import current_app

from app.clearinghouse.base import Clearinghouse, ClearinghouseError

NAMES = {"sandbox": "Sandbox (simulated payer, for trying Parity)", "claimmd": "Claim.MD",
         "files": "Files (download 837s, upload 999, 277CA and 835 files)"}


def for_practice(practice) -> Clearinghouse:
    """The practice's adapter, configured from its settings and the app's."""
    if practice.clearinghouse == "claimmd":
        from app.clearinghouse.claimmd import ClaimMD

        if not practice.claimmd_account_key:
            raise ClearinghouseError("Claim.MD needs the practice's AccountKey (Settings → Insurance).")
        timeout = current_app.config["CLAIMMD_TIMEOUT_SECONDS"]
        return ClaimMD(practice.claimmd_account_key, base_url=current_app.config["CLAIMMD_URL"],
                       timeout=(min(5.0, timeout), timeout))
    if practice.clearinghouse == "sandbox":
        from app.clearinghouse.sandbox import Sandbox

        return Sandbox(practice.id)
    from app.clearinghouse.files import Files

    return Files()
