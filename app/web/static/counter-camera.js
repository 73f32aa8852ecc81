// The counter's camera: frames from getUserMedia (the rear camera where there is one) decoded
// one after another, every DataMatrix and QR code in a frame handed to the counter as a scan.
// The browser's own BarcodeDetector when it reads both formats, else the vendored ponyfill on
// ZXing-C++ (WebAssembly, loaded from our /static, never a CDN). Its raw value keeps GS1's
// separators as GS characters (FNC1), which the server's reader takes as they are.
(() => {
  "use strict";
  const FORMATS = ["data_matrix", "qr_code"];
  // A pack held in front of the camera is seen in every frame: it is scanned once, and again
  // only after it has been out of sight this long.
  const COOLDOWN_MS = 5000;
  const VENDOR = "/static/vendor/barcode-detector";
  const button = document.getElementById("camera-toggle");
  const torch = document.getElementById("camera-torch");
  const video = document.getElementById("camera-video");
  const problem = document.getElementById("camera-problem");
  if (!button || !video) return;

  const stats = { frames: 0, codes: 0, submitted: 0, since: 0 };
  const lastSeen = new Map();
  let stream = null;
  let running = false;
  let torchOn = false;

  function loadPonyfill() {
    if (window.BarcodeDetectionAPI) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = `${VENDOR}/ponyfill.js`;
      script.onload = resolve;
      script.onerror = () => reject(new Error("the barcode reader did not load"));
      document.head.append(script);
    });
  }

  let detectorPromise = null;
  async function makeDetector() {
    if ("BarcodeDetector" in window) {
      try {
        const supported = await window.BarcodeDetector.getSupportedFormats();
        if (FORMATS.every((f) => supported.includes(f))) return new window.BarcodeDetector({ formats: FORMATS });
      } catch {
        // A native detector that cannot list its formats: the ponyfill instead.
      }
    }
    await loadPonyfill();
    const api = window.BarcodeDetectionAPI;
    api.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? `${VENDOR}/${path}` : prefix + path) },
    });
    return new api.BarcodeDetector({ formats: FORMATS });
  }
  const detector = () => (detectorPromise ??= makeDetector());

  function seen(raw, now) {
    const before = lastSeen.get(raw);
    lastSeen.set(raw, now);
    return before !== undefined && now - before < COOLDOWN_MS;
  }

  async function decodeLoop() {
    const reader = await detector();
    while (running) {
      if (video.readyState >= 2) {
        let found = [];
        try {
          found = await reader.detect(video);
        } catch {
          found = [];
        }
        stats.frames += 1;
        stats.codes += found.length;
        const now = performance.now();
        for (const code of found) {
          if (!code.rawValue || seen(code.rawValue, now)) continue;
          stats.submitted += 1;
          window.darutraceCounter.submitCode(code.rawValue, "camera");
        }
      }
      await new Promise((resolve) =>
        video.requestVideoFrameCallback ? video.requestVideoFrameCallback(() => resolve()) : requestAnimationFrame(() => resolve()),
      );
    }
  }

  function say(key) {
    return button.dataset[key] || "";
  }

  async function start() {
    problem.hidden = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      running = true;
      stats.frames = 0;
      stats.codes = 0;
      stats.since = performance.now();
      button.textContent = say("stop");
      button.setAttribute("aria-pressed", "true");
      const track = stream.getVideoTracks()[0];
      const capabilities = track && track.getCapabilities ? track.getCapabilities() : {};
      torch.hidden = !capabilities.torch;
      decodeLoop().catch((error) => fail(error));
    } catch (error) {
      fail(error);
    }
  }

  function stop() {
    running = false;
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    torch.hidden = true;
    torchOn = false;
    button.textContent = say("start");
    button.setAttribute("aria-pressed", "false");
  }

  function fail(error) {
    stop();
    problem.textContent = say("failed").replace("{why}", error && error.message ? error.message : String(error));
    problem.hidden = false;
  }

  button.addEventListener("click", () => (running ? stop() : start()));
  torch.addEventListener("click", async () => {
    const track = stream && stream.getVideoTracks()[0];
    if (!track) return;
    torchOn = !torchOn;
    try {
      await track.applyConstraints({ advanced: [{ torch: torchOn }] });
      torch.setAttribute("aria-pressed", String(torchOn));
    } catch {
      torchOn = !torchOn;
    }
  });
  window.darutraceCamera = { stats, start, stop };
})();
