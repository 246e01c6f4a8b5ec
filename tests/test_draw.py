"""draw.py: its API against a real server, bad requests, many requests at once, and the page in a real browser.

The browser tests drive Debian's Chromium through Selenium, with the system's chromedriver: nothing
is downloaded. Without them they skip and say why; with CI set they fail instead, since CI must run them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, drawn_seven, png, post, start_server
import draw
import pictures

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def test_a_drawn_digit_a_number_and_a_blank(server, test_digits):
    status, answer = post(server, drawn_seven())
    assert status == 200 and answer["prediction"] == "7"
    assert len(answer["inputs"]) == 1 and answer["inputs"][0].startswith("data:image/png;base64,")
    assert answer["classes"] == [str(d) for d in range(10)] and abs(sum(answer["probabilities"][0]) - 1) < 0.01
    # The same object predict.py --json prints, plus the inputs and every class's probability.
    assert {"path", "prediction", "probability", "top", "digits"} <= answer.keys()

    digits, labels = test_digits
    number = pictures.number_picture([digits[i] for i in (0, 1, 2)], np.random.default_rng(0))
    status, answer = post(server, png(number))
    assert status == 200 and answer["prediction"] == "".join(str(labels[i]) for i in (0, 1, 2))
    assert len(answer["inputs"]) == 3

    status, answer = post(server, png(Image.new("L", (280, 280), 255)))
    assert status == 400 and "no digit found" in answer["error"]


def test_bad_requests_get_their_status_and_the_server_goes_on(server):
    bomb = png(Image.new("L", (8000, 8000), 255))  # 64 megapixels in a few kB
    # 36 megapixels, which predict.py reads, but not the server; its header only, so that a server
    # that decoded it would say "truncated".
    header = png(Image.new("L", (6000, 6000), 255))[:200]
    cases = [
        (post(server, b"this is not an image"), 400, "not an image file"),
        (post(server, b""), 400, "empty request"),
        (post(server, bomb), 400, "image too large"),
        (post(server, header), 400, "image too large (6000x6000 pixels, more than 16,000,000)"),
        (post(server, b"x", path="/etc/passwd"), 404, "no such page"),
        (post(server, drawn_seven()[:200]), 400, "corrupt or truncated"),
    ]
    for (status, answer), expected_status, message in cases:
        assert status == expected_status and message in answer["error"], answer
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(server + "/draw.py", timeout=30)
    assert error.value.code == 404

    # A body over the limit is refused from its Content-Length, before it is sent.
    import http.client
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/predict")
    connection.putheader("Content-Length", str(50 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"only the first bytes")
    response = connection.getresponse()
    assert response.status == 413 and "too large" in json.loads(response.read())["error"]
    connection.close()

    # A JPEG of 35 megapixels is read, decoded at a sixteenth of that (images.shrink_while_decoding).
    assert post(server, pictures.jpeg(pictures.large_photo_of_ten()))[1]["prediction"] == "10"
    assert post(server, drawn_seven())[1]["prediction"] == "7"  # still answering, and right


def test_many_requests_at_once(server, test_digits):
    digits, labels = test_digits
    bodies = [(png(Image.fromarray(255 - digits[i]).resize((280, 280))), labels[i]) for i in range(20)]
    expected = {i: post(server, body)[1]["prediction"] for i, (body, _) in enumerate(bodies)}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: (i % 20, post(server, bodies[i % 20][0])), range(100)))
    assert all(status == 200 and answer["prediction"] == expected[i] for i, (status, answer) in answers)
    assert sum(expected[i] == str(label) for i, (_, label) in enumerate(bodies)) >= 18


def resident_mb(process: subprocess.Popen) -> int:
    """How much of the computer's memory a process holds now (Linux), in MB."""
    status = Path(f"/proc/{process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) // 1024


@pytest.mark.skipif(draw.give_memory_back is None, reason="only glibc (Linux) keeps freed memory until asked")
def test_memory_goes_back_after_large_pictures(cnn_checkpoint):
    process, url = start_server("--checkpoint", str(cnn_checkpoint))
    try:
        assert post(url, drawn_seven())[0] == 200
        before = resident_mb(process)
        large = Image.new("RGBA", (4000, 4000), (255, 255, 255, 0))  # 16 megapixels, a 64 MB picture
        large.paste((0, 0, 0, 255), (1800, 500, 2200, 3500))  # a 1
        for _ in range(3):
            assert post(url, png(large))[1]["prediction"] == "1"
        for _ in range(30):  # the memory goes back just after the answer: wait for it, 3 s at most
            after = resident_mb(process)
            if after < before + 30:
                break
            time.sleep(0.1)
        print(f"\ndraw.py held {before} MB after a drawing, {after} MB after three 16-megapixel pictures")
        assert after < before + 30
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_port_in_use_and_ctrl_c(server, cnn_checkpoint):
    port = server.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "draw.py", "--checkpoint", str(cnn_checkpoint), "--port", port],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ") and "--port" in result.stderr
    assert result.stderr.count("\n") == 1

    bad_port = subprocess.run([sys.executable, "draw.py", "--checkpoint", str(cnn_checkpoint), "--port", "70000"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad_port.returncode == 2 and "must be from 0 to 65535" in bad_port.stderr
    assert "Traceback" not in bad_port.stderr

    process, _ = start_server("--checkpoint", str(cnn_checkpoint))
    process.send_signal(2)  # Ctrl-C
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == "stopped\n"


# ---------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        os.environ["SE_AVOID_STATS"] = "true"  # Selenium must not send statistics
        from selenium import webdriver
    except ImportError:
        missing.append("the selenium package")
    if missing:
        message = f"no browser to test the page with: missing {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)  # the system's Chromium: nothing to download
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=900,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def draw_strokes(driver, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw on the canvas with the mouse, each stroke through points given as fractions of its size."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    canvas = driver.find_element(By.ID, "canvas")
    width, height = canvas.size["width"], canvas.size["height"]
    for stroke in strokes:
        # Offsets are from the canvas's centre.
        at = [(round((x - 0.5) * width), round((y - 0.5) * height)) for x, y in stroke]
        actions = ActionChains(driver, duration=10).move_to_element_with_offset(canvas, *at[0]).click_and_hold()
        for x, y in at[1:]:
            actions.move_to_element_with_offset(canvas, x, y)
        actions.release().perform()


def wait_for_text(driver, selector: str, text: str) -> str:
    """Wait until the element `selector` says `text`. Its text is read in one step in the page,
    since the page may replace the element between finding it and reading it."""
    from selenium.webdriver.support.ui import WebDriverWait
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null"
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(script, selector) == text)
    return driver.execute_script(script, selector)


def wait_for_result(driver, text: str) -> str:
    return wait_for_text(driver, "#result", text)


def test_the_page_reads_what_is_drawn(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(server)
    assert browser.find_element(By.ID, "result").text == "Draw a digit"
    draw_strokes(browser, [[(0.3, 0.22), (0.72, 0.22), (0.45, 0.8)]])  # a 7
    assert wait_for_result(browser, "7") == "7"
    preview = browser.find_element(By.CSS_SELECTOR, ".digit img")
    assert browser.execute_script("return arguments[0].naturalWidth", preview) == 28
    assert len(browser.find_elements(By.CSS_SELECTOR, ".bar")) == 10  # a bar for each class
    canvas, result = browser.find_element(By.ID, "canvas").rect, browser.find_element(By.ID, "result").rect
    assert result["x"] >= canvas["x"] + canvas["width"] and result["y"] < canvas["y"] + canvas["height"]  # beside it
    screenshot = tmp_path / "draw.png"
    browser.save_screenshot(str(screenshot))
    if os.environ.get("DRAW_SCREENSHOT"):  # for the README: DRAW_SCREENSHOT=docs/draw.png pytest -k page
        shutil.copy(screenshot, os.environ["DRAW_SCREENSHOT"])

    browser.find_element(By.ID, "clear").click()
    assert wait_for_result(browser, "Draw a digit")
    circle = [(0.5 + 0.22 * np.cos(a), 0.5 + 0.3 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 40)]
    draw_strokes(browser, [circle])  # a 0
    assert wait_for_result(browser, "0") == "0"

    # A 1 beside a 0 makes 10; Undo takes the 0 away again.
    browser.find_element(By.ID, "clear").click()
    draw_strokes(browser, [[(0.2, 0.3), (0.2, 0.75)], [(0.6 + 0.15 * np.cos(a), 0.52 + 0.23 * np.sin(a))
                                                       for a in np.linspace(0, 2 * np.pi, 40)]])
    assert wait_for_result(browser, "10") == "10"
    browser.find_element(By.ID, "undo").click()
    assert wait_for_result(browser, "1") == "1"

    # A 7 drawn above a 0: two lines of writing, the page showing each on a line of its own.
    browser.find_element(By.ID, "clear").click()
    draw_strokes(browser, [[(0.35, 0.1), (0.65, 0.1), (0.45, 0.4)], [(0.5 + 0.12 * np.cos(a), 0.76 + 0.16 * np.sin(a))
                                                                    for a in np.linspace(0, 2 * np.pi, 40)]])
    assert wait_for_result(browser, "7\n0") == "7\n0"


def test_the_page_collects_a_labelled_drawing(browser, cnn_checkpoint, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    process, url = start_server("--checkpoint", str(cnn_checkpoint), "--collect", str(tmp_path / "mine"))
    try:
        browser.get(url)
        label = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#labels [data-label='7']"))
        assert label.text == "7 (0)"
        draw_strokes(browser, [[(0.3, 0.22), (0.72, 0.22), (0.45, 0.8)]])  # a 7
        wait_for_result(browser, "7")
        label.click()
        wait_for_text(browser, "#labels [data-label='7']", "7 (1)")
        saved = list((tmp_path / "mine" / "7").iterdir())
        assert len(saved) == 1 and Image.open(saved[0]).size == (560, 560)  # the canvas, as it was drawn
        assert wait_for_result(browser, "Draw the next one")  # the canvas is cleared for the next one
        browser.find_element(By.ID, "take-back").click()
        wait_for_text(browser, "#labels [data-label='7']", "7 (0)")
        assert not saved[0].exists()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_server_that_cannot_be_held(cnn_checkpoint):
    # draw.py with a 1-second limit on sending a request and room for 3 connections, so that the test is quick.
    code = ("import sys, threading, common, draw; draw.REQUEST_SECONDS = 1; "
            "draw.Server.slots = threading.BoundedSemaphore(3); common.run(lambda: draw.main(sys.argv[1:]))")
    process = subprocess.Popen([sys.executable, "-c", code, "--port", "0", "--checkpoint", str(cnn_checkpoint)],
                               cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = process.stdout.readline().split()[1]
        host, port = url.removeprefix("http://").split(":")
        # Three clients that announce a large body and then send nothing fill every slot...
        idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(3)]
        for connection in idle:
            connection.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n")
        time.sleep(0.3)
        # ...so a fourth is refused at once, politely, rather than left waiting.
        status, answer = post(url, drawn_seven())
        assert status == 503 and "too many connections" in answer["error"]
        # After the time limit, the server has closed them, and answers again.
        for connection in idle:
            assert connection.recv(100) == b""  # closed by the server (the socket's own timeout is 10 s)
        assert post(url, drawn_seven())[0] == 200
        # Other methods, and a Content-Length that is not plain digits: a 4xx in JSON.
        for method in ("PUT", "DELETE", "HEAD"):
            request = urllib.request.Request(url + "/predict", data=b"x", method=method)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 405
        status, answer = raw_post(host, int(port), b"Content-Length: 1_0\r\n\r\n0123456789")
        assert status == 411 and "digits" in answer["error"]
        # A client that goes away halfway through its upload leaves no traceback behind.
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + drawn_seven()[:100])
        assert post(url, drawn_seven())[0] == 200
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert "Traceback" not in errors, errors


def raw_post(host: str, port: int, rest: bytes) -> tuple[int, dict]:
    """A POST written by hand, for headers that urllib would not send; its status and JSON answer."""
    with socket.create_connection((host, port), timeout=10) as connection:
        connection.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n" + rest)
        answer = b""
        while chunk := connection.recv(65536):  # bounded: the server closes within its time limit
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)
