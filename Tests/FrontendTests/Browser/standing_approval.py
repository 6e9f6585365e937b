"""Drives the operator page in headless Chromium through a standing decision: waits for a held
request, clicks "Approve for 10 min", checks the standing decision is listed, then waits until
the history shows both the operator's approval from the page and the next identical request
approved by the standing decision (the test sends that request once the decision exists).

Usage: standing_approval.py URL AUTHORIZATION HOST SECRET

Exit 0 on success; any failure prints a reason and exits non-zero.
"""
import sys

from operator_browser import click, held_rows, open_page, wait_for


def history(driver):
    # Read in one script call: the page rebuilds its rows every 2 seconds, which would make
    # elements found one by one go stale.
    return driver.execute_script(
        "return [...document.querySelectorAll('#history tr')].map(r => [...r.cells].map(c => c.textContent))"
    )


def main():
    url, authorization, host, secret = sys.argv[1:5]
    driver = open_page(url, authorization)
    try:
        rows = wait_for(lambda: held_rows(driver), "a held request")
        if host not in " ".join(rows[0]):
            sys.exit(f"the row does not name {host}: {rows[0]!r}")
        label = driver.execute_script(
            "const b = document.querySelector('#held tr button[data-decision=\"approve\"][data-for=\"600\"]'); return b ? b.textContent : null"
        )
        if label != "Approve for 10 min":
            sys.exit(f"unexpected button label {label!r}")
        wait_for(lambda: click(driver, '#held tr button[data-decision="approve"][data-for="600"]'), "the button")
        wait_for(lambda: not held_rows(driver), "the row to disappear")
        rule = wait_for(
            lambda: driver.execute_script(
                "const r = document.querySelector('#rules tr'); return r ? [...r.cells].map(c => c.textContent) : null"
            ),
            "the standing decision",
        )
        if rule[0] != "approve" or rule[2] != host or rule[6] != "page":
            sys.exit(f"the standing decision row is wrong: {rule!r}")
        print("standing: " + " | ".join(rule), flush=True)

        def both():
            rows = history(driver)
            statuses = [(cells[1], cells[2].split(" ")[0]) for cells in rows if len(cells) > 2]
            return rows if ("approved", "page") in statuses and ("approved", "rule") in statuses else None

        rows = wait_for(both, "the history to show the page's approval and the standing decision's")
        if secret in driver.page_source:
            sys.exit("the page shows the whole secret")
        for cells in rows:
            print("history: " + " | ".join(cells))
    finally:
        driver.quit()


main()
