// Dandelion: keyboard shortcuts and their help overlay ("?"). Static file (no inline script: CSP).
// Shortcuts never fire while typing in a field; Escape closes the overlay.
(function () {
  var SHORTCUTS = [
    ["?", "Show or hide this help"],
    ["g i", "Go to the inbox"],
    ["j / k", "Next / previous conversation in the queue"],
    ["o or Enter", "Open the selected conversation"],
    ["r", "Write a reply (conversation page)"],
    ["n", "Next conversation (after resolving)"],
    ["/", "Search the queue"],
    ["Esc", "Close this help"]
  ];
  var pendingG = false;

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function dialog() {
    var box = document.getElementById("shortcuts-help");
    if (box) return box;
    box = document.createElement("dialog");
    box.id = "shortcuts-help";
    box.setAttribute("aria-labelledby", "shortcuts-title");
    var title = document.createElement("h2");
    title.id = "shortcuts-title";
    title.textContent = "Keyboard shortcuts";
    box.appendChild(title);
    var list = document.createElement("dl");
    list.className = "shortcuts";
    SHORTCUTS.forEach(function (s) {
      var dt = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = s[0];
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.textContent = s[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    box.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    close.addEventListener("click", function () { box.close(); });
    box.appendChild(close);
    document.body.appendChild(box);
    return box;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr a[href]"));
  }

  function move(step) {
    var links = rows();
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    index = index < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, index + step));
    links[index].focus();
    var row = links[index].closest("tr");
    links.forEach(function (a) { a.closest("tr").classList.remove("selected"); });
    if (row) row.classList.add("selected");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    var box = document.getElementById("shortcuts-help");
    if (key === "?") {
      event.preventDefault();
      var d = dialog();
      if (d.open) d.close(); else d.showModal();
      return;
    }
    if (box && box.open) return;  // the dialog handles Escape itself
    if (pendingG) {
      pendingG = false;
      if (key === "i") { window.location.href = "/inbox/"; event.preventDefault(); }
      return;
    }
    if (key === "g") { pendingG = true; window.setTimeout(function () { pendingG = false; }, 1500); return; }
    if (key === "j") { move(1); event.preventDefault(); }
    else if (key === "k") { move(-1); event.preventDefault(); }
    else if (key === "o") {
      var current = document.activeElement;
      if (current && current.closest && current.closest("#queue")) { current.click(); event.preventDefault(); }
    }
    else if (key === "r") {
      var reply = document.querySelector("#reply-text textarea");
      if (reply) { reply.focus(); event.preventDefault(); }
    }
    else if (key === "n") {
      var next = document.getElementById("next-conversation");
      if (next) { next.click(); event.preventDefault(); }
    }
    else if (key === "/") {
      var search = document.querySelector("form.filters input[name=search]");
      if (search) { search.focus(); event.preventDefault(); }
    }
  });
})();
