// The λ explorer of lesson 04: two sliders, each term's share of the loss as stacked bars,
// each term's gradient norm as side-by-side bars (pale: the paper's λs; solid: yours), and
// the numbers in a table. It draws what Python computed and sends back only the slider values.
//
// With a kernel: while a slider moves, the values go to Python at most every 50 ms and one
// request at a time; each answer carries the number of the request it answers, and an answer
// older than the one drawn is never drawn. When the slider stops, its last value is always
// sent. On the website (window.YOLO_COURSE_SITE.static) no kernel answers: the slider snaps
// to the nearest state of the recorded grid (the `recording` trait) and draws that state.

const SVG = "http://www.w3.org/2000/svg";
// JupyterLab's theme colours; elsewhere (the website, in its light or dark theme) the page's
// own text colour.
const FG = "var(--jp-content-font-color1, currentColor)";
const MUTED = "var(--jp-content-font-color2, currentColor)";
const GRID = "var(--jp-border-color2, #c8c8c8)";
// Numbers line up on their decimal point, whatever a page's own table style says.
const RIGHT = "text-align: right";
const THROTTLE_MS = 50; // at most one request per 50 ms while a slider moves
const STALE_MS = 2000; // a request unanswered this long no longer blocks the next one
const PALE = 0.4; // opacity of the paper-λ bars
const SLIDERS = [
  { key: "lambda_coord", label: "λ_coord", grid: "lambda_coord", min: 0, max: 20, step: 0.5, digits: 1 },
  { key: "lambda_noobj", label: "λ_noobj", grid: "lambda_noobj", min: 0, max: 2, step: 0.05, digits: 2 },
];

const CSS = `
.yolo-lambda { font-size: 13px; color: ${FG}; max-width: 100%; }
.yolo-lambda .controls { display: flex; flex-wrap: wrap; gap: 6px 28px; margin-bottom: 6px; }
.yolo-lambda .slider { display: flex; align-items: center; gap: 8px; min-width: 260px; }
.yolo-lambda .slider span.name { min-width: 4.5em; font-weight: 600; }
.yolo-lambda .slider input[type=range] { width: 200px; min-width: 160px; flex: 0 0 auto; margin: 0; }
.yolo-lambda .slider output { min-width: 3em; font-family: var(--jp-code-font-family, monospace); }
.yolo-lambda .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 4px 0 6px; }
.yolo-lambda .legend span.key { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
.yolo-lambda .legend i { display: inline-block; width: 12px; height: 12px; border: 1px solid ${GRID}; }
.yolo-lambda .body { display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: flex-start; }
.yolo-lambda svg { display: block; flex: 0 0 auto; }
.yolo-lambda svg text { fill: ${FG}; font-size: 12px; font-family: inherit; }
.yolo-lambda table { border-collapse: collapse; flex: 0 0 auto; margin: 0; }
.yolo-lambda th, .yolo-lambda td { padding: 2px 7px; text-align: right; white-space: nowrap; }
.yolo-lambda th { font-weight: 600; border-bottom: 1px solid ${GRID}; vertical-align: bottom; }
.yolo-lambda th.group { text-align: center; }
.yolo-lambda td.num { font-family: var(--jp-code-font-family, monospace); }
.yolo-lambda tr.total td { border-top: 1px solid ${GRID}; font-weight: 600; }
.yolo-lambda .yolo-lambda-term { text-align: left; }
.yolo-lambda .summary { margin-top: 6px; color: ${MUTED}; }
.yolo-lambda .notes { color: #a0522d; }
`;

function svgNode(tag, attrs, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (parent) parent.appendChild(el);
  return el;
}

function html(tag, attrs, parent, text) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

// The index of the grid value nearest `value` (the grid is short: a scan is enough).
function nearest(grid, value) {
  let best = 0;
  for (let k = 1; k < grid.length; k++) {
    if (Math.abs(grid[k] - value) < Math.abs(grid[best] - value)) best = k;
  }
  return best;
}

// The recorded state at the grid point nearest (lambda_coord, lambda_noobj).
function lookUp(recording, lambdaCoord, lambdaNoobj) {
  const i = nearest(recording.lambda_coord, lambdaCoord);
  const j = nearest(recording.lambda_noobj, lambdaNoobj);
  const k = i * recording.lambda_noobj.length + j;
  const pick = (table) => Object.fromEntries(Object.entries(table).map(([name, values]) => [name, values[k]]));
  return {
    lambda_coord: recording.lambda_coord[i],
    lambda_noobj: recording.lambda_noobj[j],
    terms: pick(recording.terms),
    grad_norms: pick(recording.grad_norms),
    object_cells: recording.object_cells,
    empty_predictors: recording.empty_predictors,
    notes: [],
  };
}

function render({ model, el }) {
  const site = Boolean(window.YOLO_COURSE_SITE && window.YOLO_COURSE_SITE.static);
  const names = model.get("names");
  const colors = model.get("colors");
  // The recorded states arrive as one JSON text (a compact line in the saved notebook).
  let recording = null;
  const recorded = () => (recording = recording || JSON.parse(model.get("recording")));
  const decimals = recorded().decimals;
  const fmt = (v) => Number(v).toFixed(decimals);

  const style = html("style", {}, el);
  style.textContent = CSS;
  const root = html("div", { class: "yolo-lambda", role: "group", "aria-label": "λ explorer" }, el);

  // --- sliders ---
  const controls = html("div", { class: "controls" }, root);
  const inputs = {};
  const outputs = {};
  for (const s of SLIDERS) {
    const label = html("label", { class: "slider" }, controls);
    html("span", { class: "name" }, label, s.label);
    const input = html("input", {
      type: "range", min: s.min, max: s.max, step: s.step, "data-slider": s.key, "aria-label": s.label,
      // JupyterLab matches its shortcuts from the focused element up: the mark must be on
      // the slider itself, or the arrow keys move between notebook headings instead.
      "data-lm-suppress-shortcuts": "true", "data-p-suppress-shortcuts": "true",
    }, label);
    input.value = model.get(s.key);
    const output = html("output", { "data-slider-value": s.key }, label, Number(input.value).toFixed(s.digits));
    inputs[s.key] = input;
    outputs[s.key] = output;
  }

  // --- legend: its own row, above the charts, so it never covers a bar ---
  const legend = html("div", { class: "legend" }, root);
  for (const name of names) {
    const key = html("span", { class: "key" }, legend);
    html("i", { style: `background:${colors[name]}` }, key);
    key.append(name);
  }
  const pale = html("span", { class: "key" }, legend);
  html("i", { style: `background:${MUTED};opacity:${PALE}` }, pale);
  pale.append("pale: paper λ (5, 0.5)");
  const solid = html("span", { class: "key" }, legend);
  html("i", { style: `background:${MUTED};outline:1px solid ${FG}` }, solid);
  solid.append("solid: your λ");

  const body = html("div", { class: "body" }, root);
  const lossChart = svgNode("svg", { width: 250, height: 230, class: "loss-chart", role: "img" }, body);
  const gradChart = svgNode("svg", { width: 330, height: 230, class: "grad-chart", role: "img" }, body);
  const table = html("table", { class: "yolo-readout" }, body);
  const summary = html("div", { class: "summary" }, root);
  const notes = html("div", { class: "notes" }, root);

  // The table: built once, numbers filled in by draw().
  // Two header rows keep the columns as narrow as their numbers.
  const thead = html("thead", {}, table);
  const top = html("tr", {}, thead);
  html("th", { rowspan: 2, class: "yolo-lambda-term" }, top, "term");
  html("th", { colspan: 2, class: "group" }, top, "loss");
  html("th", { colspan: 2, class: "group" }, top, "gradient norm");
  const sub = html("tr", {}, thead);
  for (const title of ["paper λ", "your λ", "paper λ", "your λ"]) html("th", { style: RIGHT }, sub, title);
  const tbody = html("tbody", {}, table);
  const cells = {};
  for (const name of [...names, "total"]) {
    const row = html("tr", { class: name === "total" ? "total" : "" }, tbody);
    html("td", { class: "yolo-lambda-term" }, row, name);
    cells[name] = {
      paperTerm: html("td", { class: "num", style: RIGHT, "data-paper-term": name }, row),
      term: html("td", { class: "num", style: RIGHT, "data-term": name }, row),
      paperGrad: html("td", { class: "num", style: RIGHT, "data-paper-grad-norm": name }, row),
      grad: html("td", { class: "num", style: RIGHT, "data-grad-norm": name }, row),
    };
  }

  // Bars scaled so the tallest of the drawn ones fills the plot; its value is the top label.
  function drawLoss(paper, yours) {
    lossChart.replaceChildren();
    const top = 40, bottom = 200, left = 60, barWidth = 60, gap = 50;
    const largest = Math.max(paper.terms.total, yours.terms.total) || 1;
    const px = (v) => ((bottom - top) * v) / largest;
    svgNode("text", { x: 4, y: 14 }, lossChart).textContent = "loss, split by term";
    svgNode("line", { x1: left - 8, x2: 240, y1: bottom, y2: bottom, stroke: GRID }, lossChart);
    [[paper, "paper λ", PALE], [yours, "your λ", 1]].forEach(([view, label, opacity], b) => {
      const x = left + b * (barWidth + gap);
      let y = bottom;
      for (const name of names) {
        const h = px(view.terms[name]);
        y -= h;
        svgNode("rect", {
          x, y, width: barWidth, height: Math.max(h, 0), fill: colors[name], "fill-opacity": opacity,
          "data-bar": `${b ? "yours" : "paper"}-loss-${name}`,
        }, lossChart);
      }
      svgNode("text", { x: x + barWidth / 2, y: y - 4, "text-anchor": "middle" }, lossChart).textContent = fmt(view.terms.total);
      svgNode("text", { x: x + barWidth / 2, y: bottom + 16, "text-anchor": "middle" }, lossChart).textContent = label;
    });
  }

  function drawGrads(paper, yours) {
    gradChart.replaceChildren();
    const top = 40, bottom = 200, left = 14, group = 78, barWidth = 26;
    const largest = Math.max(...names.flatMap((n) => [paper.grad_norms[n], yours.grad_norms[n]])) || 1;
    const px = (v) => ((bottom - top) * v) / largest;
    svgNode("text", { x: 4, y: 14 }, gradChart).textContent = "gradient norm per term";
    svgNode("line", { x1: 4, x2: 326, y1: top, y2: top, stroke: GRID, "stroke-dasharray": "3 3" }, gradChart);
    svgNode("text", { x: 326, y: top - 4, "text-anchor": "end" }, gradChart).textContent = fmt(largest);
    svgNode("line", { x1: 4, x2: 326, y1: bottom, y2: bottom, stroke: GRID }, gradChart);
    names.forEach((name, k) => {
      const x = left + k * group;
      [[paper, PALE, "paper"], [yours, 1, "yours"]].forEach(([view, opacity, who], b) => {
        const h = px(view.grad_norms[name]);
        svgNode("rect", {
          x: x + b * (barWidth + 4), y: bottom - h, width: barWidth, height: Math.max(h, 0),
          fill: colors[name], "fill-opacity": opacity, stroke: b ? FG : "none", "stroke-width": b ? 1 : 0,
          "data-bar": `${who}-grad-${name}`,
        }, gradChart);
      });
      svgNode("text", { x: x + barWidth + 2, y: bottom + 16, "text-anchor": "middle" }, gradChart).textContent = name;
    });
  }

  let rendered = -1; // the request number of the state drawn
  function draw(view) {
    const paper = model.get("paper");
    drawLoss(paper, view);
    drawGrads(paper, view);
    for (const name of [...names, "total"]) {
      cells[name].paperTerm.textContent = fmt(paper.terms[name]);
      cells[name].term.textContent = fmt(view.terms[name]);
      cells[name].paperGrad.textContent = fmt(paper.grad_norms[name]);
      cells[name].grad.textContent = fmt(view.grad_norms[name]);
    }
    summary.textContent = `Your λ: λ_coord = ${Number(view.lambda_coord).toFixed(1)}, λ_noobj = ` +
      `${Number(view.lambda_noobj).toFixed(2)}. ${view.object_cells} object cells; ` +
      `${view.empty_predictors} predictors in the no-object term.` +
      (site ? " Answers recorded ahead of time for every slider position." : "");
    notes.textContent = (view.notes || []).length ? `Repaired: ${view.notes.join("; ")}` : "";
    root.dataset.lambdaCoord = view.lambda_coord;
    root.dataset.lambdaNoobj = view.lambda_noobj;
  }

  // --- the website: look up the recorded state, once per animation frame ---
  let frame = 0;
  function showRecorded() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const view = lookUp(recorded(), Number(inputs.lambda_coord.value), Number(inputs.lambda_noobj.value));
      inputs.lambda_coord.value = view.lambda_coord; // the slider sits on the state shown
      inputs.lambda_noobj.value = view.lambda_noobj;
      draw(view);
    });
  }

  // --- a live kernel: throttled requests, one in flight, the last value always sent ---
  let sent = model.get("seq");
  let sentAt = -Infinity;
  let inFlight = false;
  let pending = false;
  let timer = 0;
  function pump() {
    if (!pending || timer) return;
    const now = performance.now();
    const wait = inFlight ? sentAt + STALE_MS - now : sentAt + THROTTLE_MS - now;
    if (wait > 0) {
      timer = setTimeout(() => { timer = 0; pump(); }, wait);
      return;
    }
    pending = false;
    inFlight = true;
    sentAt = now;
    sent += 1;
    model.set("lambda_coord", Number(inputs.lambda_coord.value));
    model.set("lambda_noobj", Number(inputs.lambda_noobj.value));
    model.set("seq", sent);
    model.save_changes();
  }

  function onInput(event) {
    const s = SLIDERS.find((s) => s.key === event.target.dataset.slider);
    outputs[s.key].textContent = Number(event.target.value).toFixed(s.digits);
    if (site) {
      showRecorded();
      return;
    }
    pending = true;
    pump();
  }
  for (const input of Object.values(inputs)) input.addEventListener("input", onInput);

  function onAnswer() {
    const view = model.get("shown");
    if (!view || view.seq < rendered) return; // an answer older than the one drawn
    rendered = view.seq;
    draw(view);
    if (view.seq >= sent) {
      inFlight = false;
      if (timer) { clearTimeout(timer); timer = 0; }
      // A change made from Python moves the sliders, unless the learner is moving one.
      if (!pending) {
        for (const s of SLIDERS) {
          inputs[s.key].value = view[s.key];
          outputs[s.key].textContent = Number(inputs[s.key].value).toFixed(s.digits);
        }
      }
      pump();
    }
  }
  model.on("change:shown", onAnswer);
  if (model.get("shown") && model.get("shown").terms) onAnswer();

  return () => {
    model.off("change:shown", onAnswer);
    if (timer) clearTimeout(timer);
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
