// SQL analytics console: Ctrl+Enter runs the query, and a small SVG chart of the result
// (bar or line, x and y picked from the columns). The page works without it.
(function () {
  "use strict";
  var form = document.getElementById("an-form");
  var sql = document.getElementById("an-sql");
  if (form && sql) {
    sql.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        var run = document.getElementById("an-run");
        if (form.requestSubmit) { form.requestSubmit(run); } else { run.click(); }
      }
    });
  }

  var source = document.getElementById("an-data");
  var figure = document.getElementById("an-chart");
  if (!source || !figure) { return; }
  var data = JSON.parse(source.textContent);
  if (!data.rows.length || data.columns.length < 2) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var kind = document.getElementById("an-kind");
  var xSel = document.getElementById("an-x");
  var ySel = document.getElementById("an-y");
  var plot = document.getElementById("an-plot");

  function numeric(index) {
    return data.rows.every(function (r) { return r[index] === null || typeof r[index] === "number"; });
  }
  var numericColumns = [];
  data.columns.forEach(function (name, i) {
    xSel.add(new Option(name, i));
    if (numeric(i)) { numericColumns.push(i); ySel.add(new Option(name, i)); }
  });
  if (!numericColumns.length) { return; }
  xSel.value = "0";
  var firstOther = numericColumns.filter(function (i) { return i !== 0; })[0];
  ySel.value = String(firstOther === undefined ? numericColumns[0] : firstOther);
  if (/date|day|week|month|hour|_at$/i.test(data.columns[0])) { kind.value = "line"; }
  figure.hidden = false;

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function draw() {
    var x = Number(xSel.value), y = Number(ySel.value);
    var rows = data.rows.filter(function (r) { return r[y] !== null; });
    var W = 800, H = 260, L = 56, B = 40, T = 10, R = 10;
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none" });
    var values = rows.map(function (r) { return r[y]; });
    var max = Math.max.apply(null, values.concat([0]));
    var min = Math.min.apply(null, values.concat([0]));
    var span = max - min || 1;
    var innerW = W - L - R, innerH = H - T - B;
    function sy(v) { return T + innerH - ((v - min) / span) * innerH; }
    svg.appendChild(el("line", { x1: L, y1: sy(0), x2: W - R, y2: sy(0), class: "axis" }));
    svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: T + innerH, class: "axis" }));
    [min, (min + max) / 2, max].forEach(function (v) {
      svg.appendChild(el("text", { x: L - 4, y: sy(v) + 3, "text-anchor": "end" }, Number(v.toFixed(2)).toLocaleString()));
    });
    var step = innerW / Math.max(rows.length, 1);
    var labelEvery = Math.ceil(rows.length / 12);
    if (kind.value === "bar") {
      rows.forEach(function (r, i) {
        var top = sy(Math.max(r[y], 0)), bottom = sy(Math.min(r[y], 0));
        var bar = el("rect", { x: L + i * step + step * 0.1, y: top, width: Math.max(step * 0.8, 1), height: Math.max(bottom - top, 0.5), class: "bar" });
        bar.appendChild(el("title", {}, String(r[x]) + ": " + r[y]));
        svg.appendChild(bar);
      });
    } else {
      var points = rows.map(function (r, i) { return (L + i * step + step / 2) + "," + sy(r[y]); });
      svg.appendChild(el("polyline", { points: points.join(" "), class: "line" }));
      rows.forEach(function (r, i) {
        var dot = el("circle", { cx: L + i * step + step / 2, cy: sy(r[y]), r: 2.5, class: "dot" });
        dot.appendChild(el("title", {}, String(r[x]) + ": " + r[y]));
        svg.appendChild(dot);
      });
    }
    rows.forEach(function (r, i) {
      if (i % labelEvery) { return; }
      var label = String(r[x] === null ? "null" : r[x]).slice(0, 16);
      svg.appendChild(el("text", { x: L + i * step + step / 2, y: H - B + 14, "text-anchor": "middle" }, label));
    });
    plot.replaceChildren(svg);
  }
  [kind, xSel, ySel].forEach(function (s) { s.addEventListener("change", draw); });
  draw();
})();
