// Seek the recording from transcript lines, finding markers and phrase times; follow playback.
"use strict";
(function () {
  const player = document.getElementById("player");
  document.addEventListener("click", function (event) {
    const target = event.target.closest("[data-seek]");
    if (!target || !player) return;
    player.currentTime = parseFloat(target.dataset.seek);
    player.play().catch(function () { /* a browser may refuse to autoplay; seeking stands */ });
  });
  // A focused bar, pin or line seeks with Enter, as a click does.
  document.addEventListener("keydown", function (event) {
    const target = event.target.closest ? event.target.closest("[data-seek]") : null;
    if (event.key !== "Enter" || !target || !player || target.tagName === "BUTTON") return;
    player.currentTime = parseFloat(target.dataset.seek);
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

// Confirm or overturn in place: the form posts in the background and the page's verdict parts
// (banner, summary, agent case, criteria and findings, audit log) are swapped for the server's
// new ones; without script the form posts and the page reloads as before.
(function () {
  const PARTS = ["#verdict-banner", "dl.meta", "#case", "section.verdict", "section.audit"];

  function swap(html) {
    const fresh = new DOMParser().parseFromString(html, "text/html");
    PARTS.forEach(function (selector) {
      const old = document.querySelector(selector);
      const now = fresh.querySelector(selector);
      if (old && now) {
        old.replaceWith(document.importNode(now, true));
      } else if (now && !old && selector === "section.audit") {  // the call's first action
        const columns = document.querySelector("div.columns");
        if (columns) columns.after(document.importNode(now, true));
      } else if (now && !old && selector === "#case") {  // a confirmation opened the case
        const player = document.querySelector("section.player");
        if (player) player.before(document.importNode(now, true));
      }
    });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form.review-form");
    if (!form || !window.fetch) return;
    event.preventDefault();
    const data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    const article = form.closest("article.finding");
    const id = article ? article.id : null;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    // getAttribute: the buttons named "action" shadow form.action
    fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "fetch"},
    }).then(function (answer) {
      return answer.text().then(function (html) {
        if (!answer.ok) throw new Error(answer.status + " " + answer.statusText);
        swap(html);
        const next = nextPending(id) || (id && document.getElementById(id));
        if (next) next.focus();
      });
    }).catch(function (error) {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      form.setAttribute("data-error", String(error.message || error));
      form.classList.add("failed");
    });
  });

  // Keyboard: j / k next and previous finding, c confirm, o overturn (the focused finding),
  // n the note field; keys typed into a field are left alone.
  function findings() {
    return Array.from(document.querySelectorAll("article.finding"));
  }

  function nextPending(afterId) {
    const all = findings();
    const from = all.findIndex(function (f) { return f.id === afterId; });
    const later = all.slice(from + 1).concat(all.slice(0, from + 1));
    return later.find(function (f) { return f.classList.contains("state-pending"); });
  }

  function current() {
    const focused = document.activeElement && document.activeElement.closest("article.finding");
    return focused || findings().find(function (f) { return f.classList.contains("state-pending"); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select")) return;
    const all = findings();
    if (!all.length) return;
    const here = current();
    const index = here ? all.indexOf(here) : -1;
    if (event.key === "j" || event.key === "k") {
      const step = event.key === "j" ? 1 : -1;
      const target = all[Math.max(0, Math.min(all.length - 1, index + step))];
      target.focus();
      target.scrollIntoView({block: "nearest"});
    } else if ((event.key === "c" || event.key === "o") && here) {
      const button = here.querySelector(
        "form.review-form button[value=" + (event.key === "c" ? "confirm" : "overturn") + "]");
      if (button) button.click();
    } else if (event.key === "n" && here) {
      const note = here.querySelector("form.review-form input[name=note]");
      if (note) { note.focus(); event.preventDefault(); }
    } else {
      return;
    }
  });
})();

// A search result's link opens the call at its line (?t=seconds): the line is marked and
// scrolled to, and the recording starts there.
(function () {
  const at = parseFloat(new URLSearchParams(window.location.search).get("t"));
  if (!isFinite(at)) return;
  const lines = Array.from(document.querySelectorAll("#transcript .line"));
  const line = lines.find(function (l) { return Math.abs(parseFloat(l.dataset.seek) - at) < 0.05; });
  if (line) {
    line.classList.add("found");
    line.scrollIntoView({block: "center"});
  }
  const player = document.getElementById("player");
  if (!player) return;
  function seek() { player.currentTime = at; }
  if (player.readyState >= 1) seek(); else player.addEventListener("loadedmetadata", seek, {once: true});
})();

// The queue: a select-all box for the page, a count of the calls selected, and keys:
// j / k move, x selects, Enter opens, ? shows the shortcuts (Esc hides them).
(function () {
  const table = document.querySelector("table.queue");
  const help = document.getElementById("queue-help");
  const all = document.getElementById("select-all-page");
  const count = document.getElementById("selected-count");
  const rows = table ? Array.from(table.querySelectorAll("tbody tr")) : [];
  const boxes = function () { return rows.map(function (r) { return r.querySelector("input.pick"); }).filter(Boolean); };
  let current = -1;

  function sync() {
    const picked = boxes().filter(function (b) { return b.checked; }).length;
    if (count) count.textContent = String(picked);
    if (all) {
      all.checked = picked > 0 && picked === boxes().length;
      all.indeterminate = picked > 0 && picked < boxes().length;
    }
  }

  function move(to) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, to));
    rows.forEach(function (r, i) {
      r.classList.toggle("current", i === current);
      r.setAttribute("aria-selected", i === current ? "true" : "false");
    });
    rows[current].setAttribute("tabindex", "-1");
    rows[current].focus();
    rows[current].scrollIntoView({block: "nearest"});
  }

  if (all) {
    all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      sync();
    });
  }
  if (table) {
    table.addEventListener("change", function (event) {
      if (event.target.matches("input.pick")) sync();
    });
    rows.forEach(function (r, i) { r.addEventListener("click", function () { current = i; }); });
    sync();
  }

  document.addEventListener("keydown", function (event) {
    if (!help && !table) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input:not([type=checkbox]), textarea, select")) return;
    if (event.key === "?" && help) {
      help.hidden = !help.hidden;
      event.preventDefault();
    } else if (event.key === "Escape" && help && !help.hidden) {
      help.hidden = true;
    } else if ((event.key === "j" || event.key === "k") && rows.length) {
      move(current < 0 ? 0 : current + (event.key === "j" ? 1 : -1));
      event.preventDefault();
    } else if (event.key === "x" && current >= 0) {
      const box = rows[current].querySelector("input.pick");
      if (box) { box.checked = !box.checked; sync(); }
      event.preventDefault();
    } else if (event.key === "Enter" && current >= 0 && !event.target.closest("button, a")) {
      const link = rows[current].querySelector("a[href^='/calls/']");
      if (link) { event.preventDefault(); window.location.assign(link.getAttribute("href")); }
    }
  });
})();
