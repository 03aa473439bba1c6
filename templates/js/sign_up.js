// Signing up (signup.html) and verifying the email (confirm_step.html: the sign-up page's
// second step, and the verify page of its own).

// The verify step: the code to api/auth/confirm (a complete code sends itself), then
// onVerified(values); Resend code asks for a new one. Returns the resend wait's start.
function verifyStep(onVerified) {
  var code = document.getElementById("code");
  submitWhenComplete(code);
  onSubmit("confirm-form", "POST", "api/auth/confirm", function (data, values) {
    onVerified(values);
  });
  return wireResend(document.getElementById("username"), "api/auth/resend");
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
    if (data.codeSentTo) {  // masked by Cognito: a***@e***.com
      document.getElementById("code-sent").textContent = "We emailed a 6-digit code to " +
        data.codeSentTo + ". Enter it here.";
      document.getElementById("change-address").hidden = false;
    }
    document.getElementById("code").focus();
    var resendWait = verifyStep(function (verified) {
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
    resendWait();  // a code was just sent
  });
};

pages.confirm = function () {
  verifyStep(function (verified) {
    go("login?notice=verified&username=" + q(verified.username));
  });
};
