"""Drives the operator page in headless Chromium: waits for a held request to appear, checks it
shows the host and a masked preview, clicks Approve, and waits for the row to go away.

Usage: approve_held_request.py URL AUTHORIZATION HOST SECRET

AUTHORIZATION is sent with every request the page makes, as a browser does once the operator
has answered its Basic-auth prompt.
Exit 0 on success; any failure prints a reason and exits non-zero.
"""
import sys

from operator_browser import click, held_rows, open_page, wait_for


def main():
    url, authorization, host, secret = sys.argv[1:5]
    driver = open_page(url, authorization)
    try:
        rows = wait_for(lambda: held_rows(driver), "a held request")
        text = " | ".join(rows[0])
        if host not in text:
            sys.exit(f"the row does not name {host}: {text!r}")
        if secret in driver.page_source:
            sys.exit("the page shows the whole secret")
        wait_for(lambda: click(driver, '#held tr button[data-decision="approve"]:not([data-for])'), "the Approve button")
        wait_for(lambda: not held_rows(driver), "the row to disappear")
        print("approved: " + text)
    finally:
        driver.quit()


main()
