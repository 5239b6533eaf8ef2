// Server-side pickers: a click on a result stores its id and shows its label.
document.addEventListener("click", function (event) {
  const item = event.target.closest(".kam-ac-item");
  const box = event.target.closest(".kam-autocomplete");
  document.querySelectorAll(".kam-ac-results").forEach(function (list) {
    if (!box || list.closest(".kam-autocomplete") !== box || item) list.innerHTML = "";
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

// Charts: any element with data-chart reads its data from the json_script it names.
function kamCharts(root) {
  if (!window.echarts) return;
  (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
    const data = JSON.parse(document.getElementById(el.dataset.source).textContent)[el.dataset.chart];
    const chart = echarts.init(el);
    if (el.dataset.kind === "pareto") {
      // Revenue per percentile of ranked accounts (bars) and the cumulative share (line).
      chart.setOption({tooltip: {trigger: "axis"}, legend: {bottom: 0},
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
      chart.setOption({tooltip: {formatter: p => p.data[4] + "<br>" + p.data[0].toLocaleString() + " · " + p.data[1] + "%"},
        legend: {bottom: 0}, grid: {left: 70, right: 30, top: 20, bottom: 60},
        xAxis: {type: "log", name: el.dataset.xname}, yAxis: {type: "value", name: el.dataset.yname, axisLabel: {formatter: "{value}%"}},
        series: data.tiers.map(t => ({type: "scatter", name: t.label, symbolSize: 7,
          data: data.points.filter(p => p[2] === t.code)}))});
      chart.on("click", p => { window.location.href = "/accounts/" + p.data[3] + "/"; });
    } else if (el.dataset.kind === "heatmap") {
      // Migration matrix: from tier (rows) × to tier (columns), accounts per cell.
      chart.setOption({tooltip: {formatter: p => data.codes[p.data[1]] + " → " + data.codes[p.data[0]] + ": " + p.data[2]},
        grid: {left: 10, right: 40, top: 40, bottom: 30, containLabel: true},
        xAxis: {type: "category", data: data.codes, position: "top", name: el.dataset.xname, axisLabel: {interval: 0}},
        yAxis: {type: "category", data: data.codes, inverse: true, name: el.dataset.yname},
        visualMap: {min: 0, max: data.max, show: false, inRange: {color: ["#f1f5f9", "#206bc4"]}},
        series: [{type: "heatmap", data: data.cells, label: {show: true}}]});
    } else if (el.dataset.kind === "grid") {
      // Portfolio: attractiveness (rows) × relationship (columns), accounts and the strategy
      // per cell; a click lists the accounts of that strategy.
      chart.setOption({tooltip: {formatter: p => p.data[3] + ": " + p.data[2]},
        grid: {left: 45, right: 20, top: 10, bottom: 40, containLabel: true},
        xAxis: {type: "category", data: data.x, name: el.dataset.xname, nameLocation: "middle", nameGap: 28},
        yAxis: {type: "category", data: data.y, name: el.dataset.yname, nameLocation: "middle", nameGap: 35},
        visualMap: {min: 0, max: data.max, dimension: 2, show: false, inRange: {color: ["#f1f5f9", "#7aa7e0"]}},
        series: [{type: "heatmap", data: data.cells, label: {show: true, fontSize: 13, formatter: p => p.data[3] + "\n" + p.data[2]}}]});
      chart.on("click", p => { if (p.data[4]) window.location.href = el.dataset.link + encodeURIComponent(p.data[4]) + "#tier-list"; });
    } else if (el.dataset.kind === "compliance") {
      // Service compliance: people × weeks or units × months, % of the contacts due; a click
      // lists the overdue accounts of that row's person or unit.
      chart.setOption({tooltip: {formatter: p => data.y[p.data[1]] + " · " + data.x[p.data[0]] + ": " + (p.data[2] === null ? "—" : p.data[2] + "%")},
        grid: {left: 10, right: 20, top: 10, bottom: 50, containLabel: true},
        xAxis: {type: "category", data: data.x, splitArea: {show: true}},
        yAxis: {type: "category", data: data.y, inverse: true, splitArea: {show: true}},
        visualMap: {min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
          inRange: {color: ["#d63939", "#f59f00", "#2fb344"]}},
        series: [{type: "heatmap", data: data.cells.filter(c => c[2] !== null), label: {show: data.x.length <= 14}}]});
      chart.on("click", p => { if (window.htmx) htmx.ajax("GET", el.dataset.link + data.keys[p.data[1]], {target: el.dataset.target, swap: "outerHTML"}); });
    } else if (el.dataset.kind === "bars") {
      // Grouped bars per category: data = {x: [...], series: [{name, data: [...]}, ...]}.
      chart.setOption({tooltip: {trigger: "axis"}, legend: {bottom: 0},
        grid: {left: 10, right: 20, top: 20, bottom: 40, containLabel: true},
        xAxis: {type: "category", data: data.x, axisLabel: {interval: 0}}, yAxis: {type: "value"},
        series: data.series.map(s => ({type: "bar", name: s.name, data: s.data}))});
    } else if (el.dataset.kind === "pie") {
      chart.setOption({tooltip: {trigger: "item"}, legend: {bottom: 0, type: "scroll"},
        series: [{type: "pie", radius: ["40%", "70%"], data: data, label: {formatter: "{b}\n{d}%"}}]});
    } else {
      // Horizontal bars of amounts: the axis in short numbers (250万, 2.5M) so that labels never collide.
      const compact = new Intl.NumberFormat(document.documentElement.lang || undefined, {notation: "compact"});
      chart.setOption({tooltip: {}, grid: {left: 10, right: 30, top: 10, bottom: 20, containLabel: true},
        xAxis: {type: "value", axisLabel: {formatter: v => compact.format(v)}}, yAxis: {type: "category", inverse: true, data: data.map(d => d.name),
          axisLabel: {width: 180, overflow: "truncate"}},
        series: [{type: "bar", data: data.map(d => d.value), itemStyle: {color: "#206bc4"}}]});
    }
    window.addEventListener("resize", function () { chart.resize(); });
  });
}
document.addEventListener("DOMContentLoaded", function () { kamCharts(); });
document.addEventListener("htmx:afterSwap", function (event) { kamCharts(event.detail.target); });
