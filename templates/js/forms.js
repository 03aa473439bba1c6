// Forms and the feedback of the section that asked. Every section has its own news
// (role="status") and errors (role="alert"), fields.html's feedback(): nothing scrolls the
// page, and after an error the focus is on the first field at fault, marked aria-invalid and
// described by its message. Fields are checked in the page first, every problem at once.

// The status and alert of the section holding `element` (the page's alert when it has none).
function regions(element) {
  var scope = element && element.closest("section, details");
  var box = scope && scope.querySelector(".feedback");
  return box ? { status: box.querySelector("[role=status]"), alert: box.querySelector("[role=alert]") }
             : { status: null, alert: document.getElementById("alert") };
}

// A live region shown, and given its content a moment later: a screen reader announces a
// change to a region it already knows of.
function put(region, content) {
  if (!region) { return; }
  clearTimeout(region.pending);
  region.textContent = "";
  region.hidden = !content;
  if (!content) { return; }
  region.pending = setTimeout(function () {
    if (typeof content === "string") { region.textContent = content; } else { region.appendChild(content); }
  }, 50);
}

// News in the section of `element` (text, or a node such as a link): its alert is emptied.
function say(element, content) {
  var found = regions(element);
  put(found.alert, "");
  put(found.status, content);
}

// Problems ([{message, field}]) in the section of `element`: one message, or a list of them.
function fail(element, problems) {
  var found = regions(element);
  put(found.status, "");
  if (problems.length === 1) { return put(found.alert, problems[0].message); }
  var list = document.createElement("ul");
  problems.forEach(function (problem) {
    var item = document.createElement("li");
    item.textContent = problem.message;
    list.appendChild(item);
  });
  put(found.alert, list);
}

function quiet(element) {
  var found = regions(element);
  put(found.status, "");
  put(found.alert, "");
}

function labelOf(input) {
  return input.labels && input.labels.length ? input.labels[0].textContent.trim() : input.name;
}

function shown(input) {
  return !input.disabled && input.type !== "hidden" && input.type !== "checkbox" &&
    !input.closest("[hidden]");
}

// What the page finds wrong before sending: required fields, a field's pattern (the
// server's, fields.html), a new password's rules (passwords.js). Every problem at once.
function problemsOf(form) {
  var found = [];
  form.querySelectorAll("input").forEach(function (input) {
    if (!shown(input)) { return; }
    var empty = input.type === "file" ? !input.files.length : !input.value.trim();
    var message = "";
    if (input.required && empty) {
      message = input.type === "file" ? "Choose a file to upload." : labelOf(input) + " is required.";
    } else if (!empty && input.validity.patternMismatch) {
      message = input.dataset.invalid || labelOf(input) + " is not valid.";
    } else if (!empty && input.dataset.rules) {
      var unmet = unmetRules(input);
      if (unmet.length) { message = labelOf(input) + " needs " + unmet.join(", ") + "."; }
    }
    if (message) { found.push({ field: input, message: message }); }
  });
  return found;
}

// The typed value of `input`, for a button that sends it outside its form's own submit (a
// code to resend, a sign-in code, a passkey); "" after saying, on `form`, that it is required.
function requiredValue(form, input) {
  var value = input.value.trim();
  if (!value) {
    showProblems(form, [{ field: input, message: labelOf(input) + " is required." }]);
  }
  return value;
}

// The field an API error is about: one that names its code (data-errors), or whose label
// the message starts with ("Name is required.").
function fieldFor(form, data) {
  var inputs = Array.prototype.filter.call(form.querySelectorAll("input"), shown);
  return inputs.filter(function (input) {
    return (input.dataset.errors || "").split(" ").indexOf(data.error) >= 0;
  })[0] || inputs.filter(function (input) {
    return (data.message || "").indexOf(labelOf(input) + " ") === 0;
  })[0] || null;
}

// Each field at fault marked and described by its own message; the first one focused.
function showProblems(form, problems) {
  fail(form, problems);
  problems.forEach(function (problem) {
    var input = problem.field;
    if (!input) { return; }
    var note = document.createElement("p");
    note.className = "field-error";
    note.id = input.id + "-error";
    note.textContent = problem.message;
    var after = input.closest(".password-field") || input;
    after.parentNode.insertBefore(note, after.nextSibling);
    if (!input.hasAttribute("data-described")) {
      input.setAttribute("data-described", input.getAttribute("aria-describedby") || "");
    }
    input.setAttribute("aria-describedby", (note.id + " " + input.dataset.described).trim());
    input.setAttribute("aria-invalid", "true");
  });
  var first = problems.filter(function (p) { return p.field; })[0];
  if (first) { first.field.focus({ preventScroll: true }); }
}

function clearProblems(form) {
  form.querySelectorAll(".field-error").forEach(function (note) { note.remove(); });
  form.querySelectorAll("[aria-invalid]").forEach(function (input) {
    input.removeAttribute("aria-invalid");
    var described = input.dataset.described;
    if (described) { input.setAttribute("aria-describedby", described); } else {
      input.removeAttribute("aria-describedby");
    }
  });
}

function fields(form) {
  var values = {};
  new FormData(form).forEach(function (value, key) { values[key] = value; });
  return values;
}

function busy(element, yes) {
  element.querySelectorAll("button").forEach(function (b) { b.disabled = yes; });
}

// Wire a form to an API call: checked here first; sent with its buttons disabled; success to
// onDone(data, values, form), an error said in the form's section on the field it is about
// (options.handle(result, values) first: true when it handled the error).
// options.extra(): more fields to send with the form's; the rest go to api().
function onSubmit(id, method, path, onDone, options) {
  var form = document.getElementById(id);
  if (!form) { return; }
  options = options || {};
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    quiet(form);
    clearProblems(form);
    var problems = problemsOf(form);
    if (problems.length) { return showProblems(form, problems); }
    var values = Object.assign(fields(form), options.extra ? options.extra() : {});
    busy(form, true);
    api(method, path, values, Object.assign({}, options, {
      handle: function (result) {
        if (!(options.handle && options.handle(result, values))) {
          showProblems(form, [{ message: result.data.message, field: fieldFor(form, result.data) }]);
        }
        return true;
      }
    })).then(function (result) {
      busy(form, false);
      if (result.ok) { onDone(result.data, values, form); }
    });
  });
}

// Wire a button to an API call, as onSubmit does a form (first = options.first(): a promise
// of whether to go on, e.g. a confirmation). Errors are said in the button's section.
function onClick(button, method, path, onDone, options) {
  options = options || {};
  button.addEventListener("click", function () {
    (options.first ? options.first() : Promise.resolve(true)).then(function (go) {
      if (!go) { return; }
      quiet(button);
      button.disabled = true;
      api(method, path, {}, Object.assign({ near: button }, options)).then(function (result) {
        button.disabled = false;
        if (result.ok) { onDone(result.data); }
      });
    });
  });
}

// A form whose success leads on to the `next` page, the username carried along.
function forward(id, path, next) {
  onSubmit(id, "POST", path, function (data, values) {
    go(next + "username=" + q(values.username));
  });
}

// The first empty field of `root` (or its first field) has the focus, the page unmoved.
function focusFirstField(root) {
  var inputs = Array.prototype.filter.call(root.querySelectorAll("input"), shown);
  var field = inputs.filter(function (input) { return !input.value; })[0] || inputs[0];
  if (field) { field.focus({ preventScroll: true }); }
}
