// The greeting (hello.html): "Hello, <name>" from GET api/greeting/card, asked again while the
// pipeline gets it ready (202), then a next step for the person.

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
  function show(html) { box.innerHTML = html; }  // the API's own escaped fragment
  function failed() {
    box.innerHTML = "";
    return false;  // the message goes to the page's alert
  }
  function load() {
    api("GET", "api/greeting/card", undefined, { auth: true, html: true, handle: failed })
      .then(function (result) {
        if (!result.ok) { return; }
        if (result.status !== 202) {
          show(result.data);
          nextStep();
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
          return fail(null, [{ message: "Your greeting is taking longer than usual. " +
                                        "Please reload the page in a minute." }]);
        }
        tries += 1;
        show(result.data);
        setTimeout(load, Math.min(1000, 100 * Math.pow(1.5, tries - 1)));  // 0.1 s, x1.5, at most 1 s
      });
  }

  // Once greeted: two-step verification while it is off, else the person's data.
  var next = document.getElementById("next-step");
  var asked = false;
  function nextStep() {
    if (asked) { return; }
    asked = true;
    var options = { auth: true, accessToken: true, handle: function () { return true; } };
    api("POST", "api/account/two-step", {}, options).then(function (result) {
      if (!result.ok) { return; }
      var link = document.createElement("a");
      link.className = "button";
      next.textContent = "";
      if (result.data.enabled) {
        link.href = "account/data";
        link.textContent = "See every place your data lives";
        next.append("Next: ", link);
      } else {
        link.href = "account/security#two-step";
        link.textContent = "Set up two-step verification";
        next.append("Next, keep your account safe: ", link);
      }
      next.hidden = false;
    });
  }

  signedIn().then(load);
};
