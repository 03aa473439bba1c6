// Password fields: each gets a `Show password` toggle beside it (aria-pressed); a password
// being chosen ticks off the user pool's rules as it is typed (fields.html lists them from
// chalicelib/cognito.py's PASSWORD_RULES, which Cognito checks again).

function passwordFields(root) {
  root.querySelectorAll("input[type=password]").forEach(function (input) {
    if (input.closest(".password-field")) { return; }
    var box = document.createElement("div");
    box.className = "password-field";
    input.parentNode.insertBefore(box, input);
    box.appendChild(input);
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "secondary small";
    toggle.append("Show");  // its name "Show password", its visible words short (a phone)
    var what = document.createElement("span");
    what.className = "visually-hidden";
    what.textContent = " password";
    toggle.appendChild(what);
    toggle.setAttribute("aria-pressed", "false");
    toggle.setAttribute("aria-controls", input.id);
    toggle.addEventListener("click", function () { reveal(input, toggle, input.type === "password"); });
    box.appendChild(toggle);
    if (input.form) {  // a form emptied after its success hides what it held
      input.form.addEventListener("reset", function () { reveal(input, toggle, false); });
    }
    if (input.dataset.rules) {
      input.addEventListener("input", function () { unmetRules(input); });
      if (input.form) { input.form.addEventListener("reset", function () { setTimeout(function () { unmetRules(input); }); }); }
    }
  });
}

function reveal(input, toggle, yes) {
  input.type = yes ? "text" : "password";
  toggle.setAttribute("aria-pressed", String(yes));
}

// The rules `input`'s value does not meet yet ("an upper-case letter", ...); its list of
// rules says of each whether it is met.
function unmetRules(input) {
  var unmet = [];
  document.getElementById(input.dataset.rules).querySelectorAll("li").forEach(function (rule) {
    var met = new RegExp(rule.dataset.pattern).test(input.value);
    rule.dataset.met = String(met);
    rule.querySelector(".visually-hidden").textContent = met ? " (done)" : " (not yet)";
    if (!met) { unmet.push(rule.firstChild.textContent.trim().toLowerCase()); }
  });
  return unmet;
}
