// The drag surface of the course's widgets: an image with its S×S grid, boxes that the
// mouse moves and resizes, arrows, and the readout of numbers beside the picture. It draws
// what Python sends (`boxes`, `arrows`, `readout`) and sends back only the boxes' corners;
// every number the learner reads is computed by the Python package. JS only formats numbers.
//
// Picking, where boxes overlap: a corner handle wins over everything (the nearest one); then
// an edge within a few pixels of the pointer (the nearest); then, among the boxes whose body
// is under the pointer, the smallest. So a box inside another is grabbed by its body, the
// larger box by its edge or its handles.
//
// Edges: a moved box stops at the image's border and keeps its size; a dragged corner stops
// at the border, and a box never gets thinner than MIN_SIDE.
//
// Without a kernel (the website sets window.YOLO_COURSE_SITE.static), a widget that recorded
// its answers (`recorded`, see _playgrounds.pack_frames) lets the learner move one box: the
// drag snaps to the nearest recorded centre and the page shows the numbers recorded there.
// The other boxes, the resize handles and the sliders are locked on such a page.
//
// Keyboard: Tab reaches each movable box; arrow keys move it, Shift+arrow keys resize it
// (the bottom-right corner moves), Enter goes to the next box. A live region reads out what
// Python sends in `announce` (the loss after each change). Colours come from JupyterLab's
// theme variables, so the canvas reads in light and dark themes alike.

const SVG = "http://www.w3.org/2000/svg";
const HANDLE = 7; // half the side of a corner handle, in pixels
const EDGE = 5; // an edge within this many pixels of the pointer is grabbed
const STEP = 0.01; // one key press: 1% of the image
const MIN_SIDE = 0.02; // the smallest side a box keeps (the package's MIN_SIZE)
// Theme colours with the light-theme values as fallbacks (Colab, the website).
const FG = "var(--jp-content-font-color1, #1a1a1a)";
const BG = "var(--jp-layout-color0, #ffffff)";
const BORDER = "var(--jp-border-color1, #8a8a8a)";
const GRID = "var(--jp-border-color2, #c8c8c8)";
const KEYS = "Arrow keys move it, Shift+arrow keys resize it, Enter goes to the next box.";

function node(tag, attrs, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (parent) parent.appendChild(el);
  return el;
}

function describe(box) {
  const [x1, y1, x2, y2] = box.xyxy;
  const f = (v) => v.toFixed(2);
  return `${box.label || box.name}: centre x ${f((x1 + x2) / 2)}, y ${f((y1 + y2) / 2)}, ` +
    `width ${f(x2 - x1)}, height ${f(y2 - y1)}. ${KEYS}`;
}

// Numbers: 4 decimals, no sign except a minus, never "-0.0000". Gradients (and only they)
// carry an explicit "+" as well: their sign is the direction descent does not go.
function num(v) {
  const s = Number(v).toFixed(4);
  return s === "-0.0000" ? "0.0000" : s;
}
function signed(v) {
  const s = num(v);
  return s !== "0.0000" && !s.startsWith("-") ? "+" + s : s;
}
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const td = (text, attrs = "") => `<td class="num" ${attrs}>${text}</td>`;

function notesHtml(notes) {
  if (!notes || !notes.length) return "";
  return `<div class="yolo-notes foot"><b>Repaired:</b> ${notes.map(esc).join("; ")}</div>`;
}

function boxReadout(r) {
  const terms = ["box", "obj", "noobj", "cls"].map((t) =>
    `<tr><td>${t}</td>${td(num(r.terms[t]), `data-term="${t}"`)}` +
    `<td><div class="bar" style="width:${Math.round(110 * r.bars[t])}px;background:${r.colors[t]}"></div></td></tr>`
  ).join("") + `<tr style="font-weight:bold"><td>total</td>${td(num(r.terms.total), 'data-term="total"')}<td></td></tr>`;
  const head = ["", "IoU", "x", "y", "w", "h", "conf"].map((h) => `<th>${h}</th>`).join("");
  let rows = `<tr><td><b>object</b></td><td></td>` +
    r.object.map((v, k) => td(num(v), `data-box="truth-${"xywh"[k]}"`)).join("") + "<td></td></tr>";
  r.preds.forEach((p, b) => {
    const mark = b === r.responsible ? " ★" : "";
    const swatch = `<span class="yolo-swatch" style="background:${p.color}"></span>`;
    rows += `<tr><td>${swatch}<b>pred. ${b + 1}</b>${mark}</td>${td(num(p.iou), `data-iou="${b}"`)}` +
      p.box.map((v, k) => td(num(v), `data-box="${b}-${"xywh"[k]}"`)).join("") + "<td></td></tr>";
    rows += `<tr class="sub"><td>tensor</td><td></td>` +
      p.tensor.map((v, k) => td(num(v), `data-tensor="${b}-${["x", "y", "w", "h", "conf"][k]}"`)).join("") + "</tr>";
    rows += `<tr class="sub"><td>∂total/∂</td><td></td>` +
      p.grad.map((v, k) => td(signed(v), `data-grad="${b}-${["x", "y", "w", "h", "conf"][k]}"`)).join("") + "</tr>";
  });
  const sizes = r.rooted ? "√w, √h of the box (the paper's parametrization: the box is their square)" : "the box's size";
  return `<b>Loss terms</b> <span style="font-size:11px">(λ-weighted; the object's cell: row ${r.cell[0]}, column ${r.cell[1]})</span>` +
    `<table>${terms}</table><b>Predictors</b><table><tr>${head}</tr>${rows}</table>` +
    `<div class="foot">★ the responsible predictor. Rows: the <b>box</b> (centre and size, image units); ` +
    `the <b>tensor</b>'s entries (x, y: the centre's offset in its cell, in cells; w, h: ${sizes}); ` +
    `<b>∂total/∂</b> each entry (descent moves it against the sign).</div>` + notesHtml(r.notes);
}

function legendLine(row) {
  return `<svg width="34" height="12" aria-hidden="true" style="vertical-align:middle;margin-right:4px">` +
    `<line x1="1" y1="6" x2="33" y2="6" stroke="${row.color}" stroke-width="${Math.min(row.width, 6)}" ` +
    `stroke-dasharray="${row.dash}"/></svg>`;
}

function iouReadout(r) {
  const rows = r.rows.map((row) =>
    `<tr data-legend="${row.name}" data-dash="${row.dash}" data-color="${row.color}"><td>${legendLine(row)}<b>${row.label}</b></td>` +
    td(num(row.value), `data-value="${row.name}"`) + td(num(row.loss), `data-loss="${row.name}"`) +
    td(num(row.pull), `data-pull="${row.name}"`) + "</tr>"
  ).join("");
  // The hint keeps its space when hidden: the table never moves under the pointer.
  const hint = `<div class="hint" style="visibility:${r.disjoint ? "visible" : "hidden"}">` +
    "The boxes do not overlap: IoU is 0 wherever the prediction goes, so its loss has no gradient.</div>";
  return `<table><tr><th style="text-align:left">arrow</th><th>value</th><th>loss</th><th>pull on centre</th></tr>${rows}</table>` +
    `<div class="foot">Each arrow: the way one step of gradient descent on that loss moves the prediction's centre ` +
    `(lengths saturate). Wider arrows lie under narrower ones, so arrows that coincide show as stripes.</div>` +
    hint + notesHtml(r.notes);
}

// A recorded frame: the template with the numbers recorded at grid point k put in.
function recordedFrame(rec, values, k) {
  const frame = JSON.parse(JSON.stringify(rec.template));
  rec.paths.forEach((path, p) => {
    let target = frame;
    for (const key of path.slice(0, -1)) target = target[key];
    target[path[path.length - 1]] = values[k][p];
  });
  return frame;
}

function nearest(grid, v) {
  let best = 0;
  grid.forEach((g, i) => { if (Math.abs(g - v) < Math.abs(grid[best] - v)) best = i; });
  return best;
}

function render({ model, el }) {
  const size = model.get("size");
  const site = Boolean(window.YOLO_COURSE_SITE && window.YOLO_COURSE_SITE.static);
  const rec = model.get("recorded") || {};
  const offline = site && rec.values ? { rec, values: JSON.parse(rec.values), at: null } : null;

  const outer = document.createElement("div");
  outer.className = "yolo-canvas-outer";
  const note = document.createElement("div");
  note.className = "yolo-site-note";
  const row = document.createElement("div");
  row.className = "yolo-canvas-row";
  const wrap = document.createElement("div");
  wrap.className = "yolo-box-canvas-wrap";
  wrap.setAttribute("role", "group");
  wrap.setAttribute("aria-label", model.get("label") || "Boxes on the image");
  // JupyterLab's notebook shortcuts (Enter, arrows in command mode) leave these keys alone.
  wrap.setAttribute("data-lm-suppress-shortcuts", "true");
  wrap.setAttribute("data-p-suppress-shortcuts", "true");
  const svg = node("svg", {
    width: size, height: size, viewBox: `0 0 ${size} ${size}`, class: "yolo-box-canvas",
    // Up to `size` pixels wide, narrower when the notebook is (the drawing scales with it).
    style: `touch-action: none; user-select: none; background: ${BG}; border: 1px solid ${BORDER}; ` +
      `width: 100%; max-width: ${size}px; height: auto; display: block;`,
  });
  const live = document.createElement("div");
  live.className = "yolo-live";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("role", "status");
  // Visually hidden, still read by screen readers.
  live.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;";
  const readout = document.createElement("div");
  readout.className = "yolo-readout";
  // Its width is the room beside (or under) the picture, up to 470 px: the table's type gets
  // smaller in a narrow room (a container query in _CSS) instead of being cut.
  wrap.append(svg, live);
  row.append(wrap, readout);
  outer.append(note, row);
  el.appendChild(outer);
  const defs = node("defs", {}, svg);
  let boxes = model.get("boxes"); // local copy: updated at once while dragging
  let arrows = model.get("arrows");
  let shown = model.get("readout");
  let drag = null; // {index, mode, start: [px, py], box}
  let pending = false;

  if (offline) {
    note.textContent = model.get("site_note");
    // Lock what has no recorded answers: the other boxes here, the sliders of the widget
    // around (by the CSS class, whenever they render).
    boxes = boxes.map((b, i) => ({ ...b, editable: i === rec.moving }));
    const host = el.closest(".yolo-box-playground, .yolo-iou-playground");
    if (host) host.classList.add("yolo-site-locked");
  } else {
    note.style.display = "none";
  }
  const canResize = !offline;

  function marker(color) {
    const id = "arrow-" + color.replace(/[^a-zA-Z0-9]/g, "");
    if (!defs.querySelector("#" + id)) {
      const m = node("marker", {
        id, viewBox: "0 0 10 10", refX: 8, refY: 5, markerUnits: "userSpaceOnUse",
        markerWidth: 13, markerHeight: 13, orient: "auto-start-reverse",
      }, defs);
      node("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: color }, m);
    }
    return `url(#${id})`;
  }

  function focusedIndex() {
    const active = document.activeElement;
    if (!active || !svg.contains(active)) return null;
    return Number(active.getAttribute("data-index"));
  }

  function drawReadout() {
    if (!shown || !shown.kind) { readout.innerHTML = ""; return; }
    readout.innerHTML = shown.kind === "box" ? boxReadout(shown) : iouReadout(shown);
  }

  function draw() {
    const refocus = focusedIndex();
    for (const child of [...svg.children]) if (child !== defs) child.remove();
    const S = model.get("S");
    const cell = model.get("cell");
    if (cell && cell.length === 2 && S > 0) {
      node("rect", {
        x: (cell[1] * size) / S, y: (cell[0] * size) / S,
        width: size / S, height: size / S, fill: "#f0c419", "fill-opacity": 0.25,
        class: "object-cell",
      }, svg);
    }
    for (let i = 1; i < S; i++) {
      const p = (i * size) / S;
      node("line", { x1: p, y1: 0, x2: p, y2: size, style: `stroke: ${GRID}` }, svg);
      node("line", { x1: 0, y1: p, x2: size, y2: p, style: `stroke: ${GRID}` }, svg);
    }
    const labels = [];
    boxes.forEach((box, index) => {
      const [x1, y1, x2, y2] = box.xyxy.map((v) => v * size);
      const g = node("g", { class: "box", "data-name": box.name, "data-index": index }, svg);
      if (box.editable) {
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
        g.setAttribute("aria-roledescription", "movable box");
        g.setAttribute("aria-label", describe(box));
      }
      // Shown only while the box has the keyboard focus (see _CSS).
      node("rect", {
        x: x1 - 5, y: y1 - 5, width: Math.max(x2 - x1, 0) + 10, height: Math.max(y2 - y1, 0) + 10,
        fill: "none", "stroke-width": 2, "stroke-dasharray": "3 3", class: "focus-ring",
        style: `stroke: ${FG}`, "pointer-events": "none",
      }, g);
      node("rect", {
        x: x1, y: y1, width: Math.max(x2 - x1, 0), height: Math.max(y2 - y1, 0),
        fill: box.color, "fill-opacity": box.editable ? 0.12 : 0.06,
        stroke: box.color, "stroke-width": box.thick ? 4 : 2,
        "stroke-dasharray": box.dashed ? "6 4" : "none",
        cursor: box.editable ? "move" : "default", class: "box-body",
      }, g);
      // Dashed boxes (the ground truth) are labelled below, the others above. The text is in
      // the theme's text colour over a halo of the background (AA contrast in any theme).
      const below = box.dashed && y2 + 16 < size;
      const text = node("text", {
        x: Math.min(x1 + 3, size - 70), y: below ? y2 + 14 : Math.max(y1 - 4, 11),
        "font-size": 12, "font-family": "sans-serif", "font-weight": "bold",
        "pointer-events": "none", "stroke-width": 3, "paint-order": "stroke",
        style: `fill: ${FG}; stroke: ${BG}`, class: "box-label",
      }, g);
      text.textContent = box.label || box.name;
      labels.push(text);
      if (box.editable && canResize) {
        [["x1", "y1"], ["x2", "y1"], ["x1", "y2"], ["x2", "y2"]].forEach(([cx, cy]) => {
          node("rect", {
            x: (cx === "x1" ? x1 : x2) - HANDLE, y: (cy === "y1" ? y1 : y2) - HANDLE,
            width: 2 * HANDLE, height: 2 * HANDLE, stroke: box.color, style: `fill: ${BG}`,
            cursor: "nwse-resize", class: `handle handle-${cx}-${cy}`, "pointer-events": "none",
          }, g);
        });
      }
      if (box.editable) g.addEventListener("keydown", (e) => key(e, index));
    });
    // Labels never cover each other: a label that would is moved down a line at a time.
    const placed = [];
    for (const text of labels) {
      let r = text.getBBox ? text.getBBox() : null;
      for (let tries = 0; r && r.width && tries < 6 && placed.some((p) => overlaps(p, r)); tries++) {
        text.setAttribute("y", Number(text.getAttribute("y")) + 14);
        r = text.getBBox();
      }
      if (r) placed.push(r);
    }
    for (const arrow of arrows) {
      const [x0, y0, x1, y1] = arrow.xyxy.map((v) => v * size);
      if (Math.hypot(x1 - x0, y1 - y0) < 1) continue;
      node("line", {
        x1: x0, y1: y0, x2: x1, y2: y1, stroke: arrow.color, "stroke-width": arrow.width || 3,
        "stroke-dasharray": arrow.dash || "none", "stroke-linecap": "butt",
        "marker-end": marker(arrow.color), class: "arrow", "data-name": arrow.name || "",
        "pointer-events": "none",
      }, svg);
    }
    if (refocus !== null) {
      const target = svg.querySelector(`g.box[data-index="${refocus}"]`);
      if (target) target.focus({ preventScroll: true });
    }
  }

  function overlaps(a, b) {
    return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  }

  function point(e) {
    const r = svg.getBoundingClientRect();
    return [(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height];
  }

  // Which box, and how, a pointer at (px, py) (image units) grabs: see the header.
  function pick(px, py) {
    const near = HANDLE / size;
    let best = null;
    boxes.forEach((box, index) => {
      if (!box.editable || !canResize) return;
      const [x1, y1, x2, y2] = box.xyxy;
      for (const [cx, cy, mode] of [[x1, y1, "x1y1"], [x2, y1, "x2y1"], [x1, y2, "x1y2"], [x2, y2, "x2y2"]]) {
        const d = Math.max(Math.abs(px - cx), Math.abs(py - cy));
        if (d <= near && (!best || d < best.d)) best = { index, mode, d };
      }
    });
    if (best) return best;
    const edge = EDGE / size;
    boxes.forEach((box, index) => {
      if (!box.editable) return;
      const [x1, y1, x2, y2] = box.xyxy;
      const inX = px >= x1 - edge && px <= x2 + edge;
      const inY = py >= y1 - edge && py <= y2 + edge;
      const d = Math.min(inY ? Math.abs(px - x1) : 1, inY ? Math.abs(px - x2) : 1,
                         inX ? Math.abs(py - y1) : 1, inX ? Math.abs(py - y2) : 1);
      if (d <= edge && (!best || d < best.d)) best = { index, mode: "move", d };
    });
    if (best) return best;
    boxes.forEach((box, index) => {
      if (!box.editable) return;
      const [x1, y1, x2, y2] = box.xyxy;
      const area = (x2 - x1) * (y2 - y1);
      if (px >= x1 && px <= x2 && py >= y1 && py <= y2 && (!best || area < best.area)) {
        best = { index, mode: "move", area };
      }
    });
    return best;
  }

  // The box `box` moved by (dx, dy), or its corner `mode` dragged, kept inside the image.
  function moved(box, mode, dx, dy) {
    let [x1, y1, x2, y2] = box;
    if (mode === "move") {
      dx = Math.min(Math.max(dx, -x1), 1 - x2); // stop at the border, keep the size
      dy = Math.min(Math.max(dy, -y1), 1 - y2);
      return [x1 + dx, y1 + dy, x2 + dx, y2 + dy];
    }
    if (mode.includes("x1")) x1 = Math.min(Math.max(x1 + dx, 0), x2 - MIN_SIDE);
    else x2 = Math.max(Math.min(x2 + dx, 1), x1 + MIN_SIDE);
    if (mode.includes("y1")) y1 = Math.min(Math.max(y1 + dy, 0), y2 - MIN_SIDE);
    else y2 = Math.max(Math.min(y2 + dy, 1), y1 + MIN_SIDE);
    return [x1, y1, x2, y2];
  }

  // Without a kernel: the recorded frame nearest to the box's wanted position.
  function lookUp(index, wanted) {
    const { rec: r, values } = offline;
    const i = nearest(r.xs, (wanted[0] + wanted[2]) / 2);
    const j = nearest(r.ys, (wanted[1] + wanted[3]) / 2);
    const k = j * r.xs.length + i;
    if (k === offline.at) return;
    offline.at = k;
    const frame = recordedFrame(r, values, k);
    boxes = boxes.map((b, n) => ({ ...b, xyxy: frame.xyxy[n], thick: frame.thick ? Boolean(frame.thick[n]) : b.thick }));
    arrows = arrows.map((a, n) => ({ ...a, xyxy: frame.arrows[n] }));
    shown = frame.readout;
    draw();
    drawReadout();
    el.dispatchEvent(new CustomEvent("yolo-recorded-frame", { bubbles: true, detail: { k } }));
  }

  function change(index, xyxy) {
    if (offline) {
      lookUp(index, xyxy);
      return;
    }
    boxes = boxes.map((b, i) => (i === index ? { ...b, xyxy } : b));
    draw();
    // One message per animation frame at most: only the changed numbers travel.
    if (!pending) {
      pending = true;
      requestAnimationFrame(send);
    }
  }

  function send() {
    pending = false;
    model.set("boxes", boxes.map((b) => ({ ...b, xyxy: b.xyxy.slice() })));
    model.save_changes();
  }

  function key(e, index) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === "Enter") {
      const editable = boxes.map((b, i) => (b.editable ? i : -1)).filter((i) => i >= 0);
      const next = editable[(editable.indexOf(index) + 1) % editable.length];
      const target = svg.querySelector(`g.box[data-index="${next}"]`);
      if (target) target.focus();
    } else if (moves[e.key]) {
      if (offline && e.shiftKey) return;
      // Without a kernel a key press goes one recorded grid step.
      const unit = offline ? Math.abs(offline.rec.xs[1] - offline.rec.xs[0]) || STEP : STEP;
      const [dx, dy] = moves[e.key].map((v) => v * unit);
      const box = boxes[index].xyxy;
      change(index, e.shiftKey ? moved(box, "x2y2", dx, dy) : moved(box, "move", dx, dy));
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  svg.addEventListener("pointerdown", (e) => {
    const [px, py] = point(e);
    const hit = pick(px, py);
    if (!hit) return;
    e.preventDefault();
    e.stopPropagation();
    try {
      svg.setPointerCapture(e.pointerId); // keep receiving moves when the pointer leaves the box
    } catch (error) {
      // a synthetic or already-released pointer cannot be captured: drag without capture
    }
    drag = { index: hit.index, mode: hit.mode, start: [px, py], box: boxes[hit.index].xyxy.slice() };
  });

  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [px, py] = point(e);
    change(drag.index, moved(drag.box, drag.mode, px - drag.start[0], py - drag.start[1]));
  });

  function stop(e) {
    if (!drag) return;
    drag = null;
    if (svg.hasPointerCapture && svg.hasPointerCapture(e.pointerId)) svg.releasePointerCapture(e.pointerId);
    if (!offline) send();
  }
  svg.addEventListener("pointerup", stop);
  svg.addEventListener("pointercancel", stop);

  const redraw = () => {
    if (offline) return;
    if (!drag) boxes = model.get("boxes");
    draw();
  };
  const rearrow = () => {
    if (offline) return;
    arrows = model.get("arrows");
    draw();
  };
  const reread = () => {
    if (offline) return;
    shown = model.get("readout");
    drawReadout();
  };
  const speak = () => {
    live.textContent = model.get("announce");
  };
  const relabel = () => wrap.setAttribute("aria-label", model.get("label") || "Boxes on the image");
  const handlers = {
    "change:boxes": redraw, "change:arrows": rearrow, "change:readout": reread, "change:cell": draw,
    "change:S": draw, "change:announce": speak, "change:label": relabel,
  };
  for (const [event, handler] of Object.entries(handlers)) model.on(event, handler);
  draw();
  drawReadout();
  speak();
  // Labels are placed with their measured size: once more when the page has laid them out.
  requestAnimationFrame(draw);
  return () => {
    for (const [event, handler] of Object.entries(handlers)) model.off(event, handler);
  };
}

export default { render };
