// Logging in (login.html, with the two-step code step), a forgotten password (forgot.html)
// and its reset (reset.html), which logs the person in with the new password.

// After logging in: the page asked for while signed out (session.js's nextPage), or hello.
function loggedIn(tokens, keep) {
  saveSession(tokens);
  localStorage.setItem(KEEP, keep ? "true" : "false");
  go(nextPage());
}

pages.login = function () {
  var codeStep = twoStepLogin();
  emailCodeLogin();
  passkeyLogin(loggedIn);
  onSubmit("login-form", "POST", "api/auth/login", function (data, values) {
    if (data.challenge) { return codeStep(data, values.keepSignedIn === "true"); }
    loggedIn(data, values.keepSignedIn === "true");
  }, {
    handle: function (result, values) {
      if (result.data.error !== "UserNotConfirmed") { return false; }
      go("confirm?notice=unconfirmed&username=" + q(values.username));
      return true;
    }
  });
};

// The login page's code step (chalicelib/two_step.py): the challenge's session stays in this
// closure (memory only, never the password); the code and it go to api/auth/login/code.
// Returns the step's opener.
function twoStepLogin() {
  var loginForm = document.getElementById("login-form");
  var codeForm = document.getElementById("code-form");
  var code = document.getElementById("app-code");
  var challenge = null;
  var recoveryForm = document.getElementById("recovery-form");
  function back() {  // the session is spent or expired: the password again
    challenge = null;
    codeForm.reset();
    recoveryForm.reset();
    codeForm.hidden = true;
    recoveryForm.hidden = true;
    loginForm.hidden = false;
    document.getElementById("password").value = "";
  }
  function expired(result) {
    if (result.data.error === "LoginExpired" || result.data.error === "AccountLocked") {
      back();
      fail(loginForm, [{ message: result.data.message }]);
      document.getElementById("password").focus();
      return true;
    }
    return false;  // said on the field at fault
  }
  // Lost your phone? A recovery code (with the password again: it turns two-step off).
  document.getElementById("use-recovery-code").addEventListener("click", function () {
    quiet(codeForm);
    codeForm.hidden = true;
    recoveryForm.hidden = false;
    document.getElementById("recovery-code").focus();
  });
  document.getElementById("use-app-code").addEventListener("click", function () {
    quiet(recoveryForm);
    recoveryForm.hidden = true;
    codeForm.hidden = false;
    code.focus();
  });
  // Both answers to the code step (an app code, a recovery code) carry its session.
  function answers(formId, path) {
    onSubmit(formId, "POST", path, function (data) {
      var keep = challenge.keep;
      challenge = null;
      loggedIn(data, keep);
    }, {
      extra: function () {
        return challenge ? { username: challenge.username, session: challenge.session,
                             keepSignedIn: challenge.keep } : {};
      },
      handle: expired
    });
  }
  answers("recovery-form", "api/auth/login/recovery");
  submitWhenComplete(code);
  answers("code-form", "api/auth/login/code");
  return function (data, keep) {
    challenge = { username: data.username, session: data.session, keep: keep };
    document.getElementById("password").value = "";
    loginForm.hidden = true;
    codeForm.hidden = false;
    code.focus();
  };
}

// Logging in with an emailed code (chalicelib/email_sign_in.py): `Email me a sign-in code`
// sends one to the account the username field names; the code then signs in with it. The
// answer is the same whoever the username names. Absent where the stage cannot send codes.
function emailCodeLogin() {
  var ask = document.getElementById("email-code");
  if (!ask) { return; }
  var loginForm = document.getElementById("login-form");
  var codeForm = document.getElementById("email-code-form");
  var username = document.getElementById("username");
  var keep = document.getElementById("keep-signed-in");
  ask.addEventListener("click", function () {
    quiet(ask);
    clearProblems(loginForm);
    var who = requiredValue(loginForm, username);
    if (!who) { return; }
    ask.disabled = true;
    api("POST", "api/auth/email-code", { username: who }, { near: ask }).then(function (result) {
      ask.disabled = false;
      if (!result.ok) { return; }
      codeForm.reset();
      clearProblems(codeForm);
      codeForm.hidden = false;
      say(ask, result.data.message);
      document.getElementById("sign-in-code").focus();
    });
  });
  document.getElementById("use-password").addEventListener("click", function () {
    quiet(codeForm);
    codeForm.hidden = true;
    document.getElementById("password").focus();
  });
  submitWhenComplete(document.getElementById("sign-in-code"));
  onSubmit("email-code-form", "POST", "api/auth/login/email-code", function (data) {
    loggedIn(data, keep.checked);
  }, {
    extra: function () { return { username: username.value.trim(), keepSignedIn: keep.checked }; }
  });
}

pages.forgot = function () { forward("forgot-form", "api/auth/forgot", "reset?notice=code-sent&"); };

// The reset: the new password logs the person straight in (with two-step verification on,
// the login page asks for the app's code).
pages.reset = function () {
  var username = document.getElementById("username");
  wireResend(username, "api/auth/forgot");
  onSubmit("reset-form", "POST", "api/auth/reset", function (data, values) {
    var login = { username: values.username, password: values.password, keepSignedIn: false };
    api("POST", "api/auth/login", login, { handle: function () { return true; } })
      .then(function (result) {
        if (!result.ok || result.data.challenge) {
          return go("login?notice=reset&username=" + q(values.username));
        }
        loggedIn(result.data, false);
      });
  });
};
