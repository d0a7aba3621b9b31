// Seek the recording from transcript lines, finding markers and phrase times; follow playback.
"use strict";
(function () {
  const player = document.getElementById("player");
  document.querySelectorAll(".marker[data-percent]").forEach(function (marker) {
    marker.style.left = Math.min(parseFloat(marker.dataset.percent), 99) + "%";
  });
  document.addEventListener("click", function (event) {
    const target = event.target.closest("[data-seek]");
    if (!target || !player) return;
    player.currentTime = parseFloat(target.dataset.seek);
    player.play().catch(function () { /* a browser may refuse to autoplay; seeking stands */ });
  });
  if (!player) return;
  const lines = Array.from(document.querySelectorAll("#transcript .line"));
  player.addEventListener("timeupdate", function () {
    const now = player.currentTime;
    lines.forEach(function (line) {
      const playing = now >= parseFloat(line.dataset.seek) && now < parseFloat(line.dataset.end);
      line.classList.toggle("playing", playing);
    });
  });
})();
