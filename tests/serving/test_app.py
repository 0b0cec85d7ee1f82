"""neurona.serving.create_app through Flask's test client: every route, every refusal, the figures it reports."""

import io
import json
import logging
import threading

import numpy as np
import pytest

pytest.importorskip("flask")
prometheus_parser = pytest.importorskip("prometheus_client.parser")
Image = pytest.importorskip("PIL.Image")

import neurona as nr  # noqa: E402
from neurona import layers, models  # noqa: E402
from neurona.saving import preprocessing as prep  # noqa: E402
from neurona.serving import create_app  # noqa: E402
from neurona.serving.drift import ReferenceStatistics  # noqa: E402


def _cnn():
    nr.seed(3)
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                               layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")],
                              name="tiny_cnn")
    model.preprocessing = [prep.rescale(255.0)]
    return model


@pytest.fixture(scope="module")
def images():
    (x, y), _ = nr.datasets.mnist.load_data(source="embedded")
    return x[:600], y[:600]


@pytest.fixture(scope="module")
def cnn_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve") / "cnn"
    _cnn().save(folder)
    return folder


@pytest.fixture(scope="module")
def mlp_dir(tmp_path_factory):
    """An MLP on flat 784 inputs that flattens 28x28 pixels itself, as ``neurona train`` saves it."""
    nr.seed(4)
    model = models.Sequential([layers.Input((784,)), layers.Dense(16, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.preprocessing = [prep.rescale(255.0), prep.flatten()]
    folder = tmp_path_factory.mktemp("serve") / "mlp"
    model.save(folder)
    return folder


@pytest.fixture()
def client(cnn_dir):
    return create_app(cnn_dir).test_client()


def _expected(folder, raw):
    model = models.load_model(folder, compile=False)
    x = prep.apply(model.preprocessing, np.asarray(raw, dtype=np.float64))
    return model.predict(x.reshape((len(x),) + model.input_shape[1:]), verbose=0)


def _png(pixels, mode="L"):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode=None).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]["message"]


# ---- the simple routes --------------------------------------------------------------------------------
def test_health_ready_and_info(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.get_json()["ready"] is True
    info = client.get("/info").get_json()
    assert info["name"] == "tiny_cnn" and info["n_classes"] == 10
    assert info["input_shape"] == [28, 28, 1]
    assert info["image"] == {"height": 28, "width": 28, "channels": 1}
    assert info["raw_range"] == [0.0, 255.0]
    assert "conv2d" in info["summary"].lower() and "Total params" in info["summary"]


def test_index_page_and_its_assets_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for asset in ("app.js", "style.css"):
        assert asset in html
        served = client.get(f"/static/{asset}")
        assert served.status_code == 200, asset
        text = served.get_data(as_text=True)
        assert "http://" not in text and "https://" not in text, f"{asset} refers to a remote URL"
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy  # nothing from elsewhere runs


def test_unknown_route_and_wrong_method_answer_json(client):
    _error(client.get("/nope"), 404, "not_found")
    _error(client.get("/predict"), 405, "method_not_allowed")


# ---- predictions --------------------------------------------------------------------------------------
def test_batch_prediction_is_the_models_own_on_the_saved_preprocessing(client, cnn_dir, images):
    raw = images[0][:5]
    response = client.post("/predict", json={"instances": raw.tolist()})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model"] == "tiny_cnn" and len(body["predictions"]) == 5
    probabilities = np.array([p["probabilities"] for p in body["predictions"]], dtype=np.float32)
    expected = _expected(cnn_dir, raw)
    np.testing.assert_array_equal(probabilities, expected)  # float32 survives JSON exactly: bit-identical
    assert [p["class"] for p in body["predictions"]] == expected.argmax(axis=1).tolist()
    ids = [p["id"] for p in body["predictions"]]
    assert len(set(ids)) == 5 and all(len(i) == 32 for i in ids)


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1), (784,)])
def test_one_instance_in_any_of_the_accepted_shapes(client, cnn_dir, images, shape):
    raw = images[0][7]
    response = client.post("/predict", json={"instance": raw.reshape(shape).tolist()})
    assert response.status_code == 200
    got = np.array(response.get_json()["predictions"][0]["probabilities"], dtype=np.float32)
    np.testing.assert_array_equal(got, _expected(cnn_dir, raw[None])[0])


def test_flat_model_that_flattens_its_pictures_takes_images(mlp_dir, images):
    client = create_app(mlp_dir).test_client()
    assert client.get("/info").get_json()["image"] == {"height": 28, "width": 28, "channels": 1}
    raw = images[0][:3]
    for instances in (raw.tolist(), raw.reshape(3, 784).tolist()):
        got = client.post("/predict", json={"instances": instances}).get_json()["predictions"]
        np.testing.assert_array_equal(np.array([p["probabilities"] for p in got], dtype=np.float32),
                                      _expected(mlp_dir, raw))
    png = client.post("/predict", data=_png(raw[0]), content_type="image/png").get_json()["predictions"]
    np.testing.assert_array_equal(np.float32(png[0]["probabilities"]), _expected(mlp_dir, raw[:1])[0])


def test_raw_and_preprocessed_inputs_agree_and_the_format_is_inferred_strictly(client, images):
    raw = images[0][:2].astype(np.float64)
    scaled = (raw.astype(np.float32) / np.float32(255)).astype(np.float64)
    by_raw = client.post("/predict", json={"instances": raw.tolist(), "input_format": "raw"}).get_json()
    by_scaled = client.post("/predict", json={"instances": scaled.tolist(), "input_format": "preprocessed"})
    inferred = client.post("/predict", json={"instances": scaled.tolist()}).get_json()  # fractions in [0, 1]
    probabilities = [[p["probabilities"] for p in body["predictions"]]
                     for body in (by_raw, by_scaled.get_json(), inferred)]
    assert probabilities[0] == probabilities[1] == probabilities[2]
    binary = (raw > 127).astype(int)
    message = _error(client.post("/predict", json={"instances": binary.tolist()}), 400, "ambiguous_input_format")
    assert "input_format" in message
    assert client.post("/predict", json={"instances": binary.tolist(), "input_format": "raw"}).status_code == 200


def test_png_body_and_multipart_upload_equal_the_json_prediction(client, images):
    pixels = images[0][11]
    by_json = client.post("/predict", json={"instance": pixels.tolist()}).get_json()["predictions"][0]
    by_body = client.post("/predict", data=_png(pixels), content_type="image/png").get_json()["predictions"][0]
    by_form = client.post("/predict", data={"image": (io.BytesIO(_png(pixels)), "digit.png")},
                          content_type="multipart/form-data").get_json()["predictions"][0]
    rgb = client.post("/predict", data=_png(pixels, "RGB"), content_type="image/png").get_json()["predictions"][0]
    assert by_json["probabilities"] == by_body["probabilities"] == by_form["probabilities"] == rgb["probabilities"]


def test_a_binary_sigmoid_model_answers_two_class_probabilities(tmp_path):
    nr.seed(5)
    model = models.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.save(tmp_path / "binary")
    client = create_app(tmp_path / "binary").test_client()
    got = client.post("/predict", json={"instances": [[0.1, -2.0, 3.0]]}).get_json()["predictions"][0]
    p = float(model.predict(np.array([[0.1, -2.0, 3.0]], dtype=np.float32), verbose=0)[0, 0])
    assert got["probabilities"] == pytest.approx([1 - p, p], abs=1e-7) and got["class"] == int(p >= 0.5)
    assert client.get("/info").get_json()["image"] is None
    _error(client.post("/predict", data=_png(np.zeros((28, 28))), content_type="image/png"), 400,
           "not_an_image_model")


def test_a_regression_model_answers_its_outputs_without_classes(tmp_path):
    nr.seed(6)
    model = models.Sequential([layers.Input((2,)), layers.Dense(3)])
    model.save(tmp_path / "regression")
    got = create_app(tmp_path / "regression").test_client().post(
        "/predict", json={"instances": [[1.0, 2.0]]}).get_json()["predictions"][0]
    expected = model.predict(np.array([[1.0, 2.0]], dtype=np.float32), verbose=0)[0]
    np.testing.assert_array_equal(np.float32(got["outputs"]), expected)
    assert "probabilities" not in got


# ---- bad input ----------------------------------------------------------------------------------------
IMAGE = [[0] * 28 for _ in range(28)]
BAD_JSON = [
    (b"{\"instances\": [", "bad_json"),
    (b"[1, 2, 3]", "bad_request"),
    (b"\"hello\"", "bad_request"),
    (b"{}", "bad_request"),
    (json.dumps({"instances": [IMAGE], "instance": IMAGE}).encode(), "bad_request"),
    (json.dumps({"instances": [IMAGE], "extra": 1}).encode(), "bad_request"),
    (json.dumps({"instances": IMAGE[0]}).encode(), "bad_shape"),  # a list of numbers, not of instances
    (json.dumps({"instances": "abc"}).encode(), "bad_request"),
    (json.dumps({"instances": []}).encode(), "empty_batch"),
    (json.dumps({"instances": [[[0] * 27] * 28]}).encode(), "bad_shape"),
    (json.dumps({"instances": [[[0] * 28] * 27 + [[0] * 27]]}).encode(), "bad_shape"),  # ragged
    (json.dumps({"instances": [[0] * 785]}).encode(), "bad_shape"),
    (json.dumps({"instances": [[[0] * 14] * 56]}).encode(), "bad_shape"),
    (json.dumps({"instances": [[["a"] * 28] * 28]}).encode(), "bad_type"),
    (json.dumps({"instances": [[[True] * 28] * 28]}).encode(), "bad_type"),
    (json.dumps({"instances": [[[None] * 28] * 28]}).encode(), "bad_type"),
    (json.dumps({"instances": [[1, True] + [0] * 782]}).encode(), "bad_type"),  # numpy would read True as 1
    (json.dumps({"instances": [[10**400] + [0] * 783]}).encode(), "not_finite"),  # beyond float64
    (json.dumps({"instances": [[2**70] + [0] * 783]}).encode(), "out_of_range"),  # beyond int64, not float64
    (json.dumps({"instances": [[[{"a": 1}] * 28] * 28]}).encode(), "bad_type"),
    (json.dumps({"instances": [[[0] * 27 + [1e999]] * 28]}).encode(), "not_finite"),  # json.dumps writes Infinity
    (b"{\"instances\": [[" + b",".join([b"NaN"] * 784) + b"]]}", "not_finite"),
    (b"{\"instances\": [[" + b",".join([b"1e999"] * 784) + b"]]}", "not_finite"),
    (json.dumps({"instances": [[[300] * 28] * 28]}).encode(), "out_of_range"),
    (json.dumps({"instances": [[[-1] * 28] * 28]}).encode(), "out_of_range"),
    (json.dumps({"instances": [[[2.5] * 28] * 28], "input_format": "preprocessed"}).encode(), "out_of_range"),
    (json.dumps({"instances": [IMAGE], "input_format": "scaled"}).encode(), "bad_input_format"),
    (b"[" * 100_000 + b"]" * 100_000, "bad_json"),
    (b"\xff\xfe{}", "bad_json"),
]


@pytest.mark.parametrize("body, code", BAD_JSON, ids=range(len(BAD_JSON)))
def test_bad_json_is_refused_with_a_reason(client, body, code):
    _error(client.post("/predict", data=body, content_type="application/json"), 400, code)


@pytest.mark.parametrize("data, code", [
    (b"", "bad_image"),
    (b"not a png at all", "bad_image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "bad_image"),
    ("truncated", "bad_image"),
    ("jpeg", "bad_image"),
    ("large", "bad_image_size"),
])
def test_bad_images_are_refused_with_a_reason(client, data, code):
    if data == "truncated":
        data = _png(np.arange(784).reshape(28, 28) % 256)[:-30]
    elif data == "jpeg":
        buffer = io.BytesIO()
        Image.fromarray(np.zeros((28, 28), dtype=np.uint8)).save(buffer, format="JPEG")
        data = buffer.getvalue()
    elif data == "large":
        data = _png(np.zeros((29, 28)))
    _error(client.post("/predict", data=data, content_type="image/png"), 400, code)


def test_other_content_types_and_form_fields_are_refused(client):
    _error(client.post("/predict", data="1,2,3", content_type="text/csv"), 415, "unsupported_media_type")
    _error(client.post("/predict", data={"file": (io.BytesIO(b"x"), "a.png")}, content_type="multipart/form-data"),
           400, "bad_request")


def test_size_limits_are_checked_before_parsing(cnn_dir):
    client = create_app(cnn_dir, max_body_bytes=10_000, max_instances=3).test_client()
    body = json.dumps({"instances": [IMAGE] * 10}).encode()
    assert len(body) > 10_000
    message = _error(client.post("/predict", data=body, content_type="application/json"), 413, "body_too_large")
    assert "10000" in message
    _error(client.post("/predict", data=b"x" * 20_000, content_type="image/png"), 413, "body_too_large")
    client = create_app(cnn_dir, max_instances=3).test_client()
    _error(client.post("/predict", json={"instances": [[0.5] * 784] * 4}), 413, "too_many_instances")
    assert client.post("/predict", json={"instances": [[0.5] * 784] * 3}).status_code == 200


def test_no_request_changes_the_model_or_stops_the_server(cnn_dir, images):
    app = create_app(cnn_dir)
    client = app.test_client()
    model = app.extensions["neurona"]["model"].model
    before = [w.copy() for w in model.get_weights()]
    for body, _ in BAD_JSON:
        client.post("/predict", data=body, content_type="application/json")
    client.post("/predict", data=b"garbage", content_type="image/png")
    client.post("/feedback", data=b"{", content_type="application/json")
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert client.post("/predict", json={"instance": images[0][0].tolist()}).status_code == 200
    stats = client.get("/stats").get_json()
    assert stats["requests"]["errors"] == len(BAD_JSON) + 2


def test_an_unexpected_failure_is_a_json_500_and_the_server_goes_on(cnn_dir, images, monkeypatch, caplog):
    app = create_app(cnn_dir)
    served = app.extensions["neurona"]["model"]
    original = served.predict
    monkeypatch.setattr(served, "predict", lambda x: (_ for _ in ()).throw(RuntimeError("boom")))
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="neurona.serving.app"):
        _error(client.post("/predict", json={"instance": IMAGE}), 500, "internal_error")
    assert "boom" in caplog.text
    monkeypatch.setattr(served, "predict", original)
    assert client.post("/predict", json={"instance": images[0][0].tolist()}).status_code == 200


# ---- feedback and accuracy ----------------------------------------------------------------------------
def _predict_ids(client, raw):
    predictions = client.post("/predict", json={"instances": raw.tolist()}).get_json()["predictions"]
    return [p["id"] for p in predictions], [p["class"] for p in predictions]


def test_feedback_accuracy_overall_and_over_the_window(cnn_dir, images):
    client = create_app(cnn_dir, accuracy_window=4).test_client()
    ids, classes = _predict_ids(client, images[0][:10])
    right = [True, False, True, True, False, False, True, True, True, False]
    labels = [c if ok else (c + 1) % 10 for c, ok in zip(classes, right)]
    body = client.post("/feedback", json={"feedback": [{"id": i, "label": lab} for i, lab in
                                                       zip(ids[:6], labels[:6])]}).get_json()
    assert body == {"accepted": 6, "accuracy": pytest.approx(3 / 6), "window_accuracy": pytest.approx(2 / 4),
                    "count": 6}
    for i, lab in zip(ids[6:], labels[6:]):
        body = client.post("/feedback", json={"id": i, "label": lab}).get_json()
    assert body["accuracy"] == pytest.approx(np.mean(right)) and body["window_accuracy"] == pytest.approx(3 / 4)
    stats = client.get("/stats").get_json()["accuracy"]
    assert stats["count"] == 10 and stats["overall"] == pytest.approx(0.6) and stats["window_size"] == 4


def test_feedback_refusals_record_nothing(client, images):
    ids, classes = _predict_ids(client, images[0][:2])
    message = _error(client.post("/feedback", json={"feedback": [{"id": ids[0], "label": 1},
                                                                 {"id": "f" * 32, "label": 1}]}), 404, "unknown_id")
    assert "f" * 32 in message
    assert client.get("/stats").get_json()["accuracy"]["count"] == 0
    for entry, code in [({"id": ids[0], "label": 10}, "bad_label"), ({"id": ids[0], "label": -1}, "bad_label"),
                        ({"id": ids[0], "label": 1.0}, "bad_label"), ({"id": ids[0], "label": True}, "bad_label"),
                        ({"id": 5, "label": 1}, "bad_request"), ({"id": ids[0]}, "bad_request"),
                        ({"feedback": []}, "bad_request"), ({"feedback": [], "x": 1}, "bad_request")]:
        _error(client.post("/feedback", json=entry), 400, code)
    _error(client.post("/feedback", data="id=1", content_type="application/x-www-form-urlencoded"), 415,
           "unsupported_media_type")
    assert client.post("/feedback", json={"id": ids[0], "label": classes[0]}).get_json()["accuracy"] == 1.0
    _error(client.post("/feedback", json={"id": ids[0], "label": classes[0]}), 409, "already_labelled")
    _error(client.post("/feedback", json={"feedback": [{"id": ids[1], "label": 0}, {"id": ids[1], "label": 0}]}),
           409, "already_labelled")
    assert client.get("/stats").get_json()["accuracy"]["count"] == 1


def test_old_prediction_ids_are_forgotten_past_the_memory(cnn_dir, images):
    client = create_app(cnn_dir, prediction_memory=3).test_client()
    ids, _ = _predict_ids(client, images[0][:5])
    _error(client.post("/feedback", json={"id": ids[0], "label": 0}), 404, "unknown_id")
    assert client.post("/feedback", json={"id": ids[4], "label": 0}).status_code == 200


# ---- metrics, stats and drift -------------------------------------------------------------------------
def _families(client):
    text = client.get("/metrics")
    assert text.status_code == 200 and text.mimetype == "text/plain"
    return {f.name: f for f in prometheus_parser.text_string_to_metric_families(text.get_data(as_text=True))}


def _sample(families, family, name, **labels):
    for sample in families[family].samples:
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {name} {labels}")


def test_prometheus_metrics_count_what_happened(client, images):
    for n in (1, 3, 5):
        client.post("/predict", json={"instances": images[0][:n].tolist()})
    client.post("/predict", data=b"{", content_type="application/json")
    ids, classes = _predict_ids(client, images[0][:2])
    client.post("/feedback", json={"feedback": [{"id": ids[0], "label": classes[0]},
                                                {"id": ids[1], "label": (classes[1] + 1) % 10}]})
    families = _families(client)
    assert _sample(families, "neurona_requests", "neurona_requests_total", route="/predict", status="200") == 4
    assert _sample(families, "neurona_requests", "neurona_requests_total", route="/predict", status="400") == 1
    assert _sample(families, "neurona_request_errors", "neurona_request_errors_total", code="bad_json") == 1
    assert _sample(families, "neurona_request_latency_seconds", "neurona_request_latency_seconds_count",
                   route="/predict") == 5
    assert _sample(families, "neurona_prediction_batch_size", "neurona_prediction_batch_size_sum") == 11
    assert _sample(families, "neurona_prediction_batch_size", "neurona_prediction_batch_size_bucket", le="2.0") == 2
    assert _sample(families, "neurona_predictions", "neurona_predictions_total") == 11
    assert _sample(families, "neurona_accuracy", "neurona_accuracy") == 0.5
    assert _sample(families, "neurona_drift", "neurona_drift") == 0.0
    stats = client.get("/stats").get_json()
    assert stats["requests"]["predictions"] == 11 and stats["latency_ms"]["count"] == 4
    assert 0 < stats["latency_ms"]["p50"] <= stats["latency_ms"]["p90"] <= stats["latency_ms"]["p99"]
    assert stats["drift"]["status"] == "unavailable"


@pytest.fixture(scope="module")
def reference(cnn_dir, images):
    x = images[0][:400, :, :, None].astype(np.float32) / np.float32(255)
    model = models.load_model(cnn_dir, compile=False)
    return ReferenceStatistics.from_arrays(x, model.predict(x, verbose=0), components=8)


def test_drift_is_flagged_on_inverted_images_and_logged_when_it_begins_and_ends(cnn_dir, images, reference,
                                                                              caplog):
    client = create_app(cnn_dir, reference_statistics=reference, drift_window=100).test_client()
    assert client.get("/stats").get_json()["drift"]["status"] == "warming_up"
    clean = images[0][400:500]
    client.post("/predict", json={"instances": clean.tolist()})
    drift = client.get("/stats").get_json()["drift"]
    assert drift["status"] == "ok" and drift["window_size"] == 100 and drift["p_value"] > 0.05
    with caplog.at_level(logging.WARNING, logger="neurona.serving.drift"):
        client.post("/predict", json={"instances": (255 - images[0][500:600]).tolist()})
        drift = client.get("/stats").get_json()["drift"]
        assert drift["status"] == "drift" and drift["score"] > 10
        assert "Drift detected" in caplog.text
        client.post("/predict", json={"instances": clean.tolist()})
        assert client.get("/stats").get_json()["drift"]["status"] == "ok"
        assert "Drift ended" in caplog.text
    families = _families(client)
    assert _sample(families, "neurona_drift", "neurona_drift") == 0.0
    assert _sample(families, "neurona_drift_score", "neurona_drift_score") < 1.3


def test_reference_with_other_class_count_is_refused(cnn_dir):
    x = np.random.default_rng(0).random((20, 28, 28, 1), dtype=np.float32)
    three = np.full((20, 3), 1 / 3, dtype=np.float32)
    with pytest.raises(ValueError, match="3 outputs"):
        create_app(cnn_dir, reference_statistics=ReferenceStatistics.from_arrays(x, three, components=2))


# ---- concurrency, options, missing extras -------------------------------------------------------------
def test_concurrent_requests_all_get_their_own_answers(cnn_dir, images):
    app = create_app(cnn_dir)
    expected = _expected(cnn_dir, images[0][:40])
    failures = []

    def worker(start):
        client = app.test_client()
        for i in range(start, 40, 4):
            got = client.post("/predict", json={"instance": images[0][i].tolist()}).get_json()["predictions"][0]
            if np.float32(got["probabilities"]).argmax() != expected[i].argmax():
                failures.append(i)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert app.test_client().get("/stats").get_json()["requests"]["predictions"] == 40


def test_create_app_refuses_bad_options_and_models(cnn_dir, tmp_path):
    with pytest.raises(TypeError, match="unknown option"):
        create_app(cnn_dir, max_body=10)
    for name, value in [("max_body_bytes", 0), ("max_instances", "5"), ("drift_window", True),
                        ("drift_alpha", 1.5)]:
        with pytest.raises(ValueError, match=name):
            create_app(cnn_dir, **{name: value})
    with pytest.raises(FileNotFoundError):
        create_app(tmp_path / "missing")
    a, b = nr.Input((3,), name="a"), nr.Input((3,), name="b")
    two = nr.Model([a, b], layers.Dense(2, activation="softmax")(layers.Concatenate()([a, b])))
    two.save(tmp_path / "two")
    with pytest.raises(ValueError, match="one input and one output"):
        create_app(tmp_path / "two")


@pytest.mark.parametrize("module, name", [("flask", "Flask"), ("prometheus_client", "prometheus-client")])
def test_a_missing_extra_is_named(cnn_dir, monkeypatch, module, name):
    import sys

    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"neurona\[serve\]") as error:
        create_app(cnn_dir)
    assert name in str(error.value)


def test_importing_neurona_serving_loads_no_flask():
    """``neurona.serving.create_app`` is the factory, and importing the package leaves Flask unloaded."""
    import subprocess
    import sys

    code = ("import sys, neurona.serving as s; from neurona.serving.app import create_app; "
            "assert s.create_app is create_app; "
            "loaded = [m for m in ('flask', 'waitress', 'prometheus_client') if m in sys.modules]; "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
