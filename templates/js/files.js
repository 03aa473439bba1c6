// Your files on the data page (account_files.html): the archived profile document and your
// files, every link a presigned S3 URL signed with your own temporary credentials, which the
// browser follows straight to S3; upload, and delete (asked first: dialog.js). Returns the
// section's first load.
function filesSection() {
  var list = document.getElementById("files-list");
  var empty = document.getElementById("files-empty");
  var form = document.getElementById("files-form");
  var input = document.getElementById("files-file");
  var profileLink = document.getElementById("profile-document");
  var profilePending = document.getElementById("profile-pending");
  var limits = null;
  var renewTimer = null;
  var profileTries = 0;
  var guarded = { auth: true, near: list };  // a load's error: said in this section

  function size(bytes) {
    if (bytes < 1024) { return bytes + " B"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1) + " KiB"; }
    return (bytes / 1024 / 1024).toFixed(1) + " MiB";
  }

  function render(files) {
    list.textContent = "";
    files.forEach(function (file) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = file.url;  // presigned: S3 answers with the file as an attachment
      link.textContent = file.name;
      var bytes = document.createElement("span");
      bytes.className = "hint";
      bytes.textContent = size(file.size);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary small";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", "Delete " + file.name);
      remove.addEventListener("click", function () { deleteFile(file.name, remove); });
      item.appendChild(link);
      item.appendChild(bytes);
      item.appendChild(remove);
      list.appendChild(item);
    });
    list.hidden = files.length === 0;
    empty.hidden = files.length > 0;
  }

  // Download links die with their signature: renew them a little before.
  function renewIn(seconds) {
    clearTimeout(renewTimer);
    renewTimer = setTimeout(load, Math.max(15, seconds - 30) * 1000);
  }

  // Listings may cross (the first load, one after an upload): only the latest asked is shown,
  // so an older answer arriving late never hides a file just uploaded.
  var listings = 0;

  function loadFiles() {
    var asked = ++listings;
    return api("GET", "api/account/files", undefined, guarded).then(function (result) {
      if (!result.ok || asked !== listings) { return; }
      limits = result.data.limits;
      document.getElementById("files-limits").textContent =
        "Up to " + limits.maxFiles + " files, " + limits.maxFileSize + " each.";
      render(result.data.files);
      renewIn(result.data.expiresIn);
    });
  }

  function notArchivedYet(result) {  // archived a few seconds after login: look again
    if (result.status !== 404) { return false; }
    profilePending.textContent = result.data.message;
    profilePending.hidden = false;
    profileTries += 1;
    if (profileTries < 20) { setTimeout(loadProfile, 3000); }
    return true;
  }

  function loadProfile() {
    var options = { auth: true, handle: notArchivedYet };
    return api("GET", "api/account/profile-document", undefined, options).then(function (result) {
      profileLink.hidden = !result.ok;
      if (result.ok) {
        profileLink.href = result.data.url;
        profilePending.hidden = true;
        return;
      }
      profileLink.removeAttribute("href");
      if (result.status !== 404) { profilePending.hidden = true; }
    });
  }

  function load() { return Promise.all([loadFiles(), loadProfile()]); }

  // Delete: asked first, in a dialog titled with the file's name.
  function deleteFile(name, button) {
    askFirst("Delete “" + name + "”?", "It goes from your files, and this page cannot bring " +
             "it back.", "Delete file").then(function (yes) {
      if (!yes) { return; }
      quiet(list);
      button.disabled = true;
      api("DELETE", "api/account/files/" + q(name), undefined, { auth: true, near: list })
        .then(function (result) {
          button.disabled = false;
          if (!result.ok) { return; }
          say(list, "Deleted “" + name + "”.");
          form.querySelector("input").focus({ preventScroll: true });  // its button is gone
          return loadFiles();
        });
    });
  }

  function readBase64(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        var url = String(reader.result);  // data:<type>;base64,<content>
        resolve(url.slice(url.indexOf(",") + 1));
      };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(file);
    });
  }

  // Upload: the file read here and sent as base64 in JSON (checked here first: chosen, and
  // not over the size limit, which the server checks again).
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    quiet(form);
    clearProblems(form);
    var file = input.files && input.files[0];
    var problems = problemsOf(form);
    if (!problems.length && limits && file.size > limits.maxFileBytes) {
      problems = [{ field: input, message: "The file “" + file.name + "” is larger than " +
                    limits.maxFileSize + ", the most one file may be." }];
    }
    if (problems.length) { return showProblems(form, problems); }
    busy(form, true);
    readBase64(file).then(function (content) {
      return api("POST", "api/account/files", { name: file.name, content: content }, {
        auth: true,
        handle: function (result) {
          showProblems(form, [{ field: fieldFor(form, result.data), message: result.data.message }]);
          return true;
        }
      });
    }, function () {
      showProblems(form, [{ field: input, message: "That file could not be read. Choose it again." }]);
      return { ok: false };
    }).then(function (result) {
      busy(form, false);
      if (!result.ok) { return; }
      form.reset();
      say(form, "Uploaded “" + file.name + "”.");
      return loadFiles();
    });
  });

  return load;
}
