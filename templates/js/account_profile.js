// The account's Profile page (account.html): who you are, your name (its journey one click
// away, on the data page's Behind the scenes), your email address and its code.

pages.account = function () {
  var withTokens = { auth: true, accessToken: true };
  function text(id, value) { document.getElementById(id).textContent = value; }

  function load() {
    return api("GET", "api/account", undefined, { auth: true }).then(function (result) {
      document.getElementById("who").setAttribute("aria-busy", "false");
      if (!result.ok) { return; }
      var me = result.data;
      text("who-name", me.name);
      text("who-email", me.email);
      text("who-username", me.username);
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

  var nameForm = document.getElementById("name-form");
  onSubmit("name-form", "POST", "api/account/name", function (data) {
    var news = document.createDocumentFragment();
    var journey = document.createElement("a");
    journey.href = "account/data?change=" + q(data.eventId) + "#behind-the-scenes";
    journey.textContent = "Follow its journey";
    news.append("Your name is saved: the greeting says “Hello, " + data.name +
                "” in a few seconds. ", journey);
    say(nameForm, news);
    reload();
  }, withTokens);

  var verifyForm = document.getElementById("verify-form");
  onSubmit("email-form", "POST", "api/account/email", function (data) {
    text("verify-hint", "We sent a 6-digit code to " + data.pendingEmail +
         ". Until you enter it, your account keeps " + data.email + ".");
    verifyForm.hidden = false;
    say(verifyForm, "Check " + data.pendingEmail + " for the verification code.");
    document.getElementById("email-code").focus();
  }, withTokens);
  onSubmit("verify-form", "POST", "api/account/email/verify", function (data, values, form) {
    form.reset();
    verifyForm.hidden = true;
    document.getElementById("email").value = "";
    say(verifyForm, "Your email address is now " + data.email + ".");
    reload();
  }, withTokens);

  // The forms work at once; their first load waits for the sign-in check (a form clicked
  // before its handler would submit itself natively and reload the page).
  signedIn().then(load);
};
