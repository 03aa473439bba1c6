pages.hello = function () {
  var box = document.getElementById("greeting");
  var tries = 0;
  function tokenName() {  // the name in the ID token (what the account page last saved)
    try {
      var part = session().idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var bytes = atob(part + "===".slice((part.length + 3) % 4));
      return JSON.parse(decodeURIComponent(escape(bytes))).name;
    } catch (e) { return undefined; }
  }
  function show(html) { box.innerHTML = html; }
  function failed() {
    box.innerHTML = "";
    return false;  // the message goes to the alert
  }
  function load() {
    api("GET", "api/greeting/card", undefined, { auth: true, html: true, handle: failed })
      .then(function (result) {
        if (!result.ok) { return; }
        if (result.status !== 202) {
          show(result.data);
          // A new name is in the refreshed ID token before Parameter Store has it: keep
          // asking (same backoff, bounded) until the API answers with that name.
          var shown = box.querySelector("[data-name]");
          var wanted = tokenName();
          if (!shown || !wanted || shown.dataset.name === wanted || tries >= 34) { return; }
          tries += 1;
          return setTimeout(load, Math.min(1000, 100 * Math.pow(1.5, tries - 1)));
        }
        // 202: show the answer's own "getting ready" fragment, and ask again
        if (tries >= 34) {  // still not ready after ~30 s: say so, never spin forever
          box.innerHTML = "";
          return showError("Your greeting is taking longer than usual. Please reload the page in a minute.");
        }
        tries += 1;
        show(result.data);
        setTimeout(load, Math.min(1000, 100 * Math.pow(1.5, tries - 1)));  // 0.1 s, x1.5, at most 1 s
      });
  }
  wireLogout();
  signedIn().then(load);
};
