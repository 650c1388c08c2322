// Live countdown on a challenge page; the server-rendered text stays when JavaScript is off.
(function () {
  var el = document.getElementById("countdown");
  if (!el || !el.dataset.closes) return;
  var end = Date.parse(el.dataset.closes);
  function tick() {
    var left = Math.floor((end - Date.now()) / 1000);
    if (left <= 0) { el.textContent = "已截止"; return; }
    var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    el.textContent = "剩余 " + (d ? d + " 天 " : "") + h + " 小时 " + m + " 分 " + s + " 秒";
    setTimeout(tick, 1000);
  }
  tick();
})();
