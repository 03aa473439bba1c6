// The question asked before anything that cannot be undone (account_base.html's <dialog>):
// modal, titled with what it is about, its action named and Cancel; Escape is Cancel.

// A promise of true when the person chooses `action`, false for Cancel or Escape. The
// focus starts on Cancel and goes back to where it was.
function askFirst(title, text, action) {
  var dialog = document.getElementById("confirm");
  var yes = document.getElementById("confirm-yes");
  var no = document.getElementById("confirm-no");
  var opener = document.activeElement;
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  yes.textContent = action;
  return new Promise(function (resolve) {
    function answer(choice) {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("cancel", onCancel);
      dialog.close();
      if (opener && opener.isConnected) { opener.focus({ preventScroll: true }); }
      resolve(choice);
    }
    function onYes() { answer(true); }
    function onNo() { answer(false); }
    function onCancel(event) { event.preventDefault(); answer(false); }
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    no.focus();
  });
}
