// Two-step verification on the Security page (account_two_step.html, chalicelib/two_step.py):
// its state; set up with the password (QR code and key), then on with a code; off with one.
// Returns its first load.
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
  onSubmit("two-step-on-form", "POST", "api/account/two-step/on", function (data, values, form) {
    form.reset();
    show(true);
    state.focus();
    say(state, "Two-step verification is on. Next time you log in, have your phone at hand.");
  }, withTokens);
  onSubmit("two-step-off-form", "POST", "api/account/two-step/off", function (data, values, form) {
    form.reset();
    show(false);
    state.focus();
    say(state, "Two-step verification is off.");
  }, withTokens);
  return function load() {
    api("POST", "api/account/two-step", {}, Object.assign({ near: state }, withTokens))
      .then(function (result) {
        if (!result.ok) { return; }
        show(result.data.enabled);
        if (location.hash === "#two-step" && !result.data.enabled) {  // the greeting's next step
          document.getElementById("two-step-password").focus();
        }
      });
  };
}
