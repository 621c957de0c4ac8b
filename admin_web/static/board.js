// crmhub pipeline board: drag a card to another stage's column. Without this script every
// card still moves through its own form (a stage select and a Move button).
// A drop posts that same form with Accept: application/json: {moved} reloads the board,
// {plan} opens the deal's plan page (the scenario wants a next step first), an error body
// puts the card back where it was and shows the message.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const board = document.querySelector("[data-board]");
  if (!board) return;
  const status = document.getElementById("board-status");
  let dragged = null;

  function say(text) {
    if (!status) return;
    status.textContent = text;
    status.hidden = false;
  }

  function putBack(card, list, before) {
    if (before && before.parentElement === list) list.insertBefore(card, before);
    else list.appendChild(card);
  }

  function move(card, stage, list, before) {
    const form = card.querySelector("form.board-move");
    const body = new URLSearchParams(new FormData(form));
    body.set("stage_id", stage);
    card.classList.add("moving");
    fetch(form.action, {
      method: "POST",
      headers: { "X-CSRF-Token": body.get("_csrf") || "", "Accept": "application/json" },
      body,
    }).then((r) => r.json().then((data) => ({ ok: r.ok, data })))
      .then(({ ok, data }) => {
        if (ok && data.plan) { window.location.assign(data.plan); return; }
        if (ok && data.moved) { window.location.reload(); return; }
        card.classList.remove("moving");
        putBack(card, list, before);
        say(data.error && data.error.message ? data.error.message : board.dataset.failed);
      })
      .catch(() => {
        card.classList.remove("moving");
        putBack(card, list, before);
        say(board.dataset.failed);
      });
  }

  board.querySelectorAll("[data-card]").forEach((card) => {
    card.draggable = true;
    card.addEventListener("dragstart", (event) => {
      dragged = { card, list: card.parentElement, before: card.nextElementSibling };
      event.dataTransfer.setData("text/plain", card.dataset.card);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", () => {
      card.classList.remove("dragging");
      dragged = null;
    });
  });

  board.querySelectorAll("[data-stage]").forEach((column) => {
    const list = column.querySelector("[data-cards]");
    column.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-here");
    });
    column.addEventListener("dragleave", (event) => {
      if (!column.contains(event.relatedTarget)) column.classList.remove("drop-here");
    });
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("drop-here");
      if (!dragged) return;
      const { card, list: from, before } = dragged;
      dragged = null;
      if (column.dataset.stage === card.dataset.stageNow) return;
      if (status) status.hidden = true;
      list.appendChild(card);
      move(card, column.dataset.stage, from, before);
    });
  });
});
