"use strict";
(function () {
  // The ID and access tokens of this tab (never the refresh token: it lives in an HttpOnly
  // cookie this script cannot read, chalicelib/session_cookie.py), and whether the person
  // asked to be kept signed in (a password change renews the cookie the same way).
  var STORE = "comm-it.session";
  var KEEP = "comm-it.keep";
  var PAGE_HEADER = "X-Comm-IT-Page";  // says "the page's own call": the cookie is for these
  var OFFLINE = "Cannot reach Comm-IT. Check your connection and try again.";
  var FAILED = "Something went wrong. Please try again.";
  var alertBox = document.getElementById("alert");

  function showError(message) {
    alertBox.textContent = message;
    alertBox.hidden = false;
    alertBox.scrollIntoView({ block: "nearest" });  // the page's one alert, also for the files below
  }
  function clearError() {
    alertBox.hidden = true;
    alertBox.textContent = "";
    var status = document.getElementById("status");  // an older "we sent a code" is stale now
    if (status) { status.hidden = true; }
  }
  function go(path) { window.location.assign(path); }
  function never() { return new Promise(function () {}); }  // the page is leaving
  function q(name) { return encodeURIComponent(name); }

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

  // The one client of the API: every page and the files section call through it.
  //   api(method, path, body, options) -> Promise of {ok, status, data}
  // body: sent as JSON (undefined: no body). options:
  //   auth: a guarded route. The ID token goes in the Authorization header as the token
  //     itself (the form API Gateway's Cognito authorizer is documented with); no session
  //     means the login page. A 401 refreshes the session once and retries; a 401 after
  //     that, or a refresh that fails, ends the session (the login page says so).
  //   accessToken: also put the access token in the body (the user-pool calls act with it).
  //   html: a 2xx answer is HTML (data is its text); errors are JSON all the same.
  //   handle(result): the caller's own answer to an error; return true when handled.
  // Every other error has one path: its message in the page's role="alert".
  function api(method, path, body, options) {
    options = options || {};
    return call(method, path, body, options, false).then(function (result) {
      if (!result.ok && !(options.handle && options.handle(result))) {
        showError(result.data.message);
      }
      return result;
    });
  }

  function call(method, path, body, options, retried) {
    var current = session();
    if (options.auth && !current) { go("login"); return never(); }
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

  function fields(form) {
    var values = {};
    new FormData(form).forEach(function (value, key) { values[key] = value; });
    return values;
  }

  // Wire a form to an API call: success to onDone(data, values, form), errors to the alert
  // (or to options.handle first). options.extra(): more fields to send with the form's.
  function onSubmit(id, method, path, onDone, options) {
    var form = document.getElementById(id);
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearError();
      var values = Object.assign(fields(form), options && options.extra ? options.extra() : {});
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      var handle = options && options.handle;
      api(method, path, values, Object.assign({}, options, {
        handle: handle && function (result) { return handle(result, values); }
      })).then(function (result) {
        buttons.forEach(function (b) { b.disabled = false; });
        if (result.ok) { onDone(result.data, values, form); }
      });
    });
  }

  // Wire a button to an API call, as onSubmit does a form: disabled while the call runs,
  // success to onDone(data), errors to the alert.
  function onClick(button, method, path, onDone, options) {
    button.addEventListener("click", function () {
      clearError();
      button.disabled = true;
      api(method, path, {}, options).then(function (result) {
        button.disabled = false;
        if (result.ok) { onDone(result.data); }
      });
    });
  }

  // A form whose success leads on to the `next` page, the username carried along.
  function forward(id, path, next) {
    onSubmit(id, "POST", path, function (data, values) {
      go(next + "username=" + q(values.username));
    });
  }

  // The verify step (confirm_step.html): the code to api/auth/confirm, then onVerified(values);
  // Resend code asks for a new one.
  function verifyStep(onVerified) {
    onSubmit("confirm-form", "POST", "api/auth/confirm", function (data, values) {
      onVerified(values);
    });
    var status = document.getElementById("status");
    document.getElementById("resend").addEventListener("click", function () {
      clearError();
      var username = document.getElementById("username").value;
      api("POST", "api/auth/resend", { username: username }).then(function (result) {
        if (!result.ok) { return; }
        status.textContent = "We sent a new code. Check your email.";
        status.hidden = false;
      });
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

  // --- The journey of a change (account page, under the name form) -------------------------
  // The "user updated" event of a name change, stage by stage, from what each stage of the
  // pipeline records (GET api/account/changes/<event id>); polled with backoff until the
  // last stage or the time limit. Until save_profile has recorded it the route says 404; a
  // 503 (a service that did not answer) is ridden out like a stage still waiting. A stage
  // whose message is in a dead-letter queue is "failed", and the ones after it "blocked".
  var JOURNEY_STAGES = [["published", "Published to SNS", ""],
    ["saved", "Saved to DynamoDB", "save_profile"], ["archived", "Archived to S3", "archive_profile"],
    ["parameter", "Name in Parameter Store", "sync_name"], ["greeting", "Greeting", ""]];
  var JOURNEY_LIMIT_MS = 60000;
  var STATE_TEXT = { done: "done", waiting: "waiting", superseded: "superseded by a newer change",
    failed: "failed", blocked: "not reached: an earlier stage failed" };
  var journeyRun = 0;

  function followChange(change) {
    var run = ++journeyRun;  // a newer change replaces the journey shown
    var started = Date.now();
    var wait = 500;
    document.getElementById("journey").hidden = false;
    var end = document.getElementById("journey-end");
    end.hidden = true;
    renderJourney([{ id: "published", state: "done", at: change.publishedAt }]);

    function poll() {
      if (run !== journeyRun) { return; }
      var notYet = function (result) { return result.status === 404 || result.status === 503; };
      api("GET", "api/account/changes/" + q(change.eventId), undefined,
          { auth: true, handle: notYet }).then(function (result) {
        if (run !== journeyRun) { return; }
        if (result.ok) { renderJourney(result.data.stages); }
        if (result.ok && result.data.complete) {
          var failed = document.querySelector("#journey-stages [data-state=failed]");
          end.textContent = failed ? "Stopped at " + failed.dataset.function + ": it gave up, " +
            "and its message waits in a dead-letter queue (an alarm is raised). Your change " +
            "goes on from there once the message is delivered again." : "Every stage is done.";
          end.hidden = false;
          return;
        }
        if (!result.ok && !notYet(result)) { return; }  // said in the alert
        if (Date.now() - started > JOURNEY_LIMIT_MS) {
          var waiting = document.querySelector("#journey-stages [data-state=waiting]");
          end.textContent = "Still waiting after " + JOURNEY_LIMIT_MS / 1000 + " s" +
            (waiting && waiting.dataset.function ? " at " + waiting.dataset.function +
             ": its message may be in the dead-letter queue (an alarm is raised)." : ".");
          end.hidden = false;
          return;
        }
        setTimeout(poll, wait);
        wait = Math.min(wait * 2, 5000);
      });
    }
    poll();
  }

  function renderJourney(stages) {
    var known = {};
    stages.forEach(function (stage) { known[stage.id] = stage; });
    var list = document.getElementById("journey-stages");
    list.textContent = "";
    JOURNEY_STAGES.forEach(function (spec) {
      var stage = known[spec[0]] || { state: "waiting", at: "", detail: "" };
      var item = document.createElement("li");
      item.dataset.stage = spec[0];
      item.dataset.state = stage.state;
      item.dataset.function = spec[2];
      var title = document.createElement("strong");
      title.textContent = spec[1] + (spec[2] ? " (" + spec[2] + ")" : "");
      var state = document.createElement("span");
      state.className = "journey-state";
      state.textContent = STATE_TEXT[stage.state] || stage.state;
      item.appendChild(title);
      item.appendChild(document.createTextNode(": "));
      item.appendChild(state);
      if (stage.at) {
        var when = document.createElement("time");
        when.setAttribute("datetime", stage.at);
        var date = new Date(stage.at);
        when.textContent = " at " + (isNaN(date.getTime()) ? stage.at : date.toLocaleTimeString());
        item.appendChild(when);
      }
      if (stage.detail) {
        var detail = document.createElement("span");
        detail.className = "hint";
        detail.textContent = " " + stage.detail;
        item.appendChild(detail);
      }
      list.appendChild(item);
    });
  }

  // --- The account page's files section (templates/account_files.html) ---------------------
  // Your files and the archived profile document: every link is a presigned S3 URL signed
  // with your own temporary credentials, which the browser follows straight to S3.
  function filesSection() {
    var list = document.getElementById("files-list");
    var empty = document.getElementById("files-empty");
    var form = document.getElementById("files-form");
    var input = document.getElementById("files-file");
    var profileLink = document.getElementById("profile-document");
    var profilePending = document.getElementById("profile-pending");
    var limits = null;
    var renewTimer = null;
    var profileTries = 0;
    var guarded = { auth: true };

    function size(bytes) {
      if (bytes < 1024) { return bytes + " B"; }
      if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1) + " KiB"; }
      return (bytes / 1024 / 1024).toFixed(1) + " MiB";
    }

    function render(files) {
      list.textContent = "";
      files.forEach(function (file) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = file.url;  // presigned: S3 answers with the file as an attachment
        link.textContent = file.name;
        var bytes = document.createElement("span");
        bytes.className = "hint";
        bytes.textContent = size(file.size);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary small";
        remove.textContent = "Delete";
        remove.setAttribute("aria-label", "Delete " + file.name);
        remove.addEventListener("click", function () { deleteFile(file.name, remove); });
        item.appendChild(link);
        item.appendChild(bytes);
        item.appendChild(remove);
        list.appendChild(item);
      });
      list.hidden = files.length === 0;
      empty.hidden = files.length > 0;
    }

    // Download links die with their signature: renew them a little before.
    function renewIn(seconds) {
      clearTimeout(renewTimer);
      renewTimer = setTimeout(load, Math.max(15, seconds - 30) * 1000);
    }

    function loadFiles() {
      return api("GET", "api/account/files", undefined, guarded).then(function (result) {
        if (!result.ok) { return; }
        limits = result.data.limits;
        document.getElementById("files-limits").textContent =
          "Up to " + limits.maxFiles + " files, " + limits.maxFileSize + " each.";
        render(result.data.files);
        renewIn(result.data.expiresIn);
      });
    }

    function notArchivedYet(result) {  // archived a few seconds after login: look again
      if (result.status !== 404) { return false; }
      profilePending.textContent = result.data.message;
      profilePending.hidden = false;
      profileTries += 1;
      if (profileTries < 20) { setTimeout(loadProfile, 3000); }
      return true;
    }

    function loadProfile() {
      var options = { auth: true, handle: notArchivedYet };
      return api("GET", "api/account/profile-document", undefined, options).then(function (result) {
        profileLink.hidden = !result.ok;
        if (result.ok) {
          profileLink.href = result.data.url;
          profilePending.hidden = true;
          return;
        }
        profileLink.removeAttribute("href");
        if (result.status !== 404) { profilePending.hidden = true; }
      });
    }

    function load() { return Promise.all([loadFiles(), loadProfile()]); }

    function deleteFile(name, button) {
      clearError();
      button.disabled = true;
      api("DELETE", "api/account/files/" + q(name), undefined, guarded).then(function (result) {
        button.disabled = false;
        if (result.ok) { return loadFiles(); }
      });
    }

    function readBase64(file) {
      return new Promise(function (resolve, reject) {
        var reader = new FileReader();
        reader.onload = function () {
          var url = String(reader.result);  // data:<type>;base64,<content>
          resolve(url.slice(url.indexOf(",") + 1));
        };
        reader.onerror = function () { reject(reader.error); };
        reader.readAsDataURL(file);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearError();
      var file = input.files && input.files[0];
      if (!file) { return showError("Choose a file to upload."); }
      // The server refuses it too; this only spares sending a big file for nothing.
      if (limits && file.size > limits.maxFileBytes) {
        return showError("The file “" + file.name + "” is larger than " + limits.maxFileSize +
                         ", the most one file may be.");
      }
      var button = form.querySelector("button");
      button.disabled = true;
      readBase64(file).then(function (content) {
        return api("POST", "api/account/files", { name: file.name, content: content }, guarded);
      }, function () {
        showError("That file could not be read. Choose it again.");
        return { ok: false };
      }).then(function (result) {
        button.disabled = false;
        if (!result.ok) { return; }
        form.reset();
        return loadFiles();
      });
    });

    return load;
  }

  // --- Two-step verification (chalicelib/two_step.py) ----------------------------------------
  // The login page's code step: the challenge's session stays in this closure (memory only,
  // never the password); the code and it go to api/auth/login/code. Returns the step's opener.
  function twoStepLogin() {
    var loginForm = document.getElementById("login-form");
    var codeForm = document.getElementById("code-form");
    var challenge = null;
    function back() {  // the session is spent or expired: the password again
      challenge = null;
      codeForm.reset();
      codeForm.hidden = true;
      loginForm.hidden = false;
      document.getElementById("password").value = "";
    }
    codeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearError();
      if (!challenge) { return back(); }
      var button = codeForm.querySelector("button");
      button.disabled = true;
      var body = { username: challenge.username, session: challenge.session,
                   appCode: document.getElementById("app-code").value,
                   keepSignedIn: challenge.keep };
      api("POST", "api/auth/login/code", body, {
        handle: function (result) {
          if (result.data.error === "LoginExpired" || result.data.error === "AccountLocked") { back(); }
          return false;  // the message goes to the alert all the same
        }
      }).then(function (result) {
        button.disabled = false;
        if (!result.ok) { return; }
        localStorage.setItem(KEEP, challenge.keep ? "true" : "false");
        challenge = null;
        saveSession(result.data);
        go("hello");
      });
    });
    return function (data, keep) {
      challenge = { username: data.username, session: data.session, keep: keep };
      document.getElementById("password").value = "";
      loginForm.hidden = true;
      codeForm.hidden = false;
      document.getElementById("app-code").focus();
    };
  }

  // The account page's section: its state, set up (QR code and key), turn on and off with a code.
  function twoStepSection() {
    var state = document.getElementById("two-step-state");
    var start = document.getElementById("two-step-start-form");
    var onForm = document.getElementById("two-step-on-form");
    var offForm = document.getElementById("two-step-off-form");
    var withTokens = { auth: true, accessToken: true };
    function show(enabled) {
      state.textContent = enabled ?
        "Two-step verification is on: logging in asks for a code from your authenticator app." :
        "Two-step verification is off: logging in asks for your password only.";
      start.hidden = enabled;
      onForm.hidden = true;
      offForm.hidden = !enabled;
    }
    onSubmit("two-step-start-form", "POST", "api/account/two-step/setup", function (data, values, form) {
      form.reset();
      document.getElementById("two-step-qr").src = data.qrCode;
      document.getElementById("two-step-key").textContent = data.setupKey;
      start.hidden = true;
      onForm.hidden = false;
      document.getElementById("two-step-code").focus();
    }, withTokens);
    onSubmit("two-step-on-form", "POST", "api/account/two-step/on", function (data, values, form) {
      form.reset();
      show(true);
    }, withTokens);
    onSubmit("two-step-off-form", "POST", "api/account/two-step/off", function (data, values, form) {
      form.reset();
      show(false);
    }, withTokens);
    return function load() {
      api("POST", "api/account/two-step", {}, withTokens).then(function (result) {
        if (result.ok) { show(result.data.enabled); }
      });
    };
  }

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

  var pages = {
    // Straight in after verifying: the sign-up page becomes the verify step in place (its
    // address says confirm), so the password it was given stays in this page's memory, and
    // nowhere else, until the code is accepted; then it logs the person in. The verify page
    // opened on its own (later, or reloaded) knows no password: it leads to the login page.
    signup: function () {
      // Back and Forward between the two steps draw the page of the address anew.
      window.addEventListener("popstate", function () { window.location.reload(); });
      onSubmit("signup-form", "POST", "api/auth/signup", function (data, values) {
        var password = values.password;
        var main = document.querySelector("main");
        main.replaceChild(document.getElementById("confirm-step").content.cloneNode(true),
                          document.getElementById("signup-step"));
        document.title = document.title.replace("Sign up", "Verify your email");
        history.pushState(null, "", "confirm?username=" + q(values.username));
        document.getElementById("username").value = values.username;
        document.getElementById("code").focus();
        verifyStep(function (verified) {
          var login = { username: verified.username, password: password, keepSignedIn: false };
          password = null;
          api("POST", "api/auth/login", login, { handle: function () { return true; } })
            .then(function (result) {
              if (!result.ok || result.data.challenge) {  // e.g. the username was changed here
                return go("login?notice=verified&username=" + q(verified.username));
              }
              saveSession(result.data);
              localStorage.setItem(KEEP, "false");
              go("hello");
            });
        });
      });
    },
    confirm: function () {
      verifyStep(function (verified) {
        go("login?notice=verified&username=" + q(verified.username));
      });
    },
    login: function () {
      var codeStep = twoStepLogin();
      onSubmit("login-form", "POST", "api/auth/login", function (data, values) {
        if (data.challenge) { return codeStep(data, values.keepSignedIn === "true"); }
        saveSession(data);
        localStorage.setItem(KEEP, values.keepSignedIn === "true" ? "true" : "false");
        go("hello");
      }, {
        handle: function (result, values) {
          if (result.data.error !== "UserNotConfirmed") { return false; }
          go("confirm?notice=unconfirmed&username=" + q(values.username));
          return true;
        }
      });
    },
    forgot: function () { forward("forgot-form", "api/auth/forgot", "reset?notice=code-sent&"); },
    reset: function () { forward("reset-form", "api/auth/reset", "login?notice=reset&"); },
    hello: function () {
      var box = document.getElementById("greeting");
      var tries = 0;
      function tokenName() {  // the name in the ID token (what the account page last saved)
        try {
          var part = session().idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
          var bytes = atob(part + "===".slice((part.length + 3) % 4));
          return JSON.parse(decodeURIComponent(escape(bytes))).name;
        } catch (e) { return undefined; }
      }
      function show(html) { box.innerHTML = html; }
      function failed() {
        box.innerHTML = "";
        return false;  // the message goes to the alert
      }
      function load() {
        api("GET", "api/greeting/card", undefined, { auth: true, html: true, handle: failed })
          .then(function (result) {
            if (!result.ok) { return; }
            if (result.status !== 202) {
              show(result.data);
              // A new name is in the refreshed ID token before Parameter Store has it: keep
              // asking (same backoff, bounded) until the API answers with that name.
              var shown = box.querySelector("[data-name]");
              var wanted = tokenName();
              if (!shown || !wanted || shown.dataset.name === wanted || tries >= 34) { return; }
              tries += 1;
              return setTimeout(load, Math.min(1000, 100 * Math.pow(1.5, tries - 1)));
            }
            // 202: show the answer's own "getting ready" fragment, and ask again
            if (tries >= 34) {  // still not ready after ~30 s: say so, never spin forever
              box.innerHTML = "";
              return showError("Your greeting is taking longer than usual. Please reload the page in a minute.");
            }
            tries += 1;
            show(result.data);
            setTimeout(load, Math.min(1000, 100 * Math.pow(1.5, tries - 1)));  // 0.1 s, x1.5, at most 1 s
          });
      }
      wireLogout();
      signedIn().then(load);
    },
    account: function () {
      var status = document.getElementById("status");
      function say(message) { status.textContent = message; status.hidden = false; }
      function text(id, value) { document.getElementById(id).textContent = value; }
      var withTokens = { auth: true, accessToken: true };

      function load() {
        return api("GET", "api/account", undefined, { auth: true }).then(function (result) {
          document.getElementById("who").setAttribute("aria-busy", "false");
          if (!result.ok) { return; }
          var me = result.data;
          text("who-name", me.name);
          text("who-email", me.email);
          text("who-username", me.username);
          text("who-identity", me.identityId);
          var expiry = document.getElementById("who-expiry");
          expiry.setAttribute("datetime", me.credentialsExpire);
          var when = new Date(me.credentialsExpire);
          expiry.textContent = isNaN(when.getTime()) ? me.credentialsExpire : when.toLocaleString();
          var last = new Date(me.lastSignedIn);
          text("who-last-signed-in", !me.signInCount || isNaN(last.getTime()) ?
               "Not recorded yet" : last.toLocaleString() + " (" + me.signInCount +
               (me.signInCount === 1 ? " sign-in" : " sign-ins") + " in all)");
          var name = document.getElementById("name");
          if (!name.value) { name.value = me.name; }
        });
      }

      // After a change the ID token still carries the old values: a refreshed one has the new.
      function reload() { return refreshSession().then(load); }

      onSubmit("name-form", "POST", "api/account/name", function (data) {
        say("Your name is saved: the greeting says “Hello, " + data.name + "” in a few seconds.");
        reload();
        followChange(data);
      }, withTokens);
      var verifyForm = document.getElementById("verify-form");
      onSubmit("email-form", "POST", "api/account/email", function (data) {
        text("verify-hint", "We sent a 6-digit code to " + data.pendingEmail +
             ". Until you enter it, your account keeps " + data.email + ".");
        verifyForm.hidden = false;
        say("Check " + data.pendingEmail + " for the verification code.");
        document.getElementById("email-code").focus();
      }, withTokens);
      onSubmit("verify-form", "POST", "api/account/email/verify", function (data, values, form) {
        form.reset();
        verifyForm.hidden = true;
        document.getElementById("email").value = "";
        say("Your email address is now " + data.email + ".");
        reload();
      }, withTokens);
      onSubmit("password-form", "POST", "api/account/password", function (data, values, form) {
        saveSession(data);  // this session goes on with new tokens; every other one ended
        form.reset();
        say("Your password is changed. You stay logged in here; on every other device, " +
            "log in again with the new password.");
      }, Object.assign({ extra: function () {
        return { keepSignedIn: localStorage.getItem(KEEP) === "true" };
      } }, withTokens));
      onClick(document.getElementById("logout-everywhere"), "POST", "api/account/logout-everywhere",
              function () {
                dropSession();
                go("login?notice=signed-out-everywhere");
              }, withTokens);

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
      onSubmit("delete-form", "DELETE", "api/account", function () {
        dropSession();
        go("login?notice=account-deleted");
      }, withTokens);

      // Each section (twoStepSection, filesSection, myDataSection) wires its buttons and forms
      // now, before the sign-in check answers (a form clicked before its handler would submit
      // itself natively and reload the page), and returns its first load, which waits for it.
      var loads = [load, twoStepSection(), filesSection(), myDataSection()];
      wireLogout();
      signedIn().then(function () { loads.forEach(function (start) { start(); }); });
    }
  };

  var page = pages[document.body.dataset.page];
  if (page) { page(); }
})();
