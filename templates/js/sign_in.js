// The sign-in pages: sign-up and its verify step, verify, log in (with the two-step code
// step), forgot and reset.

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

// Straight in after verifying: the sign-up page becomes the verify step in place (its
// address says confirm), so the password it was given stays in this page's memory, and
// nowhere else, until the code is accepted; then it logs the person in. The verify page
// opened on its own (later, or reloaded) knows no password: it leads to the login page.
pages.signup = function () {
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
};
pages.confirm = function () {
  verifyStep(function (verified) {
    go("login?notice=verified&username=" + q(verified.username));
  });
};
pages.login = function () {
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
};
pages.forgot = function () { forward("forgot-form", "api/auth/forgot", "reset?notice=code-sent&"); };
pages.reset = function () { forward("reset-form", "api/auth/reset", "login?notice=reset&"); };
