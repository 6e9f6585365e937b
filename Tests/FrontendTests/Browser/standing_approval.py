"""Drives the operator page in headless Chromium through a standing decision: waits for a held
request, clicks "Approve for 10 min", checks the standing decision is listed, then waits until
the history shows both the operator's approval from the page and the next identical request
approved by the standing decision (the test sends that request once the decision exists).

Usage: standing_approval.py URL AUTHORIZATION HOST SECRET

Exit 0 on success; any failure prints a reason and exits non-zero.
"""
import os
import sys
import time

os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for drivers on the network

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def wait_for(predicate, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def history(driver):
    # Read in one script call: the page rebuilds its rows every 2 seconds, which would make
    # elements found one by one go stale.
    return driver.execute_script(
        "return [...document.querySelectorAll('#history tr')].map(r => [...r.cells].map(c => c.textContent))"
    )


def main():
    url, authorization, host, secret = sys.argv[1:5]
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": authorization}})
        driver.get(url)
        row = wait_for(lambda: next(iter(driver.find_elements(By.CSS_SELECTOR, "#held tr")), None), "a held request")
        if host not in row.text:
            sys.exit(f"the row does not name {host}: {row.text!r}")
        button = row.find_element(By.CSS_SELECTOR, 'button[data-decision="approve"][data-for="600"]')
        if button.text != "Approve for 10 min":
            sys.exit(f"unexpected button label {button.text!r}")
        button.click()
        wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, "#held tr"), "the row to disappear")
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
