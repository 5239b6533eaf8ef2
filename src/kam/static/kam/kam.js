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
    if (el.dataset.kind === "pie") {
      chart.setOption({tooltip: {trigger: "item"}, legend: {bottom: 0, type: "scroll"},
        series: [{type: "pie", radius: ["40%", "70%"], data: data, label: {formatter: "{b}\n{c}"}}]});
    } else {
      chart.setOption({tooltip: {}, grid: {left: 90, right: 20, top: 10, bottom: 20},
        xAxis: {type: "value"}, yAxis: {type: "category", inverse: true, data: data.map(d => d.name)},
        series: [{type: "bar", data: data.map(d => d.value), itemStyle: {color: "#206bc4"}}]});
    }
    window.addEventListener("resize", function () { chart.resize(); });
  });
}
document.addEventListener("DOMContentLoaded", function () { kamCharts(); });
