// Camera scanning of device labels: the browser's BarcodeDetector where it exists,
// the vendored jsQR decoder otherwise. The page works without it (type the tag).
(function () {
  "use strict";
  var root = document.getElementById("camera-scan");
  if (!root) return;
  var start = document.getElementById("camera-start");
  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var status = document.getElementById("camera-status");
  var scanUrl = root.getAttribute("data-scan-url");
  var detector = null;
  var done = false;

  function say(text) { status.textContent = text; }

  function found(value) {
    if (done || !value) return;
    done = true;
    say("Found " + value + ". Opening…");
    var stream = video.srcObject;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    window.location.href = scanUrl + "?q=" + encodeURIComponent(value);
  }

  function decodeWithJsQR() {
    if (typeof window.jsQR !== "function" || !video.videoWidth) return null;
    var w = video.videoWidth, h = video.videoHeight;
    var scale = Math.min(1, 640 / Math.max(w, h));
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
    var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    return code ? code.data : null;
  }

  function tick() {
    if (done) return;
    if (video.readyState < 2) { window.requestAnimationFrame(tick); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) found(codes[0].rawValue);
        else window.setTimeout(tick, 150);
      }).catch(function () { detector = null; window.setTimeout(tick, 150); });
    } else {
      found(decodeWithJsQR());
      if (!done) window.setTimeout(tick, 200);
    }
  }

  function chooseDecoder() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }).catch(function () { return null; });
  }

  start.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("This browser cannot use the camera here. Type the tag below instead.");
      return;
    }
    say("Starting the camera…");
    chooseDecoder().then(function (d) {
      detector = d;
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      start.hidden = true;
      return video.play();
    }).then(function () {
      say("Looking for a QR code…");
      tick();
    }).catch(function () {
      say("The camera could not be started. Allow camera access, or type the tag below.");
    });
  });
})();
