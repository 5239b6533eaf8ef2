// The sales funnel: elements with data-funnel read [{name, value, amount}] from the json_script
// named by data-source; the width is the count, the label and tooltip add the amount.
function kamFunnels(root) {
  if (!window.echarts) return;
  (root || document).querySelectorAll("[data-funnel]").forEach(function (el) {
    const data = JSON.parse(document.getElementById(el.dataset.source).textContent)[el.dataset.funnel];
    const chart = echarts.init(el);
    const amount = v => Number(v).toLocaleString(undefined, {maximumFractionDigits: 0});
    chart.setOption({
      // The tooltip is HTML: the stage name is escaped (escapeHtml in kam.js); the label is canvas text.
      // Confined, it has no arrow (a <div style=…> the policy refuses).
      tooltip: {trigger: "item", confine: true, formatter: p => escapeHtml(p.name + ": " + p.value + " · " + amount(p.data.amount) + " " + (el.dataset.unit || ""))},
      series: [{type: "funnel", sort: "none", left: "10%", width: "80%", top: 10, bottom: 10, minSize: "8%", gap: 2,
        label: {position: "inside", formatter: p => p.name + "  " + p.value + "  (" + amount(p.data.amount) + ")"},
        data: data}],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
}
document.addEventListener("DOMContentLoaded", function () { kamFunnels(); });
