/* The referral slip's buttons (templates/referral_slip.html): Print, Copy the text, and
 * Share it where the device can (navigator.share). Without JavaScript they stay hidden: the
 * browser's own Print and the text in its box (and the plain-text link) do the same.
 * Nothing is sent anywhere by this script; sharing hands the text to the device's own
 * share sheet.
 */
(function () {
  "use strict";

  function show(button, onClick) {
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", onClick);
  }

  function copyText(box, done) {
    var text = box.value;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { selectAndCopy(box, done); });
    } else {
      selectAndCopy(box, done);
    }
  }

  // Older browsers, or a page not allowed to write the clipboard: select the text and copy
  // it the old way (the text stays selected for a manual copy if even that fails).
  function selectAndCopy(box, done) {
    box.focus();
    box.select();
    try {
      if (document.execCommand("copy")) { done(); }
    } catch (error) { /* the text is selected: the person can copy it */ }
  }

  function start() {
    var box = document.getElementById("slip-text");
    var status = document.querySelector(".slip-copied");
    show(document.querySelector("[data-slip-print]"), function () { window.print(); });
    if (!box) { return; }
    var copy = document.querySelector("[data-slip-copy]");
    show(copy, function () {
      copyText(box, function () {
        if (status) { status.textContent = copy.getAttribute("data-copied"); }
      });
    });
    var share = document.querySelector("[data-slip-share]");
    if (share && typeof navigator.share === "function") {
      show(share, function () {
        navigator.share({ title: share.getAttribute("data-title"), text: box.value })
          .catch(function () { /* the person closed the share sheet */ });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
