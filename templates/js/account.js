pages.account = function () {
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
};
