// The account's data page (account_data.html): your files (files.js), every place your data
// lives and your access (my_data.js), and, behind the scenes, who you are to AWS, your role's
// policy in words and a change's journey (journey.js: account/data?change=<event id>).

pages["account-data"] = function () {
  var behind = document.getElementById("behind-the-scenes");

  function loadIdentity() {  // who you are to AWS: the identity pool's id, the credentials' end
    return api("GET", "api/account", undefined, { auth: true, near: behind }).then(function (result) {
      if (!result.ok) { return; }
      document.getElementById("who-identity").textContent = result.data.identityId;
      var expiry = document.getElementById("who-expiry");
      var when = new Date(result.data.credentialsExpire);
      expiry.setAttribute("datetime", result.data.credentialsExpire);
      expiry.textContent = isNaN(when.getTime()) ? result.data.credentialsExpire : when.toLocaleString();
    });
  }

  var myData = myDataSection();
  var policyAsked = false;
  behind.addEventListener("toggle", function () {  // the policy in words: from the access check
    if (behind.open && !policyAsked) {
      policyAsked = true;
      myData.checkAccess();
    }
  });

  // The forms and buttons work at once; the first loads wait for the sign-in check.
  var loads = [filesSection(), myData.load, loadIdentity];
  var change = new URLSearchParams(location.search).get("change");
  signedIn().then(function () {
    loads.forEach(function (load) { load(); });
    if (change) {  // Save name's "Follow its journey"
      behind.open = true;
      followChange({ eventId: change });
    }
  });
};
