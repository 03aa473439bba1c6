function session() {
  try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { return null; }
}
function saveSession(tokens) {
  sessionStorage.setItem(STORE, JSON.stringify({ idToken: tokens.idToken,
                                                 accessToken: tokens.accessToken }));
}
function dropSession() { sessionStorage.removeItem(STORE); }
function endSession() {
  dropSession();
  go("login?notice=session-ended");  // the login page says SESSION_ENDED (chalicelib/errors.py)
  return never();
}

// One refresh at a time for the whole page, through the cookie: every call that meets a
// 401 meanwhile (the account page's, its files section's) waits for the same one.
// Resolves to "ok", "none" (no cookie: not logged in on this browser) or "ended".
var refreshing = null;
function refreshSession() {
  if (!refreshing) {
    refreshing = send("POST", "api/auth/refresh", {}, {}).then(function (result) {
      refreshing = null;
      if (result.status === 200) { saveSession(result.data); return "ok"; }
      return result.data.error === "NotSignedIn" ? "none" : "ended";
    });
  }
  return refreshing;
}

// A signed-in page's start: renew the tokens through the cookie, so a session ended
// elsewhere (Log out everywhere, a password change) is over now, and a new tab is signed
// in. Without a cookie the tab's own tokens are used until they fail.
function signedIn() {
  return refreshSession().then(function (state) {
    if (state === "ok" || (state === "none" && session())) { return true; }
    dropSession();
    if (state === "none") { go("login"); return never(); }
    return endSession();
  });
}

// Log out: this browser's session only (the cookie's refresh token is revoked); the
// person's other devices stay signed in.
function wireLogout() {
  document.getElementById("logout").addEventListener("click", function () {
    // Sent with this tab's ID token (read as the call starts), so it ends with the session.
    var sent = send("POST", "api/auth/logout", {}, { auth: true });
    dropSession();
    sent.then(function () { go("login?notice=signed-out"); });  // gone from this tab anyway
  });
}

// The page's start, once every file of its script has run (chalicelib/pages.py calls it last).
function start() {
  var page = pages[document.body.dataset.page];
  if (page) { page(); }
}
