// crmhub admin panel: small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive actions (buttons with data-confirm).
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  // "Select all" checkbox of a table of clients.
  document.querySelectorAll("[data-select-all]").forEach((box) => {
    const name = box.getAttribute("data-select-all");
    box.addEventListener("change", () => {
      document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((b) => {
        b.checked = box.checked;
      });
      countSelected(name);
    });
    document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((b) => {
      b.addEventListener("change", () => countSelected(name));
    });
  });
  function countSelected(name) {
    const n = document.querySelectorAll(`input[type=checkbox][name="${name}"]:checked`).length;
    document.querySelectorAll(`[data-selected-count="${name}"]`).forEach((el) => {
      el.textContent = String(n);
    });
  }
  // Template preview of a robot's message: asks the server, which fills the placeholders.
  document.querySelectorAll("[data-preview-source]").forEach((area) => {
    const target = document.getElementById(area.getAttribute("data-preview-target"));
    const url = area.getAttribute("data-preview-source");
    const form = area.form;
    let timer = null;
    const update = () => {
      const body = new URLSearchParams({ template: area.value });
      fetch(url, {
        method: "POST",
        headers: { "X-CSRF-Token": form.querySelector("input[name=_csrf]").value,
                   "Accept": "application/json" },
        body,
      }).then((r) => r.json()).then((data) => {
        target.textContent = data.text;
        const warn = document.getElementById(target.id + "-unknown");
        if (warn) warn.textContent = data.unknown.length ? data.unknown_message : "";
      }).catch(() => {});
    };
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 250); });
    document.querySelectorAll(`[data-insert-into="${area.id}"]`).forEach((btn) => {
      btn.addEventListener("click", (event) => {
        event.preventDefault();
        const text = btn.getAttribute("data-placeholder");
        const at = area.selectionStart ?? area.value.length;
        area.value = area.value.slice(0, at) + text + area.value.slice(area.selectionEnd ?? at);
        area.focus();
        update();
      });
    });
    update();
  });
  // Import progress: poll the job's status while it runs.
  const job = document.querySelector("[data-import-status]");
  if (job) {
    const url = job.getAttribute("data-import-status");
    const bar = job.querySelector("progress");
    const label = job.querySelector("[data-progress-label]");
    const poll = () => {
      fetch(url, { headers: { "Accept": "application/json" } }).then((r) => r.json()).then((s) => {
        bar.max = Math.max(s.total, 1);
        bar.value = s.processed;
        label.textContent = `${s.processed} / ${s.total}`;
        if (s.finished) window.location.reload();
        else setTimeout(poll, 400);
      }).catch(() => setTimeout(poll, 1500));
    };
    setTimeout(poll, 300);
  }
});
// Mailbox: fill the IMAP/SMTP fields with the provider's settings for the address.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-detect-mail]").forEach((btn) => {
    btn.addEventListener("click", () => {
      const form = btn.form;
      const body = new URLSearchParams({ address: form.querySelector("[name=address]").value });
      fetch(btn.getAttribute("data-detect-mail"), {
        method: "POST",
        headers: { "X-CSRF-Token": form.querySelector("input[name=_csrf]").value,
                   "Accept": "application/json" },
        body,
      }).then((r) => r.json()).then((data) => {
        const out = form.querySelector("[data-detect-result]");
        if (data.error) { out.textContent = data.error.message; return; }
        for (const key of ["imap_host", "imap_port", "imap_security", "smtp_host", "smtp_port", "smtp_security"]) {
          const el = form.querySelector(`[name=${key}]`);
          if (el) el.value = data[key];
        }
        out.textContent = data.provider + (data.guessed ? " (?)" : "");
      }).catch(() => {});
    });
  });
});
