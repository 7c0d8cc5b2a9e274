// The training replay of lesson 06. Every number it shows was recorded by Python during the
// lesson's training run (yolo_lesson.replay.TrainingRecorder) and arrives in `recording`;
// this script looks up the frame of the chosen step and maps its numbers to pixels. It
// computes nothing else, so the replay is the same in JupyterLab and on the static website.

const SVG = "http://www.w3.org/2000/svg";
const PANEL = 140; // side of one image panel, in pixels
const FG = "var(--jp-content-font-color1, #1a1a1a)";
const MUTED = "var(--jp-content-font-color2, #555555)";
const BORDER = "var(--jp-border-color1, #8a8a8a)";
const PLAY_MS = 140; // one recorded snapshot per tick while playing

function node(tag, attrs, parent, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

function html(tag, attrs, parent, text) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

function isStaticSite() {
  return Boolean(window.YOLO_COURSE_SITE && window.YOLO_COURSE_SITE.static);
}

// One image panel: the picture, the true boxes dashed, and either the detections or the
// objectness grid. Returns the group that each frame redraws.
function panel(parent, href, title) {
  const svg = node("svg", {
    width: PANEL, height: PANEL + 16, viewBox: `0 -16 ${PANEL} ${PANEL + 16}`,
    role: "img", "aria-label": title,
  }, parent);
  node("text", { x: 0, y: -4, "font-size": 11, fill: FG }, svg, title);
  node("image", {
    href, x: 0, y: 0, width: PANEL, height: PANEL, preserveAspectRatio: "none",
    style: "image-rendering: pixelated",
  }, svg);
  node("rect", { x: 0.5, y: 0.5, width: PANEL - 1, height: PANEL - 1, fill: "none", stroke: BORDER }, svg);
  return node("g", {}, svg);
}

function drawTruths(group, truths) {
  for (const [x1, y1, x2, y2] of truths) {
    const attrs = { x: x1 * PANEL, y: y1 * PANEL, width: (x2 - x1) * PANEL, height: (y2 - y1) * PANEL, fill: "none" };
    // White dashes on a dark halo: visible on every background colour of the images.
    node("rect", { ...attrs, stroke: "#000000", "stroke-opacity": 0.6, "stroke-width": 3 }, group);
    node("rect", { ...attrs, stroke: "#ffffff", "stroke-width": 1.5, "stroke-dasharray": "4 3", class: "truth" }, group);
  }
}

const CHAR = 6.02; // width of one character of the 10 px monospace labels
const LABEL_H = 11;

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// Each detection's box, and its label ("class score") on the first free place among: above the
// box, inside its top, below it, inside its bottom; so that labels of near boxes do not cover
// each other.
function drawDetections(group, detections, data) {
  const placed = [];
  for (const [x1, y1, x2, y2, score, label] of detections) {
    const color = data.class_colors[label];
    const box = node("g", { class: "detection" }, group);
    node("rect", {
      x: x1 * PANEL, y: y1 * PANEL, width: (x2 - x1) * PANEL, height: (y2 - y1) * PANEL,
      fill: "none", stroke: color, "stroke-width": 2,
    }, box);
    const text = `${data.classes[label]} ${score.toFixed(2)}`;
    const w = CHAR * text.length + 2;
    const x = Math.min(Math.max(x1 * PANEL, 0), PANEL - w);
    const candidates = [y1 * PANEL - LABEL_H, y1 * PANEL, y2 * PANEL, y2 * PANEL - LABEL_H]
      .filter((y) => y >= 0 && y + LABEL_H <= PANEL)
      .map((y) => ({ x, y, w, h: LABEL_H }));
    const spot = candidates.find((c) => !placed.some((p) => overlaps(c, p))) || candidates[0] || { x, y: 0, w, h: LABEL_H };
    placed.push(spot);
    node("rect", { x: spot.x, y: spot.y, width: w, height: LABEL_H, fill: color, opacity: 0.9 }, box);
    node("text", {
      x: spot.x + 1, y: spot.y + LABEL_H - 2.5, "font-size": 10, "font-family": "monospace",
      fill: data.class_text_colors[label],
    }, box, text);
  }
}

// The heat map of each cell's objectness, the true boxes over it, and the numbers on top.
function drawObjectness(group, grid, truths, data) {
  const S = data.S;
  const cell = PANEL / S;
  const at = (k) => [Math.floor(k / S), k % S]; // row by row
  grid.forEach((value, k) => {
    const [r, c] = at(k);
    node("rect", {
      x: c * cell, y: r * cell, width: cell, height: cell,
      fill: data.objectness_color, "fill-opacity": (0.85 * value).toFixed(3), stroke: "#ffffff", "stroke-opacity": 0.35,
    }, group);
  });
  drawTruths(group, truths);
  grid.forEach((value, k) => {
    const [r, c] = at(k);
    node("text", {
      x: (c + 0.5) * cell, y: (r + 0.5) * cell + 4, "text-anchor": "middle", "font-size": 11,
      fill: "#ffffff", stroke: "#000000", "stroke-width": 2.5, "paint-order": "stroke",
      class: "objectness-value",
    }, group, value.toFixed(2));
  });
}

// The loss curves: every step's value (faint) and its trailing mean, on a log scale, with a
// cursor at the shown step. Returns the function that moves the cursor.
function curves(parent, data) {
  const W = 460, H = 200, left = 46, right = 10, top = 10, bottom = 32;
  const svg = node("svg", {
    width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "yolo-replay-curves", role: "img",
    "aria-label": "Loss terms at every training step, on a log scale, with a cursor at the shown step",
  }, parent);
  const steps = data.steps;
  const last = Math.max(steps.length ? steps[steps.length - 1] : 1, data.frames[data.frames.length - 1].step, 1);
  let lo = Infinity, hi = -Infinity;
  for (const name of data.term_names) {
    for (const v of data.terms[name]) if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (!isFinite(lo)) { lo = 0.01; hi = 1; }
  const lgLo = Math.floor(Math.log10(lo)), lgHi = Math.ceil(Math.log10(hi));
  const span = Math.max(lgHi - lgLo, 1);
  const x = (step) => left + (W - left - right) * step / last;
  const y = (v) => top + (H - top - bottom) * (lgHi - Math.log10(Math.max(v, Math.pow(10, lgLo)))) / span;
  for (let e = lgLo; e <= lgHi; e++) {
    node("line", { x1: left, x2: W - right, y1: y(10 ** e), y2: y(10 ** e), stroke: BORDER, "stroke-opacity": 0.4 }, svg);
    node("text", { x: left - 4, y: y(10 ** e) + 4, "text-anchor": "end", "font-size": 10, fill: MUTED }, svg, `1e${e}`);
  }
  for (const t of [0, Math.round(last / 2), last]) {
    node("text", { x: x(t), y: H - bottom + 14, "text-anchor": "middle", "font-size": 10, fill: MUTED }, svg, String(t));
  }
  node("text", { x: (left + W - right) / 2, y: H - 4, "text-anchor": "middle", "font-size": 11, fill: FG }, svg, "training step");
  node("line", { x1: left, x2: left, y1: top, y2: H - bottom, stroke: BORDER }, svg);
  node("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, stroke: BORDER }, svg);
  // A polyline through (step, value) pairs; a null value (a frame before the first step) is skipped.
  const path = (at, values) => values
    .map((v, i) => [at[i], v]).filter(([, v]) => v !== null)
    .map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const frameSteps = data.frames.map((f) => f.step);
  for (const name of data.term_names) {
    const color = data.term_colors[name];
    if (!steps.length) continue;
    node("path", { d: path(steps, data.terms[name]), fill: "none", stroke: color, "stroke-opacity": 0.25, "stroke-width": 1 }, svg);
    node("path", { d: path(frameSteps, data.smoothed[name]), fill: "none", stroke: color, "stroke-width": name === "total" ? 2.2 : 1.6, class: `curve-${name}` }, svg);
  }
  const cursor = node("line", { y1: top, y2: H - bottom, stroke: FG, "stroke-width": 1.2, "stroke-dasharray": "3 2", class: "cursor" }, svg);
  const dots = node("g", {}, svg);
  return (step, at) => {
    cursor.setAttribute("x1", x(step));
    cursor.setAttribute("x2", x(step));
    dots.replaceChildren();
    if (at === null) return;
    for (const name of data.term_names) {
      node("circle", { cx: x(step), cy: y(data.terms[name][at]), r: 3, fill: data.term_colors[name], stroke: "#ffffff" }, dots);
    }
  };
}

function render({ model, el }) {
  const data = model.get("recording");
  const frames = data.frames;
  const root = html("div", { class: "yolo-replay", role: "group", "aria-label": "Training replay" }, el);
  // JupyterLab's notebook shortcuts leave the keys alone here: arrow keys move the slider.
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("data-p-suppress-shortcuts", "true");

  const controls = html("div", { class: "yolo-replay-controls" }, root);
  const play = html("button", { type: "button", class: "yolo-replay-play", "aria-label": "Play the training" }, controls, "▶ play");
  const slider = html("input", {
    type: "range", min: 0, max: frames.length - 1, step: 1, value: model.get("frame"),
    class: "yolo-replay-slider", "aria-label": "Training step",
  }, controls);
  const label = html("span", { class: "yolo-replay-step", "aria-live": "polite" }, controls);

  const panels = html("div", { class: "yolo-replay-panels" }, root);
  const images = html("div", { class: "yolo-replay-images" }, panels);
  const grid = html("div", { style: "display:grid; grid-template-columns: repeat(" + data.images.length + ", auto); gap: 6px 8px;" }, images);
  const detectionGroups = data.images.map((href, i) => panel(grid, href, `image ${i + 1}: detections`));
  const objectnessGroups = data.images.map((href, i) => panel(grid, href, `image ${i + 1}: objectness`));
  html("div", { style: "font-size: 11px; max-width: 640px; color: " + MUTED }, images,
    `Boxes: detections with score > ${data.score_threshold} after NMS, a colour per class ` +
    `(${data.classes.join(", ")}); dashed white: the true boxes. Objectness: each cell's largest ` +
    `confidence over its ${data.B} predictors.`);

  const right = html("div", { class: "yolo-replay-right" }, panels);
  const moveCursor = curves(right, data);
  const readout = html("div", { class: "yolo-replay-readout" }, right);
  const table = html("table", {}, readout);
  const cells = {};
  for (const name of data.term_names) {
    const row = html("tr", {}, table);
    const swatch = html("td", {}, row);
    html("span", { class: "yolo-swatch", style: `display:inline-block;width:0.8em;height:0.8em;margin-right:0.35em;background:${data.term_colors[name]}` }, swatch);
    swatch.append(name);
    cells[name] = html("td", { class: "num", "data-term": name }, row);
  }
  const found = html("div", { class: "yolo-replay-found" }, readout);

  function show(index) {
    const frame = frames[index];
    const step = frame.step;
    const at = data.steps.indexOf(step);
    label.textContent = `step ${step} of ${data.steps.length ? data.steps[data.steps.length - 1] : step}`;
    label.dataset.step = step;
    slider.value = index;
    for (const name of data.term_names) {
      cells[name].textContent = at < 0 ? "–" : data.terms[name][at].toPrecision(4);
    }
    const counts = frame.detections.map((d) => d.length);
    found.dataset.detections = counts.join(",");
    found.textContent = at < 0
      ? `before the first step; detections per image: ${counts.join(", ")}`
      : `loss of step ${step}'s batch; detections per image: ${counts.join(", ")}`;
    detectionGroups.forEach((group, i) => {
      group.replaceChildren();
      drawTruths(group, data.truths[i]);
      drawDetections(group, frame.detections[i], data);
    });
    objectnessGroups.forEach((group, i) => {
      group.replaceChildren();
      drawObjectness(group, frame.objectness[i], data.truths[i], data);
    });
    moveCursor(step, at < 0 ? null : at);
  }

  function choose(index) {
    index = Math.max(0, Math.min(frames.length - 1, index));
    show(index);
    model.set("frame", index);
    if (!isStaticSite()) model.save_changes(); // no kernel on the website to tell
  }

  let timer = null;
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
    play.setAttribute("aria-label", "Play the training");
  }
  play.addEventListener("click", () => {
    if (timer !== null) return stop();
    if (Number(slider.value) >= frames.length - 1) choose(0);
    play.textContent = "❚❚ pause";
    play.setAttribute("aria-label", "Pause");
    timer = setInterval(() => {
      const next = Number(slider.value) + 1;
      if (next >= frames.length) return stop();
      choose(next);
    }, PLAY_MS);
  });
  slider.addEventListener("input", () => { stop(); choose(Number(slider.value)); });
  // The keys of a slider, handled here: in JupyterLab the notebook's own key handling would
  // otherwise keep the range input from moving.
  const KEYS = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
  slider.addEventListener("keydown", (event) => {
    let index = null;
    if (event.key in KEYS) index = Number(slider.value) + KEYS[event.key];
    else if (event.key === "Home") index = 0;
    else if (event.key === "End") index = frames.length - 1;
    if (index === null) return;
    event.preventDefault();
    event.stopPropagation();
    stop();
    choose(index);
  });
  const onFrame = () => show(model.get("frame"));
  model.on("change:frame", onFrame);
  show(Math.max(0, Math.min(frames.length - 1, model.get("frame"))));
  return () => { stop(); model.off("change:frame", onFrame); };
}

export default { render };
