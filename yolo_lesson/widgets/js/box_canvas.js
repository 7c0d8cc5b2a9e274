// The drag surface of the course's widgets: an image with its S×S grid, boxes that the
// mouse moves (drag inside) and resizes (drag a corner handle), and arrows. It draws what
// Python sends and sends back only the boxes' corner coordinates; every number the learner
// reads is computed by the Python package.
//
// Keyboard: Tab reaches each movable box; arrow keys move it, Shift+arrow keys resize it
// (the bottom-right corner moves), Enter goes to the next box. A live region reads out what
// Python sends in `announce` (the loss after each change). Colours come from JupyterLab's
// theme variables, so the canvas reads in light and dark themes alike.

const SVG = "http://www.w3.org/2000/svg";
const HANDLE = 7; // half the side of a corner handle, in pixels
const STEP = 0.01; // one key press: 1% of the image
const MIN_SIDE = 0.02; // the keyboard never makes a box thinner than this
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

function render({ model, el }) {
  const size = model.get("size");
  const wrap = document.createElement("div");
  wrap.className = "yolo-box-canvas-wrap";
  wrap.setAttribute("role", "group");
  wrap.setAttribute("aria-label", model.get("label") || "Boxes on the image");
  // JupyterLab's notebook shortcuts (Enter, arrows in command mode) leave these keys alone.
  wrap.setAttribute("data-lm-suppress-shortcuts", "true");
  wrap.setAttribute("data-p-suppress-shortcuts", "true");
  const svg = node("svg", {
    width: size, height: size, viewBox: `0 0 ${size} ${size}`, class: "yolo-box-canvas",
    style: `touch-action: none; user-select: none; background: ${BG}; border: 1px solid ${BORDER};`,
  });
  const live = document.createElement("div");
  live.className = "yolo-live";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("role", "status");
  // Visually hidden, still read by screen readers.
  live.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;";
  wrap.append(svg, live);
  el.appendChild(wrap);
  const defs = node("defs", {}, svg);
  let boxes = model.get("boxes"); // local copy: updated at once while dragging
  let drag = null; // {index, mode, start: [px, py], box}
  let pending = false;

  function marker(color) {
    const id = "arrow-" + color.replace(/[^a-zA-Z0-9]/g, "");
    if (!defs.querySelector("#" + id)) {
      const m = node("marker", {
        id, viewBox: "0 0 10 10", refX: 8, refY: 5,
        markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse",
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
    boxes.forEach((box, index) => {
      const [x1, y1, x2, y2] = box.xyxy.map((v) => v * size);
      const g = node("g", { class: "box", "data-name": box.name, "data-index": index }, svg);
      if (box.editable) {
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
        g.setAttribute("aria-roledescription", "movable box");
        g.setAttribute("aria-label", describe(box));
      }
      // Shown only while the box has the keyboard focus (see _css in widgets.py).
      node("rect", {
        x: x1 - 5, y: y1 - 5, width: Math.max(x2 - x1, 0) + 10, height: Math.max(y2 - y1, 0) + 10,
        fill: "none", "stroke-width": 2, "stroke-dasharray": "3 3", class: "focus-ring",
        style: `stroke: ${FG}`, "pointer-events": "none",
      }, g);
      const rect = node("rect", {
        x: x1, y: y1, width: Math.max(x2 - x1, 0), height: Math.max(y2 - y1, 0),
        fill: box.color, "fill-opacity": box.editable ? 0.12 : 0.06,
        stroke: box.color, "stroke-width": box.thick ? 4 : 2,
        "stroke-dasharray": box.dashed ? "6 4" : "none",
        cursor: box.editable ? "move" : "default", class: "box-body",
      }, g);
      // Dashed boxes (the ground truth) are labelled below, the others above. The text is in
      // the theme's text colour over a halo of the background (AA contrast in any theme);
      // the box's own colour is its outline.
      const below = box.dashed && y2 + 16 < size;
      const text = node("text", {
        x: x1 + 3, y: below ? y2 + 14 : Math.max(y1 - 4, 10),
        "font-size": 12, "font-family": "sans-serif", "font-weight": "bold",
        "pointer-events": "none", "stroke-width": 3, "paint-order": "stroke",
        style: `fill: ${FG}; stroke: ${BG}`,
      }, g);
      text.textContent = box.label || box.name;
      if (!box.editable) return;
      rect.addEventListener("pointerdown", (e) => start(e, index, "move"));
      [["x1", "y1"], ["x2", "y1"], ["x1", "y2"], ["x2", "y2"]].forEach(([cx, cy]) => {
        const handle = node("rect", {
          x: (cx === "x1" ? x1 : x2) - HANDLE, y: (cy === "y1" ? y1 : y2) - HANDLE,
          width: 2 * HANDLE, height: 2 * HANDLE, stroke: box.color, style: `fill: ${BG}`,
          cursor: "nwse-resize", class: `handle handle-${cx}-${cy}`,
        }, g);
        handle.addEventListener("pointerdown", (e) => start(e, index, cx + cy));
      });
      g.addEventListener("keydown", (e) => key(e, index));
    });
    for (const arrow of model.get("arrows")) {
      const [x0, y0, x1, y1] = arrow.xyxy.map((v) => v * size);
      if (Math.hypot(x1 - x0, y1 - y0) < 1) continue;
      node("line", {
        x1: x0, y1: y0, x2: x1, y2: y1, stroke: arrow.color, "stroke-width": 3,
        "marker-end": marker(arrow.color), class: "arrow", "data-name": arrow.name || "",
        "pointer-events": "none",
      }, svg);
    }
    if (refocus !== null) {
      const target = svg.querySelector(`g.box[data-index="${refocus}"]`);
      if (target) target.focus({ preventScroll: true });
    }
  }

  function point(e) {
    const r = svg.getBoundingClientRect();
    return [(e.clientX - r.left) / size, (e.clientY - r.top) / size];
  }

  function start(e, index, mode) {
    e.preventDefault();
    e.stopPropagation();
    try {
      svg.setPointerCapture(e.pointerId); // keep receiving moves when the pointer leaves the box
    } catch (error) {
      // a synthetic or already-released pointer cannot be captured: drag without capture
    }
    drag = { index, mode, start: point(e), box: boxes[index].xyxy.slice() };
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
      const [dx, dy] = moves[e.key].map((v) => v * STEP);
      let [x1, y1, x2, y2] = boxes[index].xyxy;
      if (e.shiftKey) {
        x2 = Math.max(x2 + dx, x1 + MIN_SIDE);
        y2 = Math.max(y2 + dy, y1 + MIN_SIDE);
      } else {
        x1 += dx; x2 += dx; y1 += dy; y2 += dy;
      }
      boxes = boxes.map((b, i) => (i === index ? { ...b, xyxy: [x1, y1, x2, y2] } : b));
      draw();
      send();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [px, py] = point(e);
    const dx = px - drag.start[0];
    const dy = py - drag.start[1];
    let [x1, y1, x2, y2] = drag.box;
    if (drag.mode === "move") {
      x1 += dx; x2 += dx; y1 += dy; y2 += dy;
    } else {
      if (drag.mode.includes("x1")) x1 += dx; else x2 += dx;
      if (drag.mode.includes("y1")) y1 += dy; else y2 += dy;
    }
    boxes = boxes.map((b, i) => (i === drag.index ? { ...b, xyxy: [x1, y1, x2, y2] } : b));
    draw();
    // One message per animation frame at most: only the changed numbers travel.
    if (!pending) {
      pending = true;
      requestAnimationFrame(send);
    }
  });

  function stop(e) {
    if (!drag) return;
    drag = null;
    if (svg.hasPointerCapture && svg.hasPointerCapture(e.pointerId)) svg.releasePointerCapture(e.pointerId);
    send();
  }
  svg.addEventListener("pointerup", stop);
  svg.addEventListener("pointercancel", stop);

  const redraw = () => {
    if (!drag) boxes = model.get("boxes");
    draw();
  };
  const speak = () => {
    live.textContent = model.get("announce");
  };
  const relabel = () => wrap.setAttribute("aria-label", model.get("label") || "Boxes on the image");
  model.on("change:boxes", redraw);
  model.on("change:arrows", draw);
  model.on("change:cell", draw);
  model.on("change:S", draw);
  model.on("change:announce", speak);
  model.on("change:label", relabel);
  draw();
  speak();
  return () => {
    model.off("change:boxes", redraw);
    model.off("change:arrows", draw);
    model.off("change:cell", draw);
    model.off("change:S", draw);
    model.off("change:announce", speak);
    model.off("change:label", relabel);
  };
}

export default { render };
