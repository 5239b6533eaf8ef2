// The opportunity board: drag a card to another open stage (POST, the board comes back
// re-rendered with fresh totals, or with a message when the move was refused); dropping on
// Won or Lost opens the close form, which asks for the reason and a note.
(function () {
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function replaceBoard(html) {
    const board = document.getElementById("board");
    // The server's own rendering (names escaped by the template), parsed in an inert document.
    const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#board");
    if (!board || !fresh) { window.location.reload(); return; }
    board.replaceWith(fresh);
    if (window.htmx) htmx.process(fresh);
  }

  function move(card, stage) {
    const body = new FormData();
    body.append("stage", stage);
    body.append("version", card.dataset.version);
    card.classList.add("opacity-50");
    fetch(card.dataset.moveUrl + window.location.search, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"},
    }).then(function (response) { return response.text(); })
      .then(replaceBoard)
      .catch(function () { window.location.reload(); });
  }

  // Only the reasons that apply to the chosen outcome are offered.
  function filterReasons(form) {
    const outcome = form.querySelector("[name=outcome]");
    const reason = form.querySelector("[name=reason]");
    if (!outcome || !reason) return;
    reason.querySelectorAll("option[data-applies-to]").forEach(function (option) {
      const fits = !outcome.value || option.dataset.appliesTo === "both" || option.dataset.appliesTo === outcome.value;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) reason.value = "";
    });
  }

  function openClose(card, outcome) {
    const dialog = document.getElementById("close-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      window.location.href = card.dataset.closeUrl + "?outcome=" + outcome + "&next=" + encodeURIComponent(window.location.pathname + window.location.search);
      return;
    }
    const form = dialog.querySelector("form");
    form.action = card.dataset.closeUrl;
    form.querySelector("[name=version]").value = card.dataset.version;
    form.querySelector("[name=outcome]").value = outcome;
    const next = form.querySelector("[name=next]");
    if (next) next.value = window.location.pathname + window.location.search;
    const title = card.querySelector("a");
    dialog.querySelector("[data-close-title]").textContent = title ? title.textContent : "";
    filterReasons(form);
    dialog.showModal();
  }

  let dragged = null;
  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest(".kam-board-card[draggable=true]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.pk);
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".kam-board-column.bg-azure-lt").forEach(function (c) { c.classList.remove("bg-azure-lt"); });
  });
  document.addEventListener("dragover", function (event) {
    const column = event.target.closest && event.target.closest(".kam-board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("bg-azure-lt");
  });
  document.addEventListener("dragleave", function (event) {
    const column = event.target.closest && event.target.closest(".kam-board-column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("bg-azure-lt");
  });
  document.addEventListener("drop", function (event) {
    const column = event.target.closest && event.target.closest(".kam-board-column");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("bg-azure-lt");
    const card = dragged;
    dragged = null;
    const stage = column.dataset.stage;
    if (stage === card.dataset.stage) return;
    if (column.dataset.closed) openClose(card, stage); else move(card, stage);
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "outcome" && event.target.form && event.target.form.hasAttribute("data-close-form")) {
      filterReasons(event.target.form);
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-close-cancel]")) return;
    const dialog = event.target.closest("dialog");
    if (dialog) dialog.close();
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-close-form]").forEach(filterReasons);
  });
})();
