// The one client of the API, for every page. Every page's script starts with the shared files
// (this one, session.js, forms.js, passwords.js), then the page's own; chalicelib/pages.py puts
// them in one function scope and calls start() (session.js) last.

// The ID and access tokens of this tab (never the refresh token: it lives in an HttpOnly
// cookie this script cannot read, chalicelib/session_cookie.py), and whether the person
// asked to be kept signed in (a password change renews the cookie the same way).
var STORE = "comm-it.session";
var KEEP = "comm-it.keep";
var PAGE_HEADER = "X-Comm-IT-Page";  // says "the page's own call": the cookie is for these
var OFFLINE = "Cannot reach Comm-IT. Check your connection and try again.";
var FAILED = "Something went wrong. Please try again.";
// Each page's start, by its body's data-page: the page's own file adds it (pages.login = ...).
var pages = {};

function go(path) { window.location.assign(path); }
function never() { return new Promise(function () {}); }  // the page is leaving
function q(name) { return encodeURIComponent(name); }

//   api(method, path, body, options) -> Promise of {ok, status, data}
// body: sent as JSON (undefined: no body). options:
//   auth: a guarded route. The ID token goes in the Authorization header as the token
//     itself (the form API Gateway's Cognito authorizer is documented with); no session
//     means the login page. A 401 refreshes the session once and retries; a 401 after
//     that, or a refresh that fails, ends the session (the login page says so).
//   accessToken: also put the access token in the body (the user-pool calls act with it).
//   html: a 2xx answer is HTML (data is its text); errors are JSON all the same.
//   handle(result): the caller's own answer to an error; return true when handled.
//   near: an element of the section that asked; an error nobody handled is said in that
//     section's alert (forms.js), or in the page's when there is none.
// Every answer with an error (a 429 TooManyAttempts too) carries its message for a person.
function api(method, path, body, options) {
  options = options || {};
  return call(method, path, body, options, false).then(function (result) {
    if (!result.ok && !(options.handle && options.handle(result))) {
      fail(options.near, [{ message: result.data.message }]);
    }
    return result;
  });
}

function call(method, path, body, options, retried) {
  var current = session();
  if (options.auth && !current) { go(loginPath()); return never(); }
  var sent = options.accessToken ? Object.assign({ accessToken: current.accessToken }, body) : body;
  return send(method, path, sent, options).then(function (result) {
    if (!options.auth || result.status !== 401) { return result; }
    if (retried) { return endSession(); }
    var now = session();
    if (now && now.idToken !== current.idToken) {  // refreshed meanwhile by another call
      return call(method, path, body, options, true);
    }
    return refreshSession().then(function (state) {
      return state === "ok" ? call(method, path, body, options, true) : endSession();
    });
  });
}

// One fetch; resolves (never rejects) to {ok, status, data}, data.message set on errors.
function send(method, path, body, options) {
  var init = { method: method, headers: {}, credentials: "same-origin" };
  init.headers[PAGE_HEADER] = "1";
  var current = session();
  if (options.auth && current) { init.headers.Authorization = current.idToken; }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init).then(function (response) {
    var read = options.html && response.ok ? response.text() :
      response.json().catch(function () { return {}; });
    return read.then(function (data) {
      if (!response.ok && !data.message) { data.message = FAILED; }
      return { ok: response.ok, status: response.status, data: data };
    });
  }, function () {
    return { ok: false, status: 0, data: { error: "Offline", message: OFFLINE } };
  });
}
