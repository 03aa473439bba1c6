// The account's Security page (account_security.html): the password, two-step verification
// and its recovery codes (two_step.js), passkeys (passkeys.js), where you're signed in and
// recent activity (my_security.js), logging out everywhere (asked first) and deleting the account (its password).

pages["account-security"] = function () {
  var withTokens = { auth: true, accessToken: true };

  var passwordForm = document.getElementById("password-form");
  onSubmit("password-form", "POST", "api/account/password", function (data, values, form) {
    saveSession(data);  // this session goes on with new tokens; every other one ended
    form.reset();
    say(passwordForm, "Your password is changed. You stay logged in here; on every other " +
        "device, log in again with the new password.");
  }, Object.assign({ extra: function () {
    return { keepSignedIn: localStorage.getItem(KEEP) === "true" };
  } }, withTokens));

  onClick(document.getElementById("logout-everywhere"), "POST", "api/account/logout-everywhere",
          function () {
            dropSession();
            go("login?notice=signed-out-everywhere");
          }, Object.assign({ first: function () {
            return askFirst("Log out everywhere?", "Every device logged in to your account " +
                            "must log in again, this one too.", "Log out everywhere");
          } }, withTokens));

  var begin = document.getElementById("delete-start");
  var deleteForm = document.getElementById("delete-form");
  function showDelete(open) {
    deleteForm.hidden = !open;
    begin.hidden = open;
    begin.setAttribute("aria-expanded", String(open));
    if (open) { document.getElementById("delete-password").focus(); } else { begin.focus(); }
  }
  begin.addEventListener("click", function () { quiet(begin); showDelete(true); });
  document.getElementById("delete-cancel").addEventListener("click", function () {
    deleteForm.reset();
    quiet(deleteForm);
    clearProblems(deleteForm);
    showDelete(false);
  });
  onSubmit("delete-form", "DELETE", "api/account", function () {
    dropSession();
    go("login?notice=account-deleted");
  }, withTokens);

  // The forms work at once; the sections' first load waits for the sign-in check.
  var loadTwoStep = twoStepSection();
  var loadSecurity = securitySection();
  var loadPasskeys = passkeysSection();
  signedIn().then(function () { loadTwoStep(); loadSecurity(); loadPasskeys(); });
};
