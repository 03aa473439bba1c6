var alertBox = document.getElementById("alert");

function showError(message) {
  alertBox.textContent = message;
  alertBox.hidden = false;
  alertBox.scrollIntoView({ block: "nearest" });  // the page's one alert, also for the files below
}
function clearError() {
  alertBox.hidden = true;
  alertBox.textContent = "";
  var status = document.getElementById("status");  // an older "we sent a code" is stale now
  if (status) { status.hidden = true; }
}

function fields(form) {
  var values = {};
  new FormData(form).forEach(function (value, key) { values[key] = value; });
  return values;
}

// Wire a form to an API call: success to onDone(data, values, form), errors to the alert
// (or to options.handle first). options.extra(): more fields to send with the form's.
function onSubmit(id, method, path, onDone, options) {
  var form = document.getElementById(id);
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearError();
    var values = Object.assign(fields(form), options && options.extra ? options.extra() : {});
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    var handle = options && options.handle;
    api(method, path, values, Object.assign({}, options, {
      handle: handle && function (result) { return handle(result, values); }
    })).then(function (result) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (result.ok) { onDone(result.data, values, form); }
    });
  });
}

// Wire a button to an API call, as onSubmit does a form: disabled while the call runs,
// success to onDone(data), errors to the alert.
function onClick(button, method, path, onDone, options) {
  button.addEventListener("click", function () {
    clearError();
    button.disabled = true;
    api(method, path, {}, options).then(function (result) {
      button.disabled = false;
      if (result.ok) { onDone(result.data); }
    });
  });
}

// A form whose success leads on to the `next` page, the username carried along.
function forward(id, path, next) {
  onSubmit(id, "POST", path, function (data, values) {
    go(next + "username=" + q(values.username));
  });
}
