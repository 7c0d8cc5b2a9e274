// The drag surface of the course's widgets: an image with its S×S grid, boxes that the
// mouse moves (drag inside) and resizes (drag a corner handle), and arrows. It draws what
// Python sends and sends back only the boxes' corner coordinates; every number the learner
// reads is computed by the Python package.

const SVG = "http://www.w3.org/2000/svg";
const HANDLE = 7; // half the side of a corner handle, in pixels

function node(tag, attrs, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (parent) parent.appendChild(el);
  return el;
}

function render({ model, el }) {
  const size = model.get("size");
  const svg = node("svg", {
    width: size, height: size, viewBox: `0 0 ${size} ${size}`,
    class: "yolo-box-canvas", role: "img",
    style: "touch-action: none; user-select: none; background: #fafafa; border: 1px solid #999;",
  });
  el.appendChild(svg);
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

  function draw() {
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
      node("line", { x1: p, y1: 0, x2: p, y2: size, stroke: "#ccc" }, svg);
      node("line", { x1: 0, y1: p, x2: size, y2: p, stroke: "#ccc" }, svg);
    }
    boxes.forEach((box, index) => {
      const [x1, y1, x2, y2] = box.xyxy.map((v) => v * size);
      const g = node("g", { class: "box", "data-name": box.name }, svg);
      const rect = node("rect", {
        x: x1, y: y1, width: Math.max(x2 - x1, 0), height: Math.max(y2 - y1, 0),
        fill: box.color, "fill-opacity": box.editable ? 0.12 : 0.06,
        stroke: box.color, "stroke-width": box.thick ? 4 : 2,
        "stroke-dasharray": box.dashed ? "6 4" : "none",
        cursor: box.editable ? "move" : "default", class: "box-body",
      }, g);
      // Dashed boxes (the ground truth) are labelled below, the others above.
      const below = box.dashed && y2 + 16 < size;
      const text = node("text", {
        x: x1 + 3, y: below ? y2 + 14 : Math.max(y1 - 4, 10), fill: box.color,
        "font-size": 12, "font-family": "sans-serif", "font-weight": "bold",
        "pointer-events": "none",
      }, g);
      text.textContent = box.label || box.name;
      if (!box.editable) return;
      rect.addEventListener("pointerdown", (e) => start(e, index, "move"));
      [["x1", "y1"], ["x2", "y1"], ["x1", "y2"], ["x2", "y2"]].forEach(([cx, cy]) => {
        const handle = node("rect", {
          x: (cx === "x1" ? x1 : x2) - HANDLE, y: (cy === "y1" ? y1 : y2) - HANDLE,
          width: 2 * HANDLE, height: 2 * HANDLE, fill: "white", stroke: box.color,
          cursor: "nwse-resize", class: `handle handle-${cx}-${cy}`,
        }, g);
        handle.addEventListener("pointerdown", (e) => start(e, index, cx + cy));
      });
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
  model.on("change:boxes", redraw);
  model.on("change:arrows", draw);
  model.on("change:cell", draw);
  model.on("change:S", draw);
  draw();
  return () => {
    model.off("change:boxes", redraw);
    model.off("change:arrows", draw);
    model.off("change:cell", draw);
    model.off("change:S", draw);
  };
}

export default { render };
