// Passkeys (chalicelib/passkeys.py) through the browser's WebAuthn, in its JSON forms
// (PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON, toJSON):
// the Security page's `Passkeys` section and the log-in page's `Sign in with a passkey`.

var NO_PASSKEYS = "This browser cannot use passkeys. Use a recent Chrome, Edge, Safari or " +
  "Firefox, or log in with your password.";

function passkeysWork() {
  return !!(window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON &&
            PublicKeyCredential.parseRequestOptionsFromJSON);
}

// What a refusal of the browser means for the person.
function browserSaid(error) {
  var name = error && error.name;
  if (name === "NotAllowedError") {
    return "No passkey was used: the browser's request was cancelled or timed out. Try again.";
  }
  if (name === "InvalidStateError") { return "This device already holds a passkey for your account."; }
  return "The browser could not use a passkey (" + (name || "unknown error") + ").";
}

// The browser's answer as the API takes it, or null (said next to `near`).
function askBrowser(kind, options, near) {
  var publicKey = kind === "create" ? PublicKeyCredential.parseCreationOptionsFromJSON(options) :
    PublicKeyCredential.parseRequestOptionsFromJSON(options);
  return navigator.credentials[kind]({ publicKey: publicKey }).then(function (credential) {
    return JSON.stringify(credential.toJSON());
  }, function (error) {
    fail(near, [{ message: browserSaid(error) }]);
    return null;
  });
}

// The log-in page's `Sign in with a passkey`, for the username typed: done(tokens, keep).
function passkeyLogin(done) {
  var button = document.getElementById("passkey-sign-in");
  if (!button) { return; }
  var loginForm = document.getElementById("login-form");
  var username = document.getElementById("username");
  button.addEventListener("click", function () {
    quiet(button);
    clearProblems(loginForm);
    var who = requiredValue(loginForm, username);
    if (!who) { return; }
    if (!passkeysWork()) { return fail(button, [{ message: NO_PASSKEYS }]); }
    var keep = document.getElementById("keep-signed-in").checked;
    button.disabled = true;
    api("POST", "api/auth/passkey", { username: who }, { near: button }).then(function (result) {
      return result.ok ? askBrowser("get", result.data.options, button) : null;
    }).then(function (credential) {
      return credential && api("POST", "api/auth/login/passkey",
                               { username: who, credential: credential, keepSignedIn: keep },
                               { near: button });
    }).then(function (result) {
      button.disabled = false;
      if (result && result.ok) { done(result.data, keep); }
    });
  });
}

// The Security page's `Passkeys`: each with its name, `Added`, `Last used` and `Remove`;
// `Add a passkey`. Returns its first load.
function passkeysSection() {
  var list = document.getElementById("passkeys-list");
  if (!list) { return function () {}; }
  var withTokens = { auth: true, accessToken: true };
  var add = document.getElementById("passkey-add");
  function day(iso) { return new Date(iso).toLocaleDateString(); }
  function removeButton(passkey) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Remove";
    button.setAttribute("aria-label", "Remove " + passkey.name + " added " + day(passkey.added));
    button.addEventListener("click", function () {
      quiet(button);
      button.disabled = true;
      api("POST", "api/account/passkeys/remove", { credentialId: passkey.id },
          Object.assign({ near: button }, withTokens)).then(function (result) {
        button.disabled = false;
        if (!result.ok) { return; }
        show(result.data);
        add.focus();
        say(add, passkey.name + " is removed: it no longer signs you in.");
      });
    });
    return button;
  }
  function show(data) {
    list.textContent = "";
    document.getElementById("passkeys-none").hidden = data.passkeys.length > 0;
    data.passkeys.forEach(function (passkey) {
      var item = document.createElement("li");
      var name = document.createElement("strong");
      name.textContent = passkey.name;
      item.appendChild(name);
      item.appendChild(document.createTextNode(" · Added " + day(passkey.added) + " · " +
        (passkey.lastUsed ? "Last used " + day(passkey.lastUsed) : "Not used yet") + " "));
      item.appendChild(removeButton(passkey));
      list.appendChild(item);
    });
  }
  add.addEventListener("click", function () {
    quiet(add);
    if (!passkeysWork()) { return fail(add, [{ message: NO_PASSKEYS }]); }
    add.disabled = true;
    api("POST", "api/account/passkeys/start", {}, Object.assign({ near: add }, withTokens))
      .then(function (result) {
        return result.ok ? askBrowser("create", result.data.options, add) : null;
      }).then(function (credential) {
        return credential && api("POST", "api/account/passkeys/add", { credential: credential },
                                 Object.assign({ near: add }, withTokens));
      }).then(function (result) {
        add.disabled = false;
        if (!result || !result.ok) { return; }
        show(result.data);
        say(add, "Your passkey is added: next time, log in with “Sign in with a passkey”.");
      });
  });
  return function () {
    api("POST", "api/account/passkeys", {}, Object.assign({ near: add }, withTokens))
      .then(function (result) { if (result.ok) { show(result.data); } });
  };
}
