"""The serving page in a real browser: Playwright drives Chromium against the app under waitress.

A small CNN trained on the embedded MNIST subset is served; the test draws a "1" on the canvas with the mouse,
presses Predict and reads the page: the class it shows is the argmax of the JSON the page received, the bar chart
has one bar per class, the drawn 1 is read as a 1, and the live panel counts the request.

The browser is the system's Chromium (Playwright cannot download its own here): ``NEURONA_CHROMIUM`` names an
executable, else ``chromium``, ``chromium-browser`` or ``google-chrome`` on PATH. The test skips, saying why, only
when Playwright or a browser is missing. ``NEURONA_SCREENSHOT=1`` also writes the screenshot to
``docs/serving_page.png`` (the README's picture); it is always written to the test's temporary folder.
"""

import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("flask")
pytest.importorskip("prometheus_client")
waitress = pytest.importorskip("waitress")
Image = pytest.importorskip("PIL.Image")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")

import neurona as nr  # noqa: E402
from neurona import layers, models  # noqa: E402
from neurona.saving import preprocessing as prep  # noqa: E402
from neurona.serving import create_app  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"



def _wait_until(page, expression, timeout=15.0):
    """Poll ``expression`` with ``page.evaluate`` until it is true.

    Not ``page.wait_for_function``: that one builds its predicate with ``eval`` inside the page, which the
    server's Content-Security-Policy (script-src 'self') rightly forbids; ``evaluate`` runs from the debugger
    protocol, outside the page's policy.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"the page never satisfied {expression!r} within {timeout} s")
        time.sleep(0.05)

def _browser_executable():
    """The path of a Chromium-family browser, or None."""
    named = os.environ.get("NEURONA_CHROMIUM")
    if named:
        return named if os.path.isfile(named) and os.access(named, os.X_OK) else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser_path():
    path = _browser_executable()
    if path is None:
        where = (f"NEURONA_CHROMIUM={os.environ['NEURONA_CHROMIUM']!r} is not an executable file"
                 if os.environ.get("NEURONA_CHROMIUM") else f"none of {', '.join(BROWSERS)} is on PATH")
        pytest.skip(f"no Chromium to drive: {where} (apt-get install chromium, or set NEURONA_CHROMIUM)")
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small CNN on raw 0-255 pixels (rescale saved with it), 98% accurate on the embedded test images."""
    (x, y), (x_test, y_test) = nr.datasets.mnist.load_data(source="embedded")
    nr.seed(0)
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                               layers.MaxPooling2D(2), layers.Conv2D(16, 3, activation="relu"),
                               layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")],
                              name="mnist_cnn")
    model.compile(optimizer=nr.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    scale = prep.rescale(255.0)
    model.fit(prep.apply([scale], x[..., None]), y, epochs=2, batch_size=64, verbose=0)
    accuracy = model.evaluate(prep.apply([scale], x_test[..., None]), y_test, verbose=0)[1]
    assert accuracy > 0.9, f"the fixture's model is only {accuracy:.3f} accurate; the page test needs a good one"
    model.preprocessing = [scale]
    folder = tmp_path_factory.mktemp("browser") / "mnist_cnn"
    model.save(folder)
    return folder


@pytest.fixture(scope="module")
def base_url(model_dir):
    """The app under waitress on a free loopback port, in a thread, for the module's tests."""
    server = waitress.create_server(create_app(model_dir), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}/"
    server.close()
    thread.join(timeout=5)


@pytest.fixture()
def page(browser_path, base_url):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 860}, device_scale_factor=1)
            page = context.new_page()
            problems = []
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            # The browser logs every 4xx answer as "Failed to load resource"; the test checks those answers itself.
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.set_default_timeout(10_000)
            page.goto(base_url)
            yield page
            assert not problems, problems
        finally:
            browser.close()


def _draw(page, strokes):
    """Draw polylines given in canvas fractions (0..1) with the mouse, in small steps as a hand would."""
    box = page.locator("#canvas").bounding_box()
    for stroke in strokes:
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=12)
        page.mouse.up()


def _predict(page):
    """Click Predict and return the JSON answer the page received."""
    with page.expect_response(lambda r: r.url.endswith("/predict") and r.request.method == "POST") as caught:
        page.click("#predict")
    return _shown(page, caught.value)


def _shown(page, response):
    """The JSON of a successful predict ``response``, once the page shows that prediction."""
    assert response.status == 200, response.text()
    answer = response.json()
    page.wait_for_selector(f"#result-card[data-prediction-id='{answer['predictions'][0]['id']}']")
    return answer


def _preview(page):
    """The pixels of the page's preview of what it sent (the red channel of a gray picture)."""
    return np.array(page.evaluate("""() => {
        const c = document.querySelector('#preview');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const rows = [];
        for (let y = 0; y < c.height; y++) {
            rows.push(Array.from({length: c.width}, (_, x) => d[4 * (y * c.width + x)]));
        }
        return rows;
    }"""))


def test_page_draws_predicts_and_counts(page, model_dir, tmp_path):
    _wait_until(page, "!document.querySelector('#predict').disabled")  # /info has answered
    assert page.locator("#model-name").inner_text() == "mnist_cnn"
    assert "Conv2D" in page.locator("#summary").inner_text()
    assert page.locator("#canvas").is_visible() and page.locator("#upload").is_visible()

    # Predicting on an empty canvas is refused on the page, without a request.
    page.click("#predict")
    assert page.locator("#error").is_visible()
    assert "Draw" in page.locator("#error").inner_text()

    # A PNG of the wrong size: the server's 400 is shown on the page; then a test image, predicted as it was sent.
    small, digit = tmp_path / "small.png", tmp_path / "digit.png"
    Image.fromarray(np.zeros((10, 10), dtype=np.uint8)).save(small)
    with page.expect_response(lambda r: r.url.endswith("/predict")) as caught:
        page.set_input_files("#upload", str(small))
    assert caught.value.status == 400
    _wait_until(page, "!document.querySelector('#error').hidden")
    message = page.locator("#error").inner_text()
    assert "28" in message and "10" in message, message
    _, (x_test, _) = nr.datasets.mnist.load_data(source="embedded")
    Image.fromarray(x_test[0]).save(digit)
    with page.expect_response(lambda r: r.url.endswith("/predict")) as caught:
        page.set_input_files("#upload", str(digit))
    (uploaded,) = _shown(page, caught.value)["predictions"]
    assert not page.locator("#error").is_visible()
    expected = models.load_model(model_dir, compile=False).predict(x_test[:1, ..., None] / 255.0, verbose=0)
    assert np.allclose(uploaded["probabilities"], expected[0], atol=1e-5)
    assert page.locator("#predicted-class").inner_text() == str(uploaded["class"])
    np.testing.assert_array_equal(_preview(page), x_test[0])

    page.click("#clear")
    _draw(page, [[(0.52, 0.15), (0.50, 0.50), (0.48, 0.85)]])  # a "1": one nearly vertical stroke
    answer = _predict(page)
    assert not page.locator("#error").is_visible()
    (prediction,) = answer["predictions"]
    probabilities = np.array(prediction["probabilities"])
    shown = int(page.locator("#predicted-class").inner_text())
    assert shown == prediction["class"] == int(probabilities.argmax())
    assert shown == 1, f"the drawn 1 was read as {shown}: {np.round(probabilities, 3).tolist()}"

    bars = page.locator("#probabilities .bar")
    assert bars.count() == 10 == len(probabilities)
    assert [bars.nth(k).get_attribute("data-class") for k in range(10)] == [str(k) for k in range(10)]
    assert float(bars.nth(1).locator(".bar-value").inner_text()) == pytest.approx(probabilities[1], abs=5e-4)

    # What was sent: the MNIST layout, a centred 20-pixel-high stroke in a 28x28 field.
    sent = _preview(page)
    assert sent.shape == (28, 28)
    ink_rows = np.flatnonzero(sent.max(axis=1))
    assert ink_rows[-1] - ink_rows[0] + 1 == 20
    mass = sent / sent.sum()
    centre = (mass.sum(axis=1) @ (np.arange(28) + 0.5), mass.sum(axis=0) @ (np.arange(28) + 0.5))
    assert np.allclose(centre, 14, atol=0.5), centre

    # Feedback for that prediction, then the live panel counts it all on its next refresh.
    page.select_option("#true-label", "1")
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as caught:
        page.click("#send-feedback")
    assert caught.value.status == 200, caught.value.text()
    _wait_until(page, "Number(document.querySelector('#stat-requests').textContent) >= 2")
    _wait_until(page, "document.querySelector('#stat-accuracy').textContent.startsWith('100.0%')")
    assert int(page.locator("#stat-predictions").inner_text()) >= 1
    assert page.locator("#stat-latency").inner_text().endswith("ms")
    assert page.locator("#drift-status").inner_text() in ("ok", "drift", "warming up", "unavailable")

    shot = tmp_path / "serving_page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == PNG_SIGNATURE
    if os.environ.get("NEURONA_SCREENSHOT", "") not in ("", "0"):
        shutil.copyfile(shot, REPO / "docs" / "serving_page.png")
