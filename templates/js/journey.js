// The journey of a change, behind the scenes on the data page (account_data.html), one click
// away after Save name on the Profile page (its link carries the change's event id).
// The "user updated" event of a name change, stage by stage, from what each stage of the
// pipeline records (GET api/account/changes/<event id>); polled with backoff until the
// last stage or the time limit. Until save_profile has recorded it the route says 404; a
// 503 (a service that did not answer) is ridden out like a stage still waiting. A stage
// whose message is in a dead-letter queue is "failed", and the ones after it "blocked".
var JOURNEY_STAGES = [["published", "Published to SNS", ""],
  ["saved", "Saved to DynamoDB", "save_profile"], ["archived", "Archived to S3", "archive_profile"],
  ["parameter", "Name in Parameter Store", "sync_name"], ["greeting", "Greeting", ""]];
var JOURNEY_LIMIT_MS = 60000;
var STATE_TEXT = { done: "done", waiting: "waiting", superseded: "superseded by a newer change",
  failed: "failed", blocked: "not reached: an earlier stage failed" };
var journeyRun = 0;

function followChange(change) {
  var run = ++journeyRun;  // a newer change replaces the journey shown
  var started = Date.now();
  var wait = 500;
  document.getElementById("journey").hidden = false;
  var end = document.getElementById("journey-end");
  end.hidden = true;
  renderJourney([{ id: "published", state: "done", at: change.publishedAt || "" }]);

  function poll() {
    if (run !== journeyRun) { return; }
    var notYet = function (result) { return result.status === 404 || result.status === 503; };
    api("GET", "api/account/changes/" + q(change.eventId), undefined,
        { auth: true, handle: notYet, near: end }).then(function (result) {
      if (run !== journeyRun) { return; }
      if (result.ok) { renderJourney(result.data.stages); }
      if (result.ok && result.data.complete) {
        var failed = document.querySelector("#journey-stages [data-state=failed]");
        end.textContent = failed ? "Stopped at " + failed.dataset.function + ": it gave up, " +
          "and its message waits in a dead-letter queue (an alarm is raised). Your change " +
          "goes on from there once the message is delivered again." : "Every stage is done.";
        end.hidden = false;
        return;
      }
      if (!result.ok && !notYet(result)) { return; }  // said in the alert
      if (Date.now() - started > JOURNEY_LIMIT_MS) {
        var waiting = document.querySelector("#journey-stages [data-state=waiting]");
        end.textContent = "Still waiting after " + JOURNEY_LIMIT_MS / 1000 + " s" +
          (waiting && waiting.dataset.function ? " at " + waiting.dataset.function +
           ": its message may be in the dead-letter queue (an alarm is raised)." : ".");
        end.hidden = false;
        return;
      }
      setTimeout(poll, wait);
      wait = Math.min(wait * 2, 5000);
    });
  }
  poll();
}

function renderJourney(stages) {
  var known = {};
  stages.forEach(function (stage) { known[stage.id] = stage; });
  var list = document.getElementById("journey-stages");
  list.textContent = "";
  JOURNEY_STAGES.forEach(function (spec) {
    var stage = known[spec[0]] || { state: "waiting", at: "", detail: "" };
    var item = document.createElement("li");
    item.dataset.stage = spec[0];
    item.dataset.state = stage.state;
    item.dataset.function = spec[2];
    var title = document.createElement("strong");
    title.textContent = spec[1] + (spec[2] ? " (" + spec[2] + ")" : "");
    var state = document.createElement("span");
    state.className = "journey-state";
    state.textContent = STATE_TEXT[stage.state] || stage.state;
    item.appendChild(title);
    item.appendChild(document.createTextNode(": "));
    item.appendChild(state);
    if (stage.at) {
      var when = document.createElement("time");
      when.setAttribute("datetime", stage.at);
      var date = new Date(stage.at);
      when.textContent = " at " + (isNaN(date.getTime()) ? stage.at : date.toLocaleTimeString());
      item.appendChild(when);
    }
    if (stage.detail) {
      var detail = document.createElement("span");
      detail.className = "hint";
      detail.textContent = " " + stage.detail;
      item.appendChild(detail);
    }
    list.appendChild(item);
  });
}
