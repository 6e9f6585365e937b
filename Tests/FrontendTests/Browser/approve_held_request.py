"""Drives the operator page in headless Chromium: waits for a held request to appear, checks it
shows the host and a masked preview, clicks Approve, and waits for the row to go away.

Usage: approve_held_request.py URL AUTHORIZATION HOST SECRET

AUTHORIZATION is sent with every request the page makes, as a browser does once the operator
has answered its Basic-auth prompt.
Exit 0 on success; any failure prints a reason and exits non-zero.
"""
import sys

from selenium.webdriver.common.by import By

from operator_browser import open_page, wait_for


def main():
    url, authorization, host, secret = sys.argv[1:5]
    driver = open_page(url, authorization)
    try:
        row = wait_for(lambda: next(iter(driver.find_elements(By.CSS_SELECTOR, "#held tr")), None), "a held request")
        text = row.text
        if host not in text:
            sys.exit(f"the row does not name {host}: {text!r}")
        if secret in driver.page_source:
            sys.exit("the page shows the whole secret")
        row.find_element(By.CSS_SELECTOR, 'button[data-decision="approve"]:not([data-for])').click()
        wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, "#held tr"), "the row to disappear")
        print("approved: " + text.replace("\n", " | "))
    finally:
        driver.quit()


main()
