"""Drives the operator page in headless Chromium: waits for a held request to appear, checks it
shows the host and a masked preview, clicks Approve, and waits for the row to go away.

Usage: approve_held_request.py URL AUTHORIZATION HOST SECRET

AUTHORIZATION is sent with every request the page makes, as a browser does once the operator
has answered its Basic-auth prompt.
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


def wait_for(predicate, what, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


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
        text = row.text
        if host not in text:
            sys.exit(f"the row does not name {host}: {text!r}")
        if secret in driver.page_source:
            sys.exit("the page shows the whole secret")
        row.find_element(By.CSS_SELECTOR, 'button[data-decision="approve"]').click()
        wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, "#held tr"), "the row to disappear")
        print("approved: " + text.replace("\n", " | "))
    finally:
        driver.quit()


main()
