"use strict";
(function () {
  var STORE = "comm-it.session";
  var OFFLINE = "Cannot reach Comm-IT. Check your connection and try again.";
  var alertBox = document.getElementById("alert");

  function showError(message) {
    alertBox.textContent = message;
    alertBox.hidden = false;
  }
  function clearError() {
    alertBox.hidden = true;
    alertBox.textContent = "";
    var status = document.getElementById("status");  // an older "we sent a code" is stale now
    if (status) { status.hidden = true; }
  }
  function go(path) { window.location.assign(path); }
  function q(name) { return encodeURIComponent(name); }

  function session() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }
  function saveSession(tokens) { sessionStorage.setItem(STORE, JSON.stringify(tokens)); }
  function dropSession() { sessionStorage.removeItem(STORE); }

  // POST JSON to the API; always resolves to {status, data} with data.message set on errors.
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok && !data.message) { data.message = "Something went wrong. Please try again."; }
        return { status: response.status, data: data };
      });
    }, function () {
      return { status: 0, data: { error: "Offline", message: OFFLINE } };
    });
  }

  function fields(form) {
    var values = {};
    new FormData(form).forEach(function (value, key) { values[key] = value; });
    return values;
  }

  // Wire a form to an API call: errors go to the alert, success to onDone.
  function onSubmit(id, path, onDone, onError) {
    var form = document.getElementById(id);
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearError();
      var values = fields(form);
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      post(path, values).then(function (result) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (result.status >= 200 && result.status < 300) { return onDone(result.data, values); }
        if (onError && onError(result.data, values)) { return; }
        showError(result.data.message);
      });
    });
  }

  // One refresh at a time for the whole page: every call that meets a 401 meanwhile (the
  // account page's, its files section's) waits for the same one.
  var refreshing = null;
  function refreshSession() {
    var current = session();
    if (!current || !current.refreshToken) { return Promise.resolve(false); }
    if (refreshing) { return refreshing; }
    refreshing = post("api/auth/refresh", { refreshToken: current.refreshToken }).then(function (result) {
      refreshing = null;
      if (result.status !== 200) { return false; }
      saveSession(result.data);
      return true;
    });
    return refreshing;
  }
  window.commItRefreshSession = refreshSession;

  var pages = {
    signup: function () {
      onSubmit("signup-form", "api/auth/signup", function (data, values) {
        go("confirm?username=" + q(values.username));
      });
    },
    confirm: function () {
      onSubmit("confirm-form", "api/auth/confirm", function (data, values) {
        go("login?notice=verified&username=" + q(values.username));
      });
      var status = document.getElementById("status");
      document.getElementById("resend").addEventListener("click", function () {
        clearError();
        status.hidden = true;
        var username = document.getElementById("username").value;
        post("api/auth/resend", { username: username }).then(function (result) {
          if (result.status !== 200) { return showError(result.data.message); }
          status.textContent = "We sent a new code. Check your email.";
          status.hidden = false;
        });
      });
    },
    login: function () {
      onSubmit("login-form", "api/auth/login", function (data) {
        saveSession(data);
        go("hello");
      }, function (data, values) {
        if (data.error !== "UserNotConfirmed") { return false; }
        go("confirm?notice=unconfirmed&username=" + q(values.username));
        return true;
      });
    },
    forgot: function () {
      onSubmit("forgot-form", "api/auth/forgot", function (data, values) {
        go("reset?notice=code-sent&username=" + q(values.username));
      });
    },
    reset: function () {
      onSubmit("reset-form", "api/auth/reset", function (data, values) {
        go("login?notice=reset&username=" + q(values.username));
      });
    },
    hello: function () {
      var box = document.getElementById("greeting");
      var tries = 0;
      function show(html) { box.innerHTML = html; }
      function fail(message) {
        box.innerHTML = "";
        showError(message);
      }
      function whenPending(response) {  // 202: show the answer's own "getting ready" fragment
        if (tries >= 34) {  // still not ready after ~30 s: say so, never spin forever
          return fail("Your greeting is taking longer than usual. Please reload the page in a minute.");
        }
        tries += 1;
        return response.text().then(function (html) {
          show(html);
          setTimeout(load, Math.min(1000, 100 * Math.pow(1.5, tries - 1)));  // 0.1 s, x1.5, at most 1 s
        });
      }
      function whenUnauthorized() {
        return refreshSession().then(function (ok) {
          if (ok) { return load(); }
          dropSession();
          go("login?notice=session-ended");
        });
      }
      function whenFailed(response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          fail(data.message || "We could not load your greeting. Please reload the page.");
        });
      }
      function answer(response) {
        if (response.status === 401) { return whenUnauthorized(); }
        if (response.status === 202) { return whenPending(response); }
        if (!response.ok) { return whenFailed(response); }
        return response.text().then(show);
      }
      function load() {
        var current = session();
        if (!current) { return go("login"); }
        fetch("api/greeting/card", { headers: { Authorization: current.idToken } })
          .then(answer, function () { showError(OFFLINE); });
      }
      wireLogout();
      load();
    },
    account: function () {
      var status = document.getElementById("status");
      function say(message) { status.textContent = message; status.hidden = false; }
      function text(id, value) { document.getElementById(id).textContent = value; }

      // A guarded API call: the ID token in the header, the access token in the body (the
      // user-pool operations act with it). A 401 refreshes the session once and retries.
      function call(method, path, body, retried) {
        var current = session();
        if (!current) { go("login"); return new Promise(function () {}); }
        var options = { method: method, headers: { Authorization: "Bearer " + current.idToken } };
        if (body) {
          options.headers["Content-Type"] = "application/json";
          options.body = JSON.stringify(Object.assign({ accessToken: current.accessToken }, body));
        }
        return fetch(path, options).then(function (response) {
          if (response.status === 401 && !retried) {
            var now = session();
            if (now && now.idToken !== current.idToken) {  // refreshed meanwhile by another call
              return call(method, path, body, true);
            }
            return refreshSession().then(function (ok) {
              if (ok) { return call(method, path, body, true); }
              dropSession();
              go("login?notice=session-ended");
              return new Promise(function () {});
            });
          }
          return response.json().catch(function () { return {}; }).then(function (data) {
            if (!response.ok && !data.message) { data.message = "Something went wrong. Please try again."; }
            return { status: response.status, data: data };
          });
        }, function () {
          return { status: 0, data: { message: OFFLINE } };
        });
      }

      function load() {
        return call("GET", "api/account").then(function (result) {
          document.getElementById("who").setAttribute("aria-busy", "false");
          if (result.status !== 200) { return showError(result.data.message); }
          var me = result.data;
          text("who-name", me.name);
          text("who-email", me.email);
          text("who-username", me.username);
          text("who-identity", me.identityId);
          var expiry = document.getElementById("who-expiry");
          expiry.setAttribute("datetime", me.credentialsExpire);
          var when = new Date(me.credentialsExpire);
          expiry.textContent = isNaN(when.getTime()) ? me.credentialsExpire : when.toLocaleString();
          var name = document.getElementById("name");
          if (!name.value) { name.value = me.name; }
        });
      }

      // Wire a form of this page: errors to the alert, success to onDone.
      function form(id, method, path, onDone) {
        var element = document.getElementById(id);
        element.addEventListener("submit", function (event) {
          event.preventDefault();
          clearError();
          var values = fields(element);
          var buttons = element.querySelectorAll("button");
          buttons.forEach(function (b) { b.disabled = true; });
          call(method, path, values).then(function (result) {
            buttons.forEach(function (b) { b.disabled = false; });
            if (result.status >= 200 && result.status < 300) { return onDone(result.data, element); }
            showError(result.data.message);
          });
        });
      }

      // After a change the ID token still carries the old values: a refreshed one has the new.
      function reload() { return refreshSession().then(load); }

      form("name-form", "POST", "api/account/name", function (data) {
        say("Your name is saved: the greeting says “Hello, " + data.name + "” in a few seconds.");
        reload();
      });
      var verifyForm = document.getElementById("verify-form");
      form("email-form", "POST", "api/account/email", function (data) {
        text("verify-hint", "We sent a 6-digit code to " + data.pendingEmail +
             ". Until you enter it, your account keeps " + data.email + ".");
        verifyForm.hidden = false;
        say("Check " + data.pendingEmail + " for the verification code.");
        document.getElementById("email-code").focus();
      });
      form("verify-form", "POST", "api/account/email/verify", function (data, element) {
        element.reset();
        verifyForm.hidden = true;
        document.getElementById("email").value = "";
        say("Your email address is now " + data.email + ".");
        reload();
      });
      form("password-form", "POST", "api/account/password", function (data, element) {
        element.reset();
        say("Your password is changed. Use the new one next time you log in.");
      });

      var start = document.getElementById("delete-start");
      var deleteForm = document.getElementById("delete-form");
      function showDelete(open) {
        deleteForm.hidden = !open;
        start.hidden = open;
        start.setAttribute("aria-expanded", String(open));
        if (open) { document.getElementById("delete-password").focus(); } else { start.focus(); }
      }
      start.addEventListener("click", function () { clearError(); showDelete(true); });
      document.getElementById("delete-cancel").addEventListener("click", function () {
        deleteForm.reset();
        clearError();
        showDelete(false);
      });
      form("delete-form", "DELETE", "api/account", function () {
        dropSession();
        go("login?notice=account-deleted");
      });

      wireLogout();
      load();
    }
  };

  function wireLogout() {
    document.getElementById("logout").addEventListener("click", function () {
      var current = session();
      dropSession();
      var done = function () { go("login?notice=signed-out"); };
      if (!current) { return done(); }
      post("api/auth/logout", { accessToken: current.accessToken }).then(done);
    });
  }

  var page = pages[document.body.dataset.page];
  if (page) { page(); }
})();
