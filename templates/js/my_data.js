// Your data in AWS on the data page (account_data.html): every place it lives, one ZIP of all
// of it, your access proven by real requests (chalicelib/my_data.py, my_data_export.py,
// my_access.py), read with your own AWS credentials and your access token.
// Returns {load, checkAccess}: the places' first load; the check (its answers in plain view,
// your role's policy in words behind the scenes).
function myDataSection() {
  var withTokens = { auth: true, accessToken: true };
  var places = document.getElementById("places");
  var body = document.getElementById("places-body");
  var labels = Array.prototype.map.call(places.querySelectorAll("thead th"),
                                        function (th) { return th.textContent; });

  // A cell, labelled with its column's name for the narrow layout (a place as a card).
  function cell(row, text, header) {
    var c = document.createElement(header ? "th" : "td");
    if (header) { c.scope = "row"; }
    c.dataset.label = labels[row.children.length];
    if (Array.isArray(text)) {
      var list = document.createElement("ul");
      text.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      });
      c.appendChild(list);
    } else {
      c.textContent = text;
    }
    row.appendChild(c);
  }

  function load() {
    return api("POST", "api/account/data", {}, Object.assign({ near: places }, withTokens))
      .then(function (result) {
        places.setAttribute("aria-busy", "false");
        if (!result.ok) { return; }
        body.textContent = "";
        result.data.places.forEach(function (place) {
          var row = document.createElement("tr");
          cell(row, place.service, true);
          cell(row, place.resource);
          cell(row, place.holds);
          cell(row, place.stays);
          cell(row, place.readWith);
          body.appendChild(row);
        });
      });
  }

  var download = document.getElementById("download-data");
  var link = document.getElementById("download-link");
  onClick(download, "POST", "api/account/data/export", function (data) {
    link.href = data.url;  // presigned: S3 answers with the ZIP as an attachment
    link.textContent = "Download " + data.fileName + " again (" + data.size + " bytes)";
    link.hidden = false;
    say(download, "Your data is ready: " + data.fileName + " is downloading.");
    link.click();
  }, withTokens);

  var check = document.getElementById("check-access");
  function list(id, items, line) {
    var target = document.getElementById(id);
    target.textContent = "";
    items.forEach(function (found) {
      var item = document.createElement("li");
      line(item, found);
      target.appendChild(item);
    });
  }
  function checkAccess() {
    check.disabled = true;
    quiet(check);
    return api("POST", "api/account/access-check", {}, { auth: true, near: check })
      .then(function (result) {
        check.disabled = false;
        if (!result.ok) { return; }
        list("access-results", result.data.results, function (item, r) {
          item.className = r.outcome;
          item.textContent = r.label + ": " + r.outcome + (r.code ? " (" + r.code + ")" : "") +
            (r.asExpected ? "" : " (not as expected)") + " — " + r.request;
        });
        list("access-policy", result.data.policy, function (item, line) { item.textContent = line; });
        document.getElementById("access-policy-pending").hidden = true;
        document.getElementById("access").hidden = false;
      });
  }
  check.addEventListener("click", checkAccess);

  return { load: load, checkAccess: checkAccess };
}
