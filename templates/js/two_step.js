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
