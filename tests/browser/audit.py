"""The pages of the daily work, found the way a person finds them, and what is checked on each: that the page
fits the window without scrolling sideways, and what axe-core (vendored for tests only) reports."""
import re
from dataclasses import dataclass
from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"

#: The list pages whose first record is opened too, and the link that names such a record.
RECORDS = {
    "/sessions": r"^/sessions/\d+$",
    "/clients": r"^/clients/\d+$",
    "/bills": r"^/bills/\d+$",
    "/claims": r"^/claims/\d+$",
    "/remittances": r"^/remittances/\d+$",
}


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    nodes: int
    target: str


def hrefs(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "links => links.map(link => link.getAttribute('href'))")


def daily_pages(page) -> list[str]:
    """Every page in the member's navigation (main and settings), the denials queue, and the first record of each
    list the member sees: what a person of that role opens in a day."""
    page.goto("/")
    found = [href for href in hrefs(page, 'nav[aria-label="Main"] a') if href]
    settings = next((href for href in found if href.startswith("/settings")), None)
    if settings:
        page.goto(settings)
        found += [href for href in hrefs(page, 'nav[aria-label="Settings"] a') if href not in found]
    if "/claims" in found:
        found.append("/claims/denials")
    seen: list[str] = []  # every link on the lists and records opened, for records no list links to (sessions)
    for listing, pattern in RECORDS.items():
        if listing not in found:
            continue
        page.goto(listing)
        seen += hrefs(page, "main a[href]")
        record = next((href for href in seen if re.match(pattern, href or "")), None)
        if record:
            found.append(record)
            page.goto(record)
            seen += hrefs(page, "main a[href]")
    for listing, pattern in RECORDS.items():
        if listing in found and not any(re.match(pattern, href) for href in found):
            found += [href for href in seen if re.match(pattern, href or "")][:1]
    return list(dict.fromkeys(found))


def sideways(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the window)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page) -> list[Violation]:
    """axe-core's WCAG 2 A/AA violations on the page as it is shown."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a",
                                                                                  "wcag21aa", "best-practice"]}});
        return result.violations.map(v => ({rule: v.id, impact: v.impact || "minor", nodes: v.nodes.length,
                                            target: String(v.nodes[0].target)}));
    }""")
    return [Violation(**each) for each in result]


def serious(violations: list[Violation]) -> list[Violation]:
    return [each for each in violations if each.impact in ("serious", "critical")]
