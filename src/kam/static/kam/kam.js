// Everything the pages do in the browser lives in static files like this one: the policy
// (Content-Security-Policy) allows no inline script, no on*= attribute and no style= attribute.

// Text from the data (names, codes, labels) goes into HTML only through escapeHtml.
function escapeHtml(value) {
  return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
}

// Server-side pickers: a click on a result stores its id and shows its label.
document.addEventListener("click", function (event) {
  const item = event.target.closest(".kam-ac-item");
  const box = event.target.closest(".kam-autocomplete");
  document.querySelectorAll(".kam-ac-results").forEach(function (list) {
    if (!box || list.closest(".kam-autocomplete") !== box || item) list.replaceChildren();
  });
  if (!item || !box) return;
  box.querySelector(".kam-ac-value").value = item.dataset.id;
  box.querySelector(".kam-ac-input").value = item.dataset.label;
});
// Clearing the text clears the choice.
document.addEventListener("input", function (event) {
  if (!event.target.classList.contains("kam-ac-input")) return;
  if (event.target.value === "") event.target.closest(".kam-autocomplete").querySelector(".kam-ac-value").value = "";
});
// The picker's request carries what was typed as q (htmx evaluates no js: values here).
document.addEventListener("htmx:configRequest", function (event) {
  const input = event.detail.elt;
  if (input.classList && input.classList.contains("kam-ac-input")) event.detail.parameters.q = input.value;
});
// A select marked data-autosubmit sends its form when it changes.
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("select[data-autosubmit]") && event.target.form) event.target.form.submit();
});
// A swapped-in fragment marked data-reload-page (a computation finished) reloads the page.
document.addEventListener("htmx:afterSettle", function () {
  if (document.querySelector("[data-reload-page]")) window.location.reload();
});
// htmx refuses to evaluate code (allowEval is off): say so where a test or a developer sees it.
document.addEventListener("htmx:evalDisallowedError", function (event) {
  console.error("htmx: evaluating code is disallowed", event.target);
});

// Tooltips: ECharts puts the formatter's string into the page as HTML, so every formatter
// below escapes what it takes from the data. Its own default tooltips are never used: they
// carry style= attributes, which the policy refuses.
function tipLines(title, lines) {
  return [title].concat(lines).filter(function (l) { return l !== null && l !== undefined && l !== ""; })
    .map(escapeHtml).join("<br>");
}
function tipNumber(value) {
  if (Array.isArray(value)) value = value[value.length - 1];
  return typeof value === "number" ? value.toLocaleString() : (value === null || value === undefined ? "—" : String(value));
}
// Axis tooltips (bars, lines): the category, then one line per series.
function axisTip(suffix) {
  return function (params) {
    const list = Array.isArray(params) ? params : [params];
    return tipLines(list.length ? list[0].axisValueLabel : "", list.map(function (p) {
      return (p.seriesName && !/^series\d+$/.test(p.seriesName) ? p.seriesName + ": " : "") + tipNumber(p.value) + (suffix && suffix[p.seriesIndex] || "");
    }));
  };
}
// Item tooltips: the item's name and value (and its share, for a pie).
function itemTip(p) {
  return tipLines(p.name, [tipNumber(p.value) + (p.percent !== undefined ? " (" + p.percent + "%)" : "")]);
}

// Charts: any element with data-chart reads its data from the json_script it names.
// data-height sets a height computed on the server (rows × line height).
function kamCharts(root) {
  const scope = root || document;
  const elements = Array.from(scope.querySelectorAll ? scope.querySelectorAll("[data-chart]") : []);
  if (scope.matches && scope.matches("[data-chart]")) elements.push(scope);
  if (!elements.length) return;
  if (!window.echarts) {
    // A fragment swapped into a page without ECharts (the health card) names the library.
    const src = elements.map(function (el) { return el.dataset.echarts; }).find(Boolean);
    if (src) kamLoadScript(src, function () { kamCharts(root); });
    return;
  }
  elements.forEach(function (el) {
    if (echarts.getInstanceByDom(el)) return;
    const source = document.getElementById(el.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent)[el.dataset.chart];
    if (data === undefined || data === null) return;
    if (el.dataset.height) el.style.height = el.dataset.height + "px";
    if (el.dataset.kind === "trend" && !(data.months || []).length) return;
    const chart = echarts.init(el);
    if (el.dataset.kind === "pareto") {
      // Revenue per percentile of ranked accounts (bars) and the cumulative share (line).
      chart.setOption({tooltip: {trigger: "axis", formatter: axisTip({1: "%"})}, legend: {bottom: 0},
        grid: {left: 70, right: 50, top: 20, bottom: 50},
        xAxis: {type: "category", data: data.accounts.map(a => a + "%"), name: el.dataset.xname},
        yAxis: [{type: "value", name: el.dataset.yname}, {type: "value", max: 100, axisLabel: {formatter: "{value}%"}}],
        series: [
          {type: "bar", name: el.dataset.barname, data: data.revenue, itemStyle: {color: "#206bc4"}},
          {type: "line", name: el.dataset.linename, yAxisIndex: 1, data: data.cumulative, showSymbol: false,
           itemStyle: {color: "#d63939"},
           markLine: {symbol: "none", label: {formatter: "{c}%"}, data: data.cuts.map(c => ({yAxis: c}))}},
        ]});
    } else if (el.dataset.kind === "scatter") {
      // Matrix schemes: revenue (log) × growth, a colour per tier; a click opens the account.
      chart.setOption({tooltip: {formatter: p => tipLines(p.data[4], [p.data[0].toLocaleString() + " · " + p.data[1] + "%"])},
        legend: {bottom: 0}, grid: {left: 70, right: 30, top: 20, bottom: 60},
        xAxis: {type: "log", name: el.dataset.xname}, yAxis: {type: "value", name: el.dataset.yname, axisLabel: {formatter: "{value}%"}},
        series: data.tiers.map(t => ({type: "scatter", name: t.label, symbolSize: 7,
          data: data.points.filter(p => p[2] === t.code)}))});
      chart.on("click", p => { window.location.href = "/accounts/" + p.data[3] + "/"; });
    } else if (el.dataset.kind === "heatmap") {
      // Migration matrix: from tier (rows) × to tier (columns), accounts per cell.
      chart.setOption({tooltip: {formatter: p => tipLines(data.codes[p.data[1]] + " → " + data.codes[p.data[0]] + ": " + p.data[2], [])},
        grid: {left: 10, right: 40, top: 40, bottom: 30, containLabel: true},
        xAxis: {type: "category", data: data.codes, position: "top", name: el.dataset.xname, axisLabel: {interval: 0}},
        yAxis: {type: "category", data: data.codes, inverse: true, name: el.dataset.yname},
        visualMap: {min: 0, max: data.max, show: false, inRange: {color: ["#f1f5f9", "#206bc4"]}},
        series: [{type: "heatmap", data: data.cells, label: {show: true}}]});
    } else if (el.dataset.kind === "grid") {
      // Portfolio: attractiveness (rows) × relationship (columns), accounts and the strategy
      // per cell; a click lists the accounts of that strategy.
      chart.setOption({tooltip: {formatter: p => tipLines(p.data[3] + ": " + p.data[2], [])},
        grid: {left: 45, right: 20, top: 10, bottom: 40, containLabel: true},
        xAxis: {type: "category", data: data.x, name: el.dataset.xname, nameLocation: "middle", nameGap: 28},
        yAxis: {type: "category", data: data.y, name: el.dataset.yname, nameLocation: "middle", nameGap: 35},
        visualMap: {min: 0, max: data.max, dimension: 2, show: false, inRange: {color: ["#f1f5f9", "#7aa7e0"]}},
        series: [{type: "heatmap", data: data.cells, label: {show: true, fontSize: 13, formatter: p => p.data[3] + "\n" + p.data[2]}}]});
      chart.on("click", p => { if (p.data[4]) window.location.href = el.dataset.link + encodeURIComponent(p.data[4]) + "#tier-list"; });
    } else if (el.dataset.kind === "compliance") {
      // Service compliance: people × weeks or units × months, % of the contacts due; a click
      // lists the overdue accounts of that row's person or unit.
      chart.setOption({tooltip: {formatter: p => tipLines(data.y[p.data[1]] + " · " + data.x[p.data[0]] + ": " + (p.data[2] === null ? "—" : p.data[2] + "%"), [])},
        grid: {left: 10, right: 20, top: 10, bottom: 50, containLabel: true},
        xAxis: {type: "category", data: data.x, splitArea: {show: true}},
        yAxis: {type: "category", data: data.y, inverse: true, splitArea: {show: true}},
        visualMap: {min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
          inRange: {color: ["#d63939", "#f59f00", "#2fb344"]}},
        series: [{type: "heatmap", data: data.cells.filter(c => c[2] !== null), label: {show: data.x.length <= 14}}]});
      chart.on("click", p => { if (window.htmx) htmx.ajax("GET", el.dataset.link + data.keys[p.data[1]], {target: el.dataset.target, swap: "outerHTML"}); });
    } else if (el.dataset.kind === "bars") {
      // Grouped bars per category: data = {x: [...], series: [{name, data: [...]}, ...]}.
      chart.setOption({tooltip: {trigger: "axis", formatter: axisTip()}, legend: {bottom: 0},
        grid: {left: 10, right: 20, top: 20, bottom: 40, containLabel: true},
        xAxis: {type: "category", data: data.x, axisLabel: {interval: 0}}, yAxis: {type: "value"},
        series: data.series.map(s => ({type: "bar", name: s.name, data: s.data}))});
    } else if (el.dataset.kind === "pie") {
      chart.setOption({tooltip: {trigger: "item", formatter: itemTip}, legend: {bottom: 0, type: "scroll"},
        series: [{type: "pie", radius: ["40%", "70%"], data: data, label: {formatter: "{b}\n{d}%"}}]});
    } else if (el.dataset.kind === "trend") {
      // One score per month (the health card): data = {months, scores, label}.
      chart.setOption({grid: {left: 30, right: 10, top: 10, bottom: 20}, tooltip: {trigger: "axis", formatter: axisTip()},
        xAxis: {type: "category", data: data.months}, yAxis: {type: "value", min: 0, max: 100},
        series: [{type: "line", name: data.label, data: data.scores, smooth: true}]});
    } else {
      // Horizontal bars of amounts: the axis in short numbers (250万, 2.5M) so that labels never collide.
      const compact = new Intl.NumberFormat(document.documentElement.lang || undefined, {notation: "compact"});
      chart.setOption({tooltip: {formatter: itemTip}, grid: {left: 10, right: 30, top: 10, bottom: 20, containLabel: true},
        xAxis: {type: "value", axisLabel: {formatter: v => compact.format(v)}}, yAxis: {type: "category", inverse: true, data: data.map(d => d.name),
          axisLabel: {width: 180, overflow: "truncate"}},
        series: [{type: "bar", data: data.map(d => d.value), itemStyle: {color: "#206bc4"}}]});
    }
    // Confined tooltips have no arrow: ECharts draws the arrow as a <div style=…>, which the
    // policy refuses.
    chart.setOption({tooltip: {confine: true}});
    window.addEventListener("resize", function () { chart.resize(); });
  });
}
// Loads a script of this site once (ECharts for fragments), then calls back.
function kamLoadScript(src, done) {
  let script = document.querySelector('script[data-kam-src="' + CSS.escape(src) + '"]');
  if (!script) {
    script = document.createElement("script");
    script.src = src;
    script.dataset.kamSrc = src;
    document.head.appendChild(script);
  }
  script.addEventListener("load", done, {once: true});
}
document.addEventListener("DOMContentLoaded", function () { kamCharts(); });
// htmx fires afterSwap on each element it put in the page.
document.addEventListener("htmx:afterSwap", function (event) { kamCharts(event.target); });
