(function () {
  "use strict";
  var el = document.getElementById("ltv-report-data");
  if (!el) { return; }
  var data = JSON.parse(el.textContent);
  var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var charts = data.charts || [];
  for (var i = 0; i < charts.length; i++) {
    var c = charts[i];
    var div = document.getElementById("chart-" + c.id);
    if (!div || typeof Plotly === "undefined") { continue; }
    Plotly.newPlot(div, c.figure.data, c.figure.layout, config);
  }
  window.addEventListener("beforeprint", function () {
    for (var j = 0; j < charts.length; j++) {
      var d = document.getElementById("chart-" + charts[j].id);
      if (d && typeof Plotly !== "undefined") { Plotly.Plots.resize(d); }
    }
  });
})();
