"""What the operator-page browser scripts share: headless Chromium from Debian's packages, driven
by Selenium offline, sending the operator's Authorization header with every request the page
makes (as a browser does once the operator has answered its Basic-auth prompt)."""
import os
import sys
import time

os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for drivers on the network

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def wait_for(predicate, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def open_page(url, authorization):
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": authorization}})
    driver.get(url)
    return driver


def held_rows(driver):
    """The held-request rows' cell texts, read in one call: the page rebuilds its rows every 2
    seconds, and elements found one by one would go stale."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#held tr')].map(r => [...r.cells].map(c => c.textContent))"
    )


def click(driver, selector):
    """Clicks the first element matching `selector` in the same call that finds it; False if none."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true", selector
    )
