// 展示交易: countdowns against the server's clock, and the bidding page's live state (polling, no framework).
(function () {
  "use strict";
  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600),
        m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return (d ? d + " 天 " : "") + (d || h ? h + " 小时 " : "") + m + " 分 " + s + " 秒";
  }
  // Countdowns: the page carries the server's time; the offset to this machine's clock is applied.
  document.querySelectorAll(".countdown").forEach(function (el) {
    var ends = Date.parse(el.dataset.ends), offset = Date.parse(el.dataset.now) - Date.now();
    var label = el.textContent.split("：")[0];
    function tick() {
      var left = (ends - (Date.now() + offset)) / 1000;
      el.textContent = label + "：" + (left > 0 ? fmt(left) : "已到期，等待系统处理");
    }
    tick();
    setInterval(tick, 1000);
  });

  var box = document.getElementById("auction");
  if (!box) return;
  var url = box.dataset.stateUrl, myPaddle = box.dataset.myPaddle || "";
  var form = document.getElementById("bid-form"), message = document.getElementById("bid-message");
  var priceInput = document.getElementById("price"), lastMin = null, left = null, stamp = 0;
  var holdUntil = 0;  // the answer to one's own bid stays on screen a moment before polls replace it
  function text(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function show(kind, msg) {
    message.innerHTML = "";
    var div = document.createElement("div");
    div.className = "alert alert-" + kind;
    div.textContent = msg;
    message.appendChild(div);
  }
  function render(state) {
    text("server-time", state.server_time.slice(0, 19).replace("T", " ") + " UTC");
    text("ends-at", state.ends_at.slice(0, 19).replace("T", " ") + " UTC");
    left = state.seconds_left; stamp = Date.now();
    text("seconds-left", Math.floor(left) + " 秒");
    text("bid-count", state.bids);
    text("minimum", state.minimum_wan + " 万元");
    text("head-hash", state.head_hash);
    var recent = state.recent || [];
    text("best", state.best_wan === null ? "暂无出价" :
      state.best_wan + " 万元（" + (state.best_bidder || (recent.length ? recent[0].bidder : "")) + "）");
    var status = document.getElementById("auction-status");
    if (status) status.textContent = state.status;
    if (recent.length) {
      var body = document.getElementById("bids");
      body.innerHTML = "";
      recent.forEach(function (b) {
        var tr = document.createElement("tr");
        [b.seq, b.bidder, b.price_wan + " 万元", b.at.slice(0, 19).replace("T", " ")].forEach(function (v) {
          var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    }
    if (priceInput && lastMin !== state.minimum_wan && document.activeElement !== priceInput) {
      priceInput.value = state.minimum_wan;
    }
    lastMin = state.minimum_wan;
    if (state.status !== "竞价中") {
      if (form) { form.remove(); form = null; }
      show("info", "竞价已结束：" + state.status);
    } else if (Date.now() < holdUntil) {
      return;
    } else if (myPaddle && state.best_paddle && state.best_paddle !== myPaddle && form) {
      show("warning", "您的出价已被超越，当前最高 " + state.best_wan + " 万元");
    } else if (myPaddle && state.best_paddle === myPaddle) {
      show("success", "您当前是最高出价（" + state.best_wan + " 万元）");
    }
  }
  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, cache: "no-store"})
      .then(function (r) { return r.json(); }).then(render).catch(function () {});
  }
  setInterval(poll, 1500);
  setInterval(function () {
    if (left !== null) text("seconds-left", Math.max(0, Math.floor(left - (Date.now() - stamp) / 1000)) + " 秒");
  }, 250);
  poll();
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(form);
      fetch(form.action, {method: "POST", body: data, headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json().then(function (body) { return {status: r.status, body: body}; }); })
        .then(function (res) {
          holdUntil = Date.now() + 3000;
          if (res.status === 201) {
            show("success", "出价成功：" + res.body.price_wan + " 万元（第 " + res.body.seq + " 次出价）");
            render(Object.assign(res.body.auction, {recent: null}));
            poll();
          } else {
            show("danger", res.body.message || "出价未被接受");
            if (res.body.auction) render(Object.assign(res.body.auction, {recent: null}));
          }
        }).catch(function () { show("danger", "网络错误，请重试"); });
    });
  }
})();
