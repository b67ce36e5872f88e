"""CMS place-of-service codes a behavioral-health practice uses (shared/domain.md). Plain data, so
documents rendered by a bare worker can name them without the database layer."""

PLACES_OF_SERVICE = {
    "02": "Telehealth, client not at home",
    "03": "School",
    "10": "Telehealth, client at home",
    "11": "Office",
    "12": "Client's home (in person)",
    "52": "Psychiatric facility, partial hospitalization",
    "53": "Community mental health center",
    "99": "Other place of service",
}

#: Telehealth belongs in POS 02 or 10; payers reject 11 with a telehealth modifier.
TELEHEALTH_PLACES = frozenset({"02", "10"})

#: The place of service a new session starts with, by modality: the office in person; telehealth with the
#: client at home (10), the usual case; 02 (telehealth from anywhere else) is chosen by hand.
DEFAULT_PLACES = {"in_person": "11", "video": "10", "audio": "10"}
