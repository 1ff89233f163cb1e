// Progressive enhancement of the submission form: suggest official
// collectivities from the API while the user types. Without JavaScript the
// server resolves the typed name, postcode or code itself.
(function () {
  "use strict";
  var input = document.getElementById("id_collectivity_query");
  var list = document.getElementById("collectivity-options");
  var code = document.getElementById("id_collectivity_code");
  if (!input || !list || !code || !window.fetch) { return; }
  var labels = {};
  var timer = null;

  function suggest() {
    var query = input.value.trim();
    if (labels[query]) { code.value = labels[query]; return; }
    code.value = "";
    if (query.length < 2) { return; }
    var url = "/api/v1/collectivities/?page_size=10&ordering=-population&q=" +
      encodeURIComponent(query);
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        list.textContent = "";
        data.results.forEach(function (item) {
          var label = item.name + " (" + item.department.code + ") – " + item.code;
          labels[label] = item.code;
          var option = document.createElement("option");
          option.value = label;
          list.appendChild(option);
        });
      })
      .catch(function () { /* the server-side fallback still works */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(suggest, 200);
  });
})();
