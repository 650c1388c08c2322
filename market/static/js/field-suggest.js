// One-click technical-field suggestions on the listing forms: asks /api/v1/fields/suggest with the
// text typed so far and offers the three likeliest fields as buttons that fill the select.
(function () {
  "use strict";
  var box = document.getElementById("field-suggest");
  var select = document.getElementById("field");
  if (!box || !select) return;
  var button = box.querySelector("button");
  var list = box.querySelector(".suggestions");
  var ids = (box.dataset.sources || "").split(",");

  function text() {
    return ids.map(function (id) {
      var el = document.getElementById(id);
      return el ? el.value : "";
    }).join("\n").trim();
  }

  function pick(field) {
    select.value = field;
    select.dispatchEvent(new Event("change"));
  }

  button.addEventListener("click", function () {
    var value = text().slice(0, 6000);
    list.textContent = "";
    if (!value) {
      list.textContent = "请先填写名称或简介";
      return;
    }
    fetch(box.dataset.url + "?text=" + encodeURIComponent(value), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (!body.suggestions || !body.suggestions.length) {
          list.textContent = "文字中没有可判断领域的词";
          return;
        }
        body.suggestions.forEach(function (s) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "btn btn-sm btn-outline-secondary me-1 mb-1";
          b.textContent = s.field + "（" + Math.round(s.probability * 100) + "%）";
          b.title = s.field_top + " / " + s.field;
          b.addEventListener("click", function () { pick(s.field); });
          list.appendChild(b);
        });
      })
      .catch(function () { list.textContent = "暂时无法推荐，请手动选择"; });
  });
})();
