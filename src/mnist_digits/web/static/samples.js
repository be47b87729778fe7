// mnist-digits: "Wrong? It's a ..." under the answer. Plain browser JavaScript, no build step.
//
// app.js announces each answer it shows (the "mnist-answer" event) and lends its drawing
// (window.mnistDrawing: a PNG data URL, or the uploaded photo's File). A click on a digit
// sends that image with the right label to POST /api/samples as a correction; the server
// reads the image again itself, so what it stores is its own 28x28 input and answer.
// When the server does not collect samples (GET /api/samples/config), nothing is shown.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const panel = $("correct");
  const said = $("correct-said");
  const state = { collect: false, sending: false, shown: null };

  async function loadConfig() {
    if (window.MNIST_SITE) return;           // a static site has no server to store samples
    try {
      const response = await fetch("/api/samples/config");
      state.collect = response.ok && (await response.json()).collect === true;
    } catch (err) {
      state.collect = false;
    }
    $("collect-link").hidden = !state.collect;
    update(state.shown);
  }

  function buildButtons() {
    const buttons = [];
    for (let d = 0; d < 10; d++) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = String(d);
      button.dataset.digit = String(d);
      button.setAttribute("aria-label", `It's a ${d}`);
      button.addEventListener("click", () => correct(d));
      buttons.push(button);
    }
    $("correct-digits").replaceChildren(...buttons);
  }

  // Offer a correction for a single digit the model found ink in (right or wrong: the
  // person knows); hide it for an empty canvas and in number mode.
  function update(answer) {
    state.shown = answer;
    const data = answer && answer.data;
    const offer = state.collect && answer && answer.mode === "digit" && data
      && data.status !== "no_digit";
    panel.hidden = !offer;
    said.textContent = "";
    said.classList.remove("failed");
    setBusy(false);
  }

  function setBusy(busy) {
    state.sending = busy;
    panel.querySelectorAll("button").forEach((b) => { b.disabled = busy; });
  }

  function body(image, digit) {
    if (typeof image === "string") {
      return {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image, label: digit, kind: "correction" }),
      };
    }
    const form = new FormData();
    form.append("file", image);
    form.append("label", String(digit));
    form.append("kind", "correction");
    return { body: form };
  }

  async function correct(digit) {
    if (state.sending || !window.mnistDrawing) return;
    setBusy(true);
    said.classList.remove("failed");
    said.textContent = "Saving…";
    try {
      const response = await fetch("/api/samples", { method: "POST", ...body(window.mnistDrawing(), digit) });
      const data = await response.json();
      if (!response.ok) throw new Error(data.detail || `The server answered ${response.status}.`);
      said.textContent = `Saved as a ${digit} — thank you`;
      panel.dataset.saved = String(data.id);
    } catch (err) {
      said.classList.add("failed");
      said.textContent = err.message || "Cannot reach the server.";
    }
    setBusy(false);
  }

  document.addEventListener("mnist-answer", (e) => update(e.detail));
  buildButtons();
  loadConfig();
})();
