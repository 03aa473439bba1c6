// The tab's session: its tokens, their renewal through the cookie, logging out, where to go
// after logging in, and the header's links; start(), every page's start.

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
  go(loginPath("session-ended"));  // the login page says SESSION_ENDED (chalicelib/errors.py)
  return never();
}

// One refresh at a time for the whole page, through the cookie: every call that meets a
// 401 meanwhile waits for the same one.
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
    if (state === "none") { go(loginPath()); return never(); }
    return endSession();
  });
}

// This page's address from the app's base ("account/security?change=..."): the login page
// comes back to it (`next`) once the person has logged in.
function here() {
  var base = new URL(document.baseURI).pathname;
  return location.pathname.slice(base.length) + location.search;
}
function loginPath(notice) {
  var back = here();
  var query = (notice ? ["notice=" + notice] : []).concat(
    back && back !== "hello" ? ["next=" + q(back)] : []);
  return "login" + (query.length ? "?" + query.join("&") : "");
}
// Where a person goes once logged in: the page they asked for (`next`), when it is one of
// this app's (same origin, under its base), else the greeting.
function nextPage() {
  var next = new URLSearchParams(location.search).get("next") || "";
  var base = new URL(document.baseURI);
  try {
    var url = new URL(next, base);
    if (next && !/^[\s\/\\]|^[a-z][a-z0-9+.-]*:/i.test(next) && url.origin === base.origin &&
        url.pathname.indexOf(base.pathname) === 0) {
      return url.href;
    }
  } catch (e) { /* not an address at all: the greeting */ }
  return "hello";
}

// The header: Account and Log out for a tab with a session, Log in and Sign up otherwise.
function showSignedIn(yes) {
  document.querySelectorAll("[data-signed-in]").forEach(function (e) { e.hidden = !yes; });
  document.querySelectorAll("[data-signed-out]").forEach(function (e) { e.hidden = yes; });
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

// Every page's start, once every file of its script has run (chalicelib/pages.py calls it
// last): the header, the password fields, then the page's own start; the first field is
// focused, unless the page's start moved the focus already.
function start() {
  if (session()) { showSignedIn(true); }
  wireLogout();
  passwordFields(document);
  var page = pages[document.body.dataset.page];
  if (page) { page(); }
  if (document.activeElement === document.body) { focusFirstField(document.querySelector("main")); }
}
