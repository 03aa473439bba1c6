// Emailed and app codes: a complete code submits its form by itself, and `Resend
// code` waits a while between two emails, counting down where the person sees it.

var RESEND_WAIT_SECONDS = 30;

// Once `input` holds all its digits (its maxlength: 6, or a sign-in code's 8) its form is
// sent, once per code typed (Enter sends it again).
function submitWhenComplete(input) {
  var sent = "";
  var complete = new RegExp("^[0-9]{" + (input.maxLength > 0 ? input.maxLength : 6) + "}$");
  input.addEventListener("input", function () {
    var code = input.value.trim();
    var sending = input.form.querySelector("button[type=submit]:disabled");
    if (complete.test(code) && code !== sent && !sending) {
      sent = code;
      input.form.requestSubmit();
    }
  });
}

// `button` (Resend code) disabled for RESEND_WAIT_SECONDS, the seconds left said in `hint`.
function waitBeforeResend(button, hint) {
  var left = RESEND_WAIT_SECONDS;
  button.disabled = true;
  hint.hidden = false;
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      hint.hidden = true;
      hint.textContent = "";
      return;
    }
    hint.textContent = "You can ask for another code in " + left + " s.";
    left -= 1;
    setTimeout(tick, 1000);
  }
  tick();
}

// Wire `Resend code` (id resend): ask(username) sends a new code; then the section says so,
// and that the codes sent before no longer work, and the button waits.
function wireResend(usernameInput, path) {
  var button = document.getElementById("resend");
  var hint = document.getElementById("resend-wait");
  button.addEventListener("click", function () {
    quiet(button);
    clearProblems(button.closest("form"));
    var username = requiredValue(button.closest("form"), usernameInput);
    if (!username) { return; }
    button.disabled = true;
    api("POST", path, { username: username }, { near: button }).then(function (result) {
      button.disabled = false;
      if (!result.ok) { return; }
      say(button, "We sent a new code. Check your email: codes sent before it no longer work.");
      waitBeforeResend(button, hint);
    });
  });
  return function () { waitBeforeResend(button, hint); };
}
