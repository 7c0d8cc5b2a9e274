// The descent replay: boxes trained by gradient descent under several losses, recorded in
// Python (yolo_lesson.landscape.descent_paths) and saved in the widget's `replay` trait. The
// page only looks frames up: a range input (the step scrubber) and a play button pick a
// step; each loss's path of centres, its box at that step and the recorded numbers are
// drawn. No maths here beyond mapping image coordinates in [0, 1] to pixels, so the replay
// answers the same in JupyterLab and on the static website, with no kernel.

const SVG = "http://www.w3.org/2000/svg";
const FG = "var(--jp-content-font-color1, #1a1a1a)";
const BG = "var(--jp-layout-color0, #ffffff)";
const BORDER = "var(--jp-border-color1, #8a8a8a)";

function node(tag, attrs, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (parent) parent.appendChild(el);
  return el;
}

function render({ model, el }) {
  const replay = model.get("replay");
  const size = model.get("size");
  const last = replay.steps;
  const px = (v) => v * size; // image coordinates in [0, 1] to pixels
  let step = Math.min(Math.max(model.get("step"), 0), last);
  let timer = null;

  const wrap = document.createElement("div");
  wrap.className = "yolo-descent";
  wrap.style.cssText = "display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;max-width:100%;";
  const svg = node("svg", {
    width: size, height: size, viewBox: `0 0 ${size} ${size}`, class: "yolo-descent-canvas",
    role: "img", "aria-label": replay.label || "Descent replay",
    style: `background:${BG};border:1px solid ${BORDER};flex:0 0 auto;max-width:100%;height:auto;`,
  });
  const side = document.createElement("div");
  side.className = "yolo-descent-side";
  // At least as wide as the table: the side moves under the picture rather than squeeze it.
  side.style.cssText = "flex:1 1 360px;min-width:min(360px, 100%);max-width:480px;";

  const controls = document.createElement("div");
  controls.style.cssText = "display:flex;align-items:center;gap:8px;margin-bottom:6px;";
  const play = document.createElement("button");
  play.type = "button";
  play.className = "yolo-descent-play";
  play.textContent = "▶ play";
  play.style.cssText = "flex:0 0 auto;min-width:64px;";
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = String(last);
  slider.step = "1";
  slider.className = "yolo-descent-step";
  slider.setAttribute("aria-label", "step");
  slider.style.cssText = "flex:1 1 auto;min-width:120px;";
  const label = document.createElement("span");
  label.className = "yolo-descent-step-label";
  label.style.cssText = `flex:0 0 auto;font-family:monospace;color:${FG};min-width:8.5em;`;
  controls.append(play, slider, label);

  const table = document.createElement("table");
  table.className = "yolo-descent-table yolo-readout";
  table.style.cssText = "border-collapse:collapse;font-size:13px;";
  const head = table.createTHead().insertRow();
  for (const text of ["loss", "value", "IoU", "centre x", "centre y"]) {
    const th = document.createElement("th");
    th.textContent = text;
    th.style.cssText = "text-align:right;padding:1px 3px;";
    head.appendChild(th);
  }
  head.firstChild.style.textAlign = "left";
  const body = table.createTBody();
  const cells = replay.paths.map((path) => {
    const row = body.insertRow();
    row.dataset.loss = path.name;
    const name = row.insertCell();
    name.innerHTML = `<span class="yolo-swatch" style="background:${path.color}"></span>`;
    name.append(path.label);
    name.style.cssText = "padding:1px 3px;white-space:nowrap;";
    const numbers = ["value", "iou", "cx", "cy"].map((key) => {
      const td = row.insertCell();
      td.dataset.field = key;
      td.style.cssText = "text-align:right;font-family:monospace;padding:1px 3px;";
      return td;
    });
    return numbers;
  });
  const note = document.createElement("div");
  note.className = "yolo-descent-note";
  note.style.cssText = `font-size:12px;color:${FG};margin-top:6px;`;
  note.textContent = replay.note || "";
  side.append(controls, table, note);
  wrap.append(svg, side);
  el.appendChild(wrap);

  // Static layers: the object, each loss's whole path of centres.
  const truth = replay.truth;
  node("rect", {
    x: px(truth[0]), y: px(truth[1]), width: px(truth[2] - truth[0]), height: px(truth[3] - truth[1]),
    fill: "none", stroke: replay.truth_color, "stroke-width": 2.5, "stroke-dasharray": "6 4",
  }, svg);
  for (const path of replay.paths) {
    const points = path.centres.map(([x, y]) => `${px(x)},${px(y)}`).join(" ");
    node("polyline", { points, fill: "none", stroke: path.color, "stroke-width": 1.5, opacity: 0.8 }, svg);
  }
  const moving = node("g", { class: "yolo-descent-now" }, svg);

  function show() {
    moving.replaceChildren();
    replay.paths.forEach((path, k) => {
      const [x1, y1, x2, y2] = path.boxes[step];
      node("rect", {
        x: px(x1), y: px(y1), width: px(x2 - x1), height: px(y2 - y1), fill: "none",
        stroke: path.color, "stroke-width": 2, "data-loss": path.name,
      }, moving);
      const [cx, cy] = path.centres[step];
      node("circle", { cx: px(cx), cy: px(cy), r: 3.5, fill: path.color }, moving);
      const [value, iou, ccx, ccy] = cells[k];
      value.textContent = path.values[step].toFixed(4);
      iou.textContent = path.ious[step].toFixed(3);
      ccx.textContent = cx.toFixed(3);
      ccy.textContent = cy.toFixed(3);
    });
    slider.value = String(step);
    label.textContent = `step ${step} / ${last}`;
  }

  function go(next, sync) {
    step = Math.min(Math.max(next, 0), last);
    show();
    if (sync) {
      model.set("step", step);
      model.save_changes();
    }
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
  }

  slider.addEventListener("input", () => {
    stop();
    go(Number(slider.value), true);
  });
  play.addEventListener("click", () => {
    if (timer !== null) return stop();
    if (step >= last) go(0, false);
    play.textContent = "❚❚ pause";
    timer = setInterval(() => {
      if (step >= last) {
        stop();
        go(step, true);
        return;
      }
      go(step + 1, false);
    }, replay.interval_ms || 60);
  });
  model.on("change:step", () => go(model.get("step"), false));
  show();
  return () => stop();
}

export default { render };
