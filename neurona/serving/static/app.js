// The Neurona serving page: draw or upload an image (or paste a JSON instance), predict, send feedback, and
// watch the live panel. Plain JavaScript, no framework, nothing fetched from outside the app.
//
// Routes used (see neurona/serving/app.py): GET info, POST predict, POST feedback, GET stats. URLs are relative
// so the page also works when the app is mounted under a path prefix.
"use strict";

(function () {
  const STATS_PERIOD_MS = 2000;
  const INK_WIDTH_FRACTION = 0.075;  // stroke width / canvas side: about 2 px of a 28 px MNIST digit
  const BOX_FRACTION = 20 / 28;      // MNIST: the digit's longest side is 20 px of the 28 px field

  const $ = (id) => document.getElementById(id);
  const state = { info: null, lastPrediction: null };

  // ---- server calls -------------------------------------------------------------------------------------------

  // A 4xx/5xx answer is {"error": {"code", "message"}}; turn it into an Error carrying that message.
  async function callJSON(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new Error(`cannot reach the server (${err.message})`);
    }
    let body = null;
    const text = await response.text();
    try {
      body = text ? JSON.parse(text) : null;
    } catch (err) {
      body = null;
    }
    if (!response.ok) {
      const e = body && body.error;
      const message = e ? `${e.code ? e.code + ": " : ""}${e.message || ""}` : `HTTP ${response.status} ${text.slice(0, 200)}`;
      throw new Error(message);
    }
    if (body === null) throw new Error(`the server answered ${url} with something that is not JSON`);
    return body;
  }

  function showError(message) {
    const el = $("error");
    el.textContent = message;
    el.hidden = !message;
  }

  // ---- model info ---------------------------------------------------------------------------------------------

  async function loadInfo() {
    let info;
    try {
      info = await callJSON("info");
    } catch (err) {
      $("model-name").textContent = "(model info unavailable)";
      showError(`Could not load the model's description: ${err.message}`);
      return;
    }
    state.info = info;
    document.title = `${info.name} - Neurona`;
    $("model-name").textContent = info.name;
    const facts = [`input ${JSON.stringify(info.input_shape)}`];
    if (info.n_classes) facts.push(`${info.n_classes} classes`);
    if (info.raw_range) facts.push(`raw values ${info.raw_range[0]}-${info.raw_range[1]}`);
    if (info.preprocessing && info.preprocessing.length) {
      facts.push(`preprocessing: ${info.preprocessing.map((s) => s.op).join(" → ")}`);
    }
    $("model-facts").textContent = facts.join(" · ");
    $("summary").textContent = info.summary || "";
    buildFeedbackChoices(info.n_classes ? Math.max(info.n_classes, 2) : 0);  // one sigmoid unit: labels 0 and 1
    if (info.image) {
      $("image-input").hidden = false;
      setUpCanvas();
    } else {
      $("json-input").hidden = false;
      $("instance").placeholder = `nested lists of shape ${JSON.stringify(info.input_shape)}`;
      if (!info.preprocessing || !info.preprocessing.length) {  // nothing to apply: raw and preprocessed agree
        $("input-format").disabled = true;
        $("format-choice").hidden = true;
      }
    }
    $("predict").disabled = false;
  }

  // ---- drawing --------------------------------------------------------------------------------------------------

  function setUpCanvas() {
    const canvas = $("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    clearCanvas();
    let last = null;

    // The canvas may be shown smaller than its 280x280 pixels (phones): map CSS pixels to canvas pixels.
    function point(event) {
      const r = canvas.getBoundingClientRect();
      return [(event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height];
    }
    function stroke(from, to) {
      ctx.strokeStyle = "#fff";
      ctx.fillStyle = "#fff";
      ctx.lineWidth = INK_WIDTH_FRACTION * canvas.width;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
    }
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== undefined && event.button > 0) return;  // only the primary button draws
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      last = point(event);
      stroke(last, last);  // a tap leaves a dot
    });
    canvas.addEventListener("pointermove", (event) => {
      if (last === null) return;
      event.preventDefault();
      // Fast strokes deliver several positions per event; draw through all of them so curves stay smooth.
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) {
        const p = point(e);
        stroke(last, p);
        last = p;
      }
    });
    const end = () => { last = null; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);
  }

  function clearCanvas() {
    const canvas = $("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }

  // ---- the drawing as MNIST pixels ------------------------------------------------------------------------------

  // Area-averaging resample of a gray image (Float64Array, w x h) to nw x nh: each output pixel is the mean of the
  // source area it covers, fractional edge pixels weighted by their overlap (a box filter, as when shrinking a
  // photograph by averaging; LeCun et al. 1998 used an anti-aliased scaling for MNIST).
  function resampleByArea(src, w, h, nw, nh) {
    const out = new Float64Array(nw * nh);
    const sx = w / nw;
    const sy = h / nh;
    for (let oy = 0; oy < nh; oy++) {
      const y0 = oy * sy;
      const y1 = y0 + sy;
      for (let ox = 0; ox < nw; ox++) {
        const x0 = ox * sx;
        const x1 = x0 + sx;
        let sum = 0;
        for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
          const wy = Math.min(y + 1, y1) - Math.max(y, y0);
          for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
            const wx = Math.min(x + 1, x1) - Math.max(x, x0);
            sum += src[y * w + x] * wx * wy;
          }
        }
        out[oy * nw + ox] = sum / (sx * sy);
      }
    }
    return out;
  }

  // The MNIST recipe (LeCun et al. 1998): crop to the ink's bounding box, scale so the longest side is 20 px of
  // the 28 px field keeping the aspect ratio, and place it so its centre of mass is the field's centre.
  // Returns H rows of W integers in 0..255, or null when nothing is drawn.
  function canvasToPixels(H, W) {
    const canvas = $("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const { width: cw, height: ch } = canvas;
    const rgba = ctx.getImageData(0, 0, cw, ch).data;
    const gray = new Float64Array(cw * ch);
    let top = ch, bottom = -1, left = cw, right = -1;
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const i = y * cw + x;
        const v = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / 3;
        gray[i] = v;
        if (v > 0) {
          if (y < top) top = y;
          if (y > bottom) bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
    if (bottom < 0) return null;
    const w = right - left + 1;
    const h = bottom - top + 1;
    const crop = new Float64Array(w * h);
    for (let y = 0; y < h; y++) crop.set(gray.subarray((top + y) * cw + left, (top + y) * cw + left + w), y * w);

    const box = BOX_FRACTION * Math.min(H, W);
    const scale = box / Math.max(w, h);
    const nw = Math.max(1, Math.min(W, Math.round(w * scale)));
    const nh = Math.max(1, Math.min(H, Math.round(h * scale)));
    const small = resampleByArea(crop, w, h, nw, nh);

    // Centre of mass, in pixel-centre coordinates (pixel i spans [i, i + 1]).
    let mass = 0, mx = 0, my = 0;
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        const v = small[y * nw + x];
        mass += v;
        mx += v * (x + 0.5);
        my += v * (y + 0.5);
      }
    }
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    const offX = clamp(Math.round(W / 2 - mx / mass), 0, W - nw);
    const offY = clamp(Math.round(H / 2 - my / mass), 0, H - nh);

    const rows = [];
    for (let y = 0; y < H; y++) rows.push(new Array(W).fill(0));
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        rows[offY + y][offX + x] = Math.max(0, Math.min(255, Math.round(small[y * nw + x])));
      }
    }
    return rows;
  }

  function drawPreview(rows) {
    const preview = $("preview");
    const H = rows.length;
    const W = rows[0].length;
    preview.width = W;
    preview.height = H;
    const ctx = preview.getContext("2d");
    const img = ctx.createImageData(W, H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = 4 * (y * W + x);
        img.data[i] = img.data[i + 1] = img.data[i + 2] = rows[y][x];
        img.data[i + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    $("preview-figure").hidden = false;
  }

  async function drawPreviewFromFile(file) {
    const preview = $("preview");
    try {
      const bitmap = await createImageBitmap(file);
      preview.width = bitmap.width;
      preview.height = bitmap.height;
      const ctx = preview.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(bitmap, 0, 0);
      $("preview-figure").hidden = false;
    } catch (err) {
      $("preview-figure").hidden = true;  // the server will say what is wrong with the file
    }
  }

  // ---- predicting ---------------------------------------------------------------------------------------------

  async function predict(body, headers) {
    showError("");
    $("predict").disabled = true;
    $("predicted-class").setAttribute("aria-busy", "true");
    try {
      const answer = await callJSON("predict", { method: "POST", headers: headers || {}, body });
      const prediction = answer.predictions && answer.predictions[0];
      if (!prediction) throw new Error("the server answered without a prediction");
      showPrediction(prediction);
    } catch (err) {
      showError(`Prediction failed: ${err.message}`);
    } finally {
      $("predict").disabled = false;
      $("predicted-class").removeAttribute("aria-busy");
      refreshStatsSoon();
    }
  }

  function predictFromCanvas() {
    const { height: H, width: W, channels: C } = state.info.image;
    const rows = canvasToPixels(H, W);
    if (rows === null) {
      showError("Draw something on the canvas first.");
      return;
    }
    drawPreview(rows);
    const instance = C > 1 ? rows.map((row) => row.map((v) => new Array(C).fill(v))) : rows;
    predict(JSON.stringify({ instances: [instance], input_format: "raw" }), { "Content-Type": "application/json" });
  }

  function predictFromText() {
    let value;
    try {
      value = JSON.parse($("instance").value);
    } catch (err) {
      showError(`The instance is not valid JSON: ${err.message}`);
      return;
    }
    // A pasted request body ({"instances": ...} or {"instance": ...}) is sent as it is.
    const isBody = value !== null && typeof value === "object" && !Array.isArray(value);
    const body = isBody ? value : { instances: [value] };
    if (!isBody && !$("input-format").disabled) body.input_format = $("input-format").value;
    predict(JSON.stringify(body), { "Content-Type": "application/json" });
  }

  async function predictFromUpload() {
    const file = $("upload").files[0];
    if (!file) return;
    await drawPreviewFromFile(file);  // before the answer, so the preview always shows what this answer is about
    const form = new FormData();
    form.append("image", file, file.name);
    predict(form);  // the browser sets the multipart boundary itself
  }

  function showPrediction(prediction) {
    state.lastPrediction = prediction;
    const cls = prediction["class"];
    $("predicted-class").textContent = cls === null || cls === undefined ? "–" : String(cls);
    $("result-card").dataset.predictionId = prediction.id;  // which answer is on show (tests wait for it)
    const bars = $("probabilities");
    bars.replaceChildren();
    // A model whose outputs are not probabilities gets "outputs" instead: bars relative to the largest |value|.
    const values = prediction.probabilities || prediction.outputs || [];
    const isProbability = Boolean(prediction.probabilities);
    const largest = isProbability ? 1 : Math.max(1e-12, ...values.map((v) => Math.abs(v)));
    bars.setAttribute("aria-label", isProbability ? "Probability of each class" : "The model's outputs");
    values.forEach((p, k) => {
      const row = document.createElement("div");
      row.className = "bar" + (k === cls ? " is-top" : "");
      row.setAttribute("role", "listitem");
      row.dataset.class = String(k);
      row.setAttribute("aria-label", isProbability ? `class ${k}: ${(100 * p).toFixed(1)} percent` : `output ${k}: ${p}`);
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = String(k);
      const track = document.createElement("span");
      track.className = "bar-track";
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = `${Math.max(0, Math.min(1, Math.abs(p) / largest)) * 100}%`;
      track.appendChild(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = p.toFixed(3);
      row.append(label, track, value);
      bars.appendChild(row);
    });
    if (cls !== null && cls !== undefined) $("true-label").value = String(cls);
    $("feedback").hidden = !state.info.n_classes;  // feedback takes class labels
    $("feedback-status").textContent = "";
  }

  // ---- feedback -----------------------------------------------------------------------------------------------

  function buildFeedbackChoices(n) {
    const select = $("true-label");
    select.replaceChildren();
    for (let k = 0; k < n; k++) {
      const option = document.createElement("option");
      option.value = String(k);
      option.textContent = String(k);
      select.appendChild(option);
    }
  }

  async function sendFeedback(event) {
    event.preventDefault();
    const prediction = state.lastPrediction;
    if (!prediction) return;
    const label = Number($("true-label").value);
    const button = $("send-feedback");
    button.disabled = true;
    try {
      const answer = await callJSON("feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: prediction.id, label }),
      });
      const acc = answer.accuracy === null || answer.accuracy === undefined ? "–" : percent(answer.accuracy);
      $("feedback-status").textContent = `recorded (accuracy ${acc} over ${answer.count})`;
      showError("");
    } catch (err) {
      showError(`Feedback failed: ${err.message}`);
    } finally {
      button.disabled = false;
      refreshStatsSoon();
    }
  }

  // ---- live panel: one request at a time, every STATS_PERIOD_MS while the tab is visible --------------------------

  const poller = { timer: null, inFlight: false, again: false };

  function percent(x) {
    return `${(100 * x).toFixed(1)}%`;
  }
  function num(x, digits) {
    return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
  }

  function renderStats(s) {
    const req = s.requests || {};
    $("stat-requests").textContent = String(req.total ?? "–");
    $("stat-predictions").textContent = String(req.predictions ?? "–");
    $("stat-errors").textContent = String(req.errors ?? "–");
    const lat = s.latency_ms || {};
    $("stat-latency").textContent = lat.p50 === null || lat.p50 === undefined
      ? "no requests yet" : `${num(lat.p50, 1)} / ${num(lat.p90, 1)} / ${num(lat.p99, 1)} ms`;
    const acc = s.accuracy || {};
    $("stat-accuracy").textContent = acc.overall === null || acc.overall === undefined
      ? "no feedback yet" : `${percent(acc.overall)} of ${acc.count}`;
    // accuracy.window: the accuracy over the latest accuracy.window_size labelled predictions.
    const windowed = typeof acc.window === "number" && acc.window >= 0 && acc.window <= 1;
    $("stat-window-accuracy").textContent = windowed ? `${percent(acc.window)} of the last ${acc.window_size}` : "–";
    const drift = s.drift || {};
    const status = $("drift-status");
    status.textContent = (drift.status || "unavailable").replace("_", " ");
    status.className = `drift drift-${drift.status || "unavailable"}`;
    $("stat-drift").textContent = drift.score === null || drift.score === undefined
      ? "–" : `${num(drift.score, 3)} / ${drift.p_value === null ? "–" : Number(drift.p_value).toPrecision(3)}`;
    // drift.window_size: how many requests the window holds now; drift.window: how many it can hold.
    const filled = drift.window ? `window: ${drift.window_size} of ${drift.window} requests` : "";
    $("drift-reason").textContent = drift.reason || filled;
    $("stats-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  async function pollStats() {
    poller.timer = null;
    poller.inFlight = true;
    try {
      renderStats(await callJSON("stats", { cache: "no-store" }));
    } catch (err) {
      $("stats-updated").textContent = `(stats unavailable: ${err.message})`;
    } finally {
      poller.inFlight = false;
      if (poller.again) {
        poller.again = false;
        pollStats();
      } else if (!document.hidden) {
        poller.timer = setTimeout(pollStats, STATS_PERIOD_MS);
      }
    }
  }

  // After a prediction or feedback: refresh now instead of waiting for the next tick, never two requests at once.
  function refreshStatsSoon() {
    if (poller.inFlight) {
      poller.again = true;
      return;
    }
    clearTimeout(poller.timer);
    pollStats();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(poller.timer);
      poller.timer = null;
    } else if (!poller.inFlight && poller.timer === null) {
      pollStats();
    }
  });

  // ---- wiring -------------------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("predict").addEventListener("click", () => {
      if (!state.info) return;
      if (state.info.image) predictFromCanvas();
      else predictFromText();
    });
    $("clear").addEventListener("click", () => {
      if (state.info && state.info.image) {
        clearCanvas();
        $("upload").value = "";
      } else {
        $("instance").value = "";
      }
      showError("");
    });
    $("upload").addEventListener("change", predictFromUpload);
    $("feedback").addEventListener("submit", sendFeedback);
    loadInfo();
    pollStats();
  });
})();
