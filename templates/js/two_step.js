// Two-step verification on the Security page (account_two_step.html, chalicelib/two_step.py):
// its state; set up with the password (QR code and key), then on with a code (10 recovery
// codes shown once); off with one. Returns its first load.
function twoStepSection() {
  var state = document.getElementById("two-step-state");
  var start = document.getElementById("two-step-start-form");
  var onForm = document.getElementById("two-step-on-form");
  var offForm = document.getElementById("two-step-off-form");
  var withTokens = { auth: true, accessToken: true };
  state.tabIndex = -1;  // the focus lands on the new state once a form is done
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
  var codes = recoveryCodes(withTokens);
  onSubmit("two-step-on-form", "POST", "api/account/two-step/on", function (data, values, form) {
    form.reset();
    show(true);
    codes.fresh(data.recoveryCodes,
                "Two-step verification is on. Next time you log in, have your phone at hand.");
  }, withTokens);
  onSubmit("two-step-off-form", "POST", "api/account/two-step/off", function (data, values, form) {
    form.reset();
    show(false);
    codes.left(null);
    state.focus();
    say(state, "Two-step verification is off.");
  }, withTokens);
  return function load() {
    api("POST", "api/account/two-step", {}, Object.assign({ near: state }, withTokens))
      .then(function (result) {
        if (!result.ok) { return; }
        show(result.data.enabled);
        codes.left(result.data.enabled ? result.data.recoveryCodesLeft : null);
        if (result.data.turnedOffByRecoveryCode) {
          say(state, "You logged in with a recovery code, so two-step verification is off. " +
              "Set it up again below: you get new recovery codes with it.");
        }
        if (location.hash === "#two-step" && !result.data.enabled) {  // the greeting's next step
          document.getElementById("two-step-password").focus();
        }
      });
  };
}

// The recovery codes (chalicelib/recovery_codes.py): a new set shown once, to download, copy
// and confirm saved; how many are left, and new ones for a code from the app.
function recoveryCodes(withTokens) {
  var fresh = document.getElementById("recovery-codes-new");
  var list = document.getElementById("recovery-codes-list");
  var heading = document.getElementById("recovery-codes-heading");
  var kept = document.getElementById("recovery-codes");
  var count = document.getElementById("recovery-codes-left");
  var shownCodes = [];
  function text() {
    return "Comm-IT recovery codes (each logs you in once instead of a code from your app)\n\n" +
      shownCodes.join("\n") + "\n";
  }
  function left(number) {
    kept.hidden = number === null || !fresh.hidden;
    if (number !== null) {
      count.textContent = number === 1 ? "1 recovery code left." : number + " recovery codes left.";
    }
  }
  document.getElementById("recovery-codes-download").addEventListener("click", function () {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text()], { type: "text/plain" }));
    link.download = "comm-it-recovery-codes.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    say(fresh, "Downloaded comm-it-recovery-codes.txt.");
  });
  document.getElementById("recovery-codes-copy").addEventListener("click", function () {
    var copying = navigator.clipboard ? navigator.clipboard.writeText(text()) : Promise.reject();
    copying.then(function () { say(fresh, "The codes are copied."); }, function () {
      fail(fresh, [{ message: "This browser did not let the page copy. Download the codes instead." }]);
    });
  });
  document.getElementById("recovery-codes-saved").addEventListener("click", function () {
    var number = shownCodes.length;
    shownCodes = [];
    list.textContent = "";
    fresh.hidden = true;
    left(number);
    count.tabIndex = -1;
    count.focus();
  });
  onSubmit("recovery-codes-form", "POST", "api/account/two-step/recovery-codes", function (data, values, form) {
    form.reset();
    show(data.recoveryCodes, "New recovery codes: the old ones no longer work. Save these.");
  }, withTokens);
  function show(codes, news) {
    shownCodes = codes;
    list.textContent = "";
    codes.forEach(function (code) {
      var item = document.createElement("li");
      var shown = document.createElement("code");
      shown.textContent = code;
      item.appendChild(shown);
      list.appendChild(item);
    });
    kept.hidden = true;
    fresh.hidden = false;
    heading.focus();
    say(fresh, news);
  }
  return { fresh: show, left: left };
}
