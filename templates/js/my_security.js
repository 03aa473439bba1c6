// Where you're signed in and Recent activity on the Security page (account_security.html,
// chalicelib/my_security.py): every live session with `Sign out` on the others, and the last
// 90 days of what happened to the account. Returns the sections' load.
function securitySection() {
  var withTokens = { auth: true, accessToken: true };
  var sessions = document.getElementById("sessions");
  var activity = document.getElementById("activity");

  function when(iso) { return new Date(iso).toLocaleString(); }

  // A cell, labelled with its column's name for the narrow layout (a row as a card).
  function cell(table, row, content, header) {
    var c = document.createElement(header ? "th" : "td");
    if (header) { c.scope = "row"; }
    c.dataset.label = table.querySelectorAll("thead th")[row.children.length].textContent;
    if (typeof content === "string") { c.textContent = content; } else { c.appendChild(content); }
    row.appendChild(c);
  }

  function signOutButton(session) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Sign out";
    button.setAttribute("aria-label", "Sign out " + session.device + ", " + session.ip);
    button.addEventListener("click", function () {
      quiet(button);
      button.disabled = true;
      api("POST", "api/account/sessions/sign-out", { sessionId: session.id },
          Object.assign({ near: button }, withTokens)).then(function (result) {
        button.disabled = false;
        if (!result.ok) { return; }
        show(result.data);
        sessions.focus();
        say(sessions, session.device + " is signed out: its next page load asks it to log in.");
      });
    });
    return button;
  }

  function show(data) {
    var body = document.getElementById("sessions-body");
    body.textContent = "";
    data.sessions.forEach(function (session) {
      var row = document.createElement("tr");
      cell(sessions, row, session.device, true);
      cell(sessions, row, session.ip || "unknown");
      cell(sessions, row, when(session.started));
      cell(sessions, row, when(session.lastActive));
      cell(sessions, row, session.thisDevice ? "This device" : signOutButton(session));
      body.appendChild(row);
    });
    var lines = document.getElementById("activity-body");
    lines.textContent = "";
    data.activity.forEach(function (line) {
      var row = document.createElement("tr");
      cell(activity, row, when(line.at), true);
      cell(activity, row, line.what + (line.newDevice ? " · New device" : ""));
      cell(activity, row, line.device);
      cell(activity, row, line.ip || "unknown");
      lines.appendChild(row);
    });
    if (!data.activity.length) {
      var none = document.createElement("tr");
      cell(activity, none, "Nothing in the last 90 days.", true);
      lines.appendChild(none);
    }
    sessions.setAttribute("aria-busy", "false");
    activity.setAttribute("aria-busy", "false");
  }

  sessions.tabIndex = -1;
  return function load() {
    return api("GET", "api/account/security", undefined, { auth: true, near: sessions })
      .then(function (result) { if (result.ok) { show(result.data); } });
  };
}
