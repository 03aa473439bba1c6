// --- Your data in AWS: every place, one ZIP, your access proven (account_files.html) -----
// Read with your own AWS credentials (and your access token for the user pool).
function myDataSection() {
  var withTokens = { auth: true, accessToken: true };
  var places = document.getElementById("places");
  var body = document.getElementById("places-body");

  function cell(row, text, header) {
    var c = document.createElement(header ? "th" : "td");
    if (header) { c.scope = "row"; }
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

  function loadPlaces() {
    return api("POST", "api/account/data", {}, withTokens).then(function (result) {
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
    link.click();
  }, withTokens);

  var check = document.getElementById("check-access");
  onClick(check, "POST", "api/account/access-check", function (data) {
    var results = document.getElementById("access-results");
    var policy = document.getElementById("access-policy");
    results.textContent = "";
    policy.textContent = "";
    data.results.forEach(function (r) {
      var item = document.createElement("li");
      item.className = r.outcome;
      item.textContent = r.label + ": " + r.outcome + (r.code ? " (" + r.code + ")" : "") +
        (r.asExpected ? "" : " (not as expected)") + " — " + r.request;
      results.appendChild(item);
    });
    data.policy.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      policy.appendChild(item);
    });
    document.getElementById("access").hidden = false;
  }, { auth: true });

  return loadPlaces;
}
