// The loan agreement signed on screen: the resident draws their signature with a finger or
// the mouse (the vendored signature_pad); it is posted as a PNG with the lend form and the
// server checks it. Shown only while "Signed on screen" is chosen; someone who cannot sign
// this way (or a keyboard user) chooses "Signed on paper" instead.
(function () {
  "use strict";
  var block = document.getElementById("signature-block");
  if (!block || typeof window.SignaturePad === "undefined") return;
  var canvas = document.getElementById("signature-pad");
  var data = document.getElementById("signature-data");
  var form = block.closest("form");
  var radios = form.querySelectorAll("input[name=agreement_method]");
  block.querySelector(".signature-pad-wrap").hidden = false;
  document.getElementById("signature-no-js").hidden = true;

  var pad = new window.SignaturePad(canvas, { penColor: "#0b0c0c", minWidth: 1, maxWidth: 3 });
  var sized = false;

  function size() {
    // Draw at the screen's pixel density so the signature prints sharp.
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    sized = true;
    if (data.value) {
      // The form came back (another field needed fixing): the signature is kept.
      pad.fromDataURL(data.value, {
        ratio: ratio,
        width: canvas.offsetWidth,
        height: canvas.offsetHeight,
      });
    }
  }

  function onScreen() {
    var chosen = form.querySelector("input[name=agreement_method]:checked");
    return !!chosen && chosen.value === "screen";
  }

  function sync() {
    block.hidden = !onScreen();
    if (!block.hidden && !sized) size();
  }

  radios.forEach(function (r) { r.addEventListener("change", sync); });
  pad.addEventListener("endStroke", function () { data.value = pad.toDataURL("image/png"); });
  document.getElementById("signature-clear").addEventListener("click", function () {
    pad.clear();
    data.value = "";
  });
  form.addEventListener("submit", function () {
    if (!onScreen()) data.value = "";
    else data.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
  sync();
})();
