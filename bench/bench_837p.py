"""837P writer and gate: claims written per second, and how long pyx12 plus our rules take on the batch.

Run from the repository root: `.venv/bin/python bench/bench_837p.py [--claims 5000] [--rounds 5]`.
The claims look like a group practice's month: individual sessions, intakes with interactive
complexity, crisis sessions with add-on units, family therapy, telehealth from home, dependants on a
parent's policy, a few replacements and voids.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from app.x12.claim_data import (  # noqa: E402 - after the path set-up above
    Address, Batch, BillingProvider, Claim, Patient, Payer, Receiver, RenderingProvider, ServiceLine, Subscriber,
    Submitter,
)
from app.x12.validate import validate_x12  # noqa: E402
from app.x12.writer_837p import write_837p  # noqa: E402

#: (codes with units and charge in cents) for one visit; add-ons ride with their parent code.
VISITS = [
    [("90834", 1, 15000)],
    [("90834", 1, 15000)],
    [("90837", 1, 19000)],
    [("90832", 1, 9500)],
    [("90791", 1, 22000), ("90785", 1, 2500)],
    [("90839", 1, 21000), ("90840", 2, 10000)],
    [("90847", 1, 16000)],
    [("96127", 2, 1500), ("90834", 1, 15000)],
    [("H0004", 4, 2200)],
]
DIAGNOSES = ["F41.1", "F32.1", "F33.1", "F43.10", "F43.23", "F32.A", "F90.2", "F40.10", "F42.2", "F51.01", "Z63.0",
             "F10.10", "F60.3", "F84.0"]
PAYERS = [Payer(name="Cascade Health Plan", payer_id="93221", filing_indicator="CI"),
          Payer(name="Medicare Part B", payer_id="02402", filing_indicator="MB"),
          Payer(name="State Medicaid", payer_id="SKOR0", filing_indicator="MC"),
          Payer(name="Blue Plan", payer_id="00851", filing_indicator="BL")]
CLINICIANS = [RenderingProvider(last_name="Okafor", first_name="Grace", npi="1234567893", taxonomy="1041C0700X"),
              RenderingProvider(last_name="Lindqvist", first_name="Sven", npi="1000000004", taxonomy="101YM0800X"),
              None]  # None: the billing provider saw the client
FIRST_NAMES = ["Ana", "Bao", "Chloe", "Dev", "Elena", "Femi", "Gus", "Hana", "Ivan", "Jade"]
LAST_NAMES = ["Rivera", "Nguyen", "Smith", "Okoro", "Kowalski", "Haddad", "Tanaka", "Brown", "Silva", "Moreau"]


def make_claims(count: int, seed: int = 2026) -> list[Claim]:
    pick = random.Random(seed)
    start = date(2026, 2, 1)
    households = []
    for number in range(max(1, count // 6)):  # clients come back several times a month
        address = Address(line1=f"{pick.randint(1, 9999)} {pick.choice(LAST_NAMES)} St", city="Portland",
                          state="OR", zip_code=f"972{pick.randint(10, 99)}")
        holder = Subscriber(member_id=f"W{pick.randint(10**8, 10**9 - 1)}", group_number=f"G{number % 40:03d}",
                            last_name=pick.choice(LAST_NAMES), first_name=pick.choice(FIRST_NAMES),
                            birth_date=date(pick.randint(1950, 2000), pick.randint(1, 12), pick.randint(1, 28)),
                            sex=pick.choice("FM"), address=address)
        dependant = None
        if pick.random() < 0.3:
            dependant = Patient(last_name=holder.last_name, first_name=pick.choice(FIRST_NAMES),
                                birth_date=date(pick.randint(2008, 2020), pick.randint(1, 12), pick.randint(1, 28)),
                                sex=pick.choice("FM"), address=address, relationship=pick.choice(["19", "19", "01"]))
        households.append((holder, dependant, pick.choice(PAYERS)))
    claims = []
    for number in range(count):
        holder, dependant, payer = pick.choice(households)
        day = start + timedelta(days=pick.randint(0, 27))
        telehealth = pick.random() < 0.35
        diagnoses = tuple(pick.sample(DIAGNOSES, pick.choice([1, 1, 2, 3, 4])))
        lines = tuple(
            ServiceLine(line_id=f"{number}-{index}", procedure_code=code, charge_cents=cents * units, units=units,
                        service_date=day, diagnosis_pointers=tuple(range(1, min(len(diagnoses), 4) + 1)),
                        modifiers=("95",) if telehealth else ())
            for index, (code, units, cents) in enumerate(pick.choice(VISITS), start=1)
        )
        frequency = pick.choices(["1", "7", "8"], weights=[96, 3, 1])[0]
        claims.append(Claim(
            patient_control_number=f"S{number:08d}", place_of_service="10" if telehealth else "11",
            diagnoses=diagnoses, lines=lines, subscriber=holder, payer=payer,
            patient=dependant if dependant and pick.random() < 0.5 else None,
            rendering_provider=pick.choice(CLINICIANS), frequency_code=frequency,
            payer_claim_control_number="" if frequency == "1" else f"PAYER{number:010d}",
        ))
    return claims


def make_batch(claims: list[Claim]) -> Batch:
    return Batch(
        interchange_control_number=1001, group_control_number=1001, transaction_control_number=1001,
        created_at=datetime(2026, 3, 1, 9, 0), usage_indicator="T", sender_id="PARITY01", receiver_id="CLAIMMD",
        submitter=Submitter(name="Calm Harbor Counseling", identifier="CH12345", contact_name="Mia Chen",
                            phone="5035550100"),
        receiver=Receiver(name="Claim.MD", identifier="CLAIMMD"),
        billing_provider=BillingProvider(name="Calm Harbor Counseling LLC", npi="2000000002", taxonomy="261QM0801X",
                                         tax_id="123456789", address=Address(line1="120 Harbor Way", city="Portland",
                                                                             state="OR", zip_code="972013344")),
        claims=tuple(claims),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5, help="timed writes; the best is reported")
    arguments = parser.parse_args()

    claims = make_claims(arguments.claims)
    batch = make_batch(claims)
    lines = sum(len(claim.lines) for claim in claims)

    write_837p(batch)  # warm-up
    timings = []
    for _ in range(arguments.rounds):
        started = time.perf_counter()
        text = write_837p(batch)
        timings.append(time.perf_counter() - started)
    best, median = min(timings), sorted(timings)[len(timings) // 2]
    print(f"claims: {len(claims)} ({lines} lines), file {len(text) / 1024:.0f} KiB, "
          f"{text.count('~')} segments")
    print(f"write_837p: best {best * 1000:.1f} ms ({len(claims) / best:,.0f} claims/s), "
          f"median {median * 1000:.1f} ms ({len(claims) / median:,.0f} claims/s)")

    started = time.perf_counter()
    result = validate_x12(text)
    first = time.perf_counter() - started
    started = time.perf_counter()
    validate_x12(text)
    second = time.perf_counter() - started
    print(f"validate_x12: {first:.2f} s the first time (loads pyx12's map), {second:.2f} s again "
          f"({len(claims) / second:,.0f} claims/s); ok={result.ok}")
    if not result.ok:
        for error in result.errors[:20]:
            print("  ", error)
        sys.exit(1)


if __name__ == "__main__":
    main()
