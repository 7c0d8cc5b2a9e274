// The bug toggles: one button per bug of the tutorials; for the chosen one, each loss term's
// recorded training curve over the paper's, and both held-out mAPs with a one-line reading.
//
// Every number arrives from Python in the synced `data` (recorded by `make ablations`,
// summarized by yolo_lesson.ablation_view): this file only switches which recorded set is
// shown and maps numbers to pixels (steps on a linear x axis, losses on a log y axis). It needs
// no kernel, so the static website shows the same view as JupyterLab.

const SVG = "http://www.w3.org/2000/svg";
const W = 260, H = 170; // one panel's viewBox
const M = { left: 40, right: 14, top: 20, bottom: 26 };
const FG = "var(--jp-content-font-color1, #1a1a1a)";
const GRID = "var(--jp-border-color2, #d6d6d6)";

function svgNode(tag, attrs, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (parent) parent.appendChild(el);
  return el;
}

function htmlNode(tag, attrs, parent, text) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

function tickLabel(value) {
  return value >= 1 ? String(value) : String(value).replace(/^0\./, ".");
}

function panel(data, term, paper, variant, colors) {
  const axis = variant.axes[term];
  const steps = data.steps;
  const last = Math.max(data.budget || 0, steps[steps.length - 1]);
  const x = (step) => M.left + ((W - M.left - M.right) * step) / last;
  const lo = Math.log10(axis.min), hi = Math.log10(axis.max);
  const y = (v) => {
    const clamped = Math.min(Math.max(v, axis.min), axis.max);
    return M.top + ((H - M.top - M.bottom) * (hi - Math.log10(clamped))) / (hi - lo);
  };
  const svg = svgNode("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "data-term": term });
  svgNode("title", {}, svg).textContent =
    `${term} loss over training steps, log scale: the paper's loss in grey, ${variant.name} in colour`;
  for (const tick of axis.ticks) {
    svgNode("line", { x1: M.left, x2: W - M.right, y1: y(tick), y2: y(tick), stroke: GRID, "stroke-width": 0.6 }, svg);
    const label = svgNode("text", { x: M.left - 4, y: y(tick) + 3.5, "text-anchor": "end", "font-size": 10, fill: FG }, svg);
    label.textContent = tickLabel(tick);
  }
  for (const step of [0, 100, 200, 300].filter((s) => s <= last)) {
    const label = svgNode("text", { x: x(step), y: H - M.bottom + 13, "text-anchor": "middle", "font-size": 10, fill: FG }, svg);
    label.textContent = String(step);
  }
  svgNode("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, stroke: FG, "stroke-width": 0.8 }, svg);
  svgNode("line", { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, stroke: FG, "stroke-width": 0.8 }, svg);
  const title = svgNode("text", { x: M.left, y: 13, "font-size": 12, "font-weight": "bold", fill: FG }, svg);
  title.textContent = term;
  const caption = svgNode("text", { x: W - M.right, y: H - 2, "text-anchor": "end", "font-size": 9, fill: FG }, svg);
  caption.textContent = "step";
  for (const [set, color, role] of [[paper, colors.paper, "paper"], [variant, colors.variant, "variant"]]) {
    const curve = set.curves[term];
    const upper = steps.map((s, i) => `${x(s).toFixed(1)},${y(curve.high[i]).toFixed(1)}`);
    const lower = steps.map((s, i) => `${x(s).toFixed(1)},${y(curve.low[i]).toFixed(1)}`).reverse();
    svgNode("polygon", { points: upper.concat(lower).join(" "), fill: color, "fill-opacity": 0.18, stroke: "none" }, svg);
    const mean = steps.map((s, i) => `${x(s).toFixed(1)},${y(curve.mean[i]).toFixed(1)}`).join(" ");
    svgNode("polyline", {
      points: mean, fill: "none", stroke: color, "stroke-width": 1.5,
      "stroke-dasharray": role === "paper" ? "5 3" : "none", "data-curve": role,
    }, svg);
  }
  return svg;
}

function legendSwatch(color, dashed) {
  const svg = svgNode("svg", { width: 28, height: 10, "aria-hidden": "true" });
  svgNode("rect", { x: 0, y: 0, width: 28, height: 10, fill: color, "fill-opacity": 0.18 }, svg);
  svgNode("line", { x1: 0, x2: 28, y1: 5, y2: 5, stroke: color, "stroke-width": 2, "stroke-dasharray": dashed ? "5 3" : "none" }, svg);
  return svg;
}

function render({ model, el }) {
  const root = htmlNode("div", { class: "yolo-ablations" }, el);
  const group = htmlNode("div", { class: "yolo-ab-buttons", role: "group", "aria-label": "Bug to switch on" }, root);
  const table = htmlNode("table", { class: "yolo-ab-maps" }, root);
  const reading = htmlNode("div", { class: "yolo-ab-reading", "aria-live": "polite" }, root);
  const legend = htmlNode("div", { class: "yolo-ab-legend" }, root);
  const panels = htmlNode("div", { class: "yolo-ab-panels" }, root);
  const buttons = new Map();

  function choose(name) {
    model.set("variant", name);
    const site = window.YOLO_COURSE_SITE && window.YOLO_COURSE_SITE.static;
    if (!site) {
      try { model.save_changes(); } catch (error) { /* no kernel: the view still switches */ }
    }
    draw();
  }

  function draw() {
    const data = model.get("data");
    const colors = model.get("colors");
    if (!data || !data.variants) return;
    const name = model.get("variant");
    const variant = data.variants.find((v) => v.name === name) || data.variants[0];
    const paper = data.paper;
    root.setAttribute("data-variant", variant.name);

    if (buttons.size === 0) {
      for (const v of data.variants) {
        const button = htmlNode("button", { type: "button", "data-variant": v.name, title: v.change }, group, v.label);
        button.addEventListener("click", () => choose(v.name));
        buttons.set(v.name, button);
      }
    }
    for (const [key, button] of buttons) button.setAttribute("aria-pressed", String(key === variant.name));

    // One column per run set, one row per seed: narrow enough for a narrow notebook.
    table.replaceChildren();
    const head = htmlNode("tr", {}, htmlNode("thead", {}, table));
    htmlNode("th", {}, head, `mAP@0.5`);
    htmlNode("th", {}, head, "paper's loss");
    htmlNode("th", {}, head, variant.label);
    htmlNode("th", {}, head, "difference");
    const body = htmlNode("tbody", {}, table);
    const summary = htmlNode("tr", {}, body);
    htmlNode("td", {}, summary, `mean ± sd, ${data.seeds} seeds`);
    for (const [set, role] of [[paper, "paper"], [variant, "variant"]]) {
      const cell = htmlNode("td", { class: "num" }, summary);
      htmlNode("span", { "data-map": `${role}-mean` }, cell, set.map_mean);
      cell.appendChild(document.createTextNode(" ± "));
      htmlNode("span", { "data-map": `${role}-sd` }, cell, set.map_sd);
    }
    htmlNode("td", { class: "num", "data-map": "diff-mean" }, summary, variant.diff_mean);
    paper.maps.forEach((value, i) => {
      const row = htmlNode("tr", {}, body);
      htmlNode("td", {}, row, `seed ${i}`);
      htmlNode("td", { class: "num", "data-map": `paper-seed-${i}` }, row, value);
      htmlNode("td", { class: "num", "data-map": `variant-seed-${i}` }, row, variant.maps[i]);
      htmlNode("td", { class: "num", "data-map": `diff-seed-${i}` }, row, variant.diffs[i]);
    });
    reading.textContent = variant.note ? `${variant.reading} ${variant.note}` : variant.reading;

    legend.replaceChildren();
    for (const [color, dashed, text] of [
      [colors.paper, true, "paper's loss"],
      [colors.variant, false, variant.label],
    ]) {
      const item = htmlNode("span", {}, legend);
      item.appendChild(legendSwatch(color, dashed));
      item.appendChild(document.createTextNode(text));
    }
    htmlNode("span", {}, legend, `line: mean of ${data.seeds} seeds; band: lowest to highest seed; log scale`);

    panels.replaceChildren(...data.terms.map((term) => panel(data, term, paper, variant, colors)));
  }

  model.on("change:variant", draw);
  model.on("change:data", draw);
  draw();
}

export default { render };
