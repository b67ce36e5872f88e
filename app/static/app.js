// Parity's small amount of JavaScript. No inline scripts anywhere: the CSP allows only files from 'self'.
(function () {
  "use strict";

  const TOAST_MS = 6000;

  function showToast(message, level) {
    const region = document.getElementById("toasts");
    if (!region) return;
    const toast = document.createElement("div");
    toast.className = "toast toast--" + (level || "success");
    toast.textContent = message;
    region.appendChild(toast);
    setTimeout(function () { toast.remove(); }, TOAST_MS);
  }

  // Server-side flashes arrive in the page; fade them after a while.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (toast) {
      setTimeout(function () { toast.remove(); }, TOAST_MS);
    });
  });

  // Views answer htmx requests with HX-Trigger: {"toast": {"message": ..., "level": ...}}.
  // The event bubbles from the element that made the request up to the document.
  document.addEventListener("toast", function (event) {
    showToast(event.detail.message, event.detail.level);
  });

  // A failed htmx request (network down, 500) must not fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    showToast(status >= 500 ? "Something went wrong; nothing was saved. Try again." : "That did not work (" + status + ").", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Parity could not be reached. Check your connection and try again.", "error");
  });

  // ---------------------------------------------------------------- narrow windows
  // The header's <details> menu is open in the markup (so it works without script); on phones it starts closed.
  const PHONE = window.matchMedia("(max-width: 60rem)");

  function fitMenu() {
    const menu = document.querySelector(".nav-menu");
    if (menu) menu.open = !PHONE.matches;
  }

  // Every table in the page sits in a frame that scrolls sideways when the table is wider than the page; a
  // frame that scrolls is a labelled region reachable with the keyboard (WCAG: scrollable regions focusable).
  function tableLabel(table) {
    const caption = table.querySelector("caption");
    if (caption) return caption.textContent.trim();
    const named = table.getAttribute("aria-labelledby") && document.getElementById(table.getAttribute("aria-labelledby"));
    if (named) return named.textContent.trim();
    const section = table.closest("section, .card, main");
    const heading = section && section.querySelector("h1, h2, h3");
    return heading ? heading.textContent.trim() : "Table";
  }

  function fitTables() {
    document.querySelectorAll("main table.table").forEach(function (table) {
      let frame = table.parentElement;
      if (!frame.classList.contains("table-frame")) {
        const focused = document.activeElement;
        frame = document.createElement("div");
        frame.className = "table-frame";
        table.parentNode.insertBefore(frame, table);
        frame.appendChild(table);
        if (focused && focused !== document.activeElement && table.contains(focused)) focused.focus();
      }
      frame.classList.remove("table-frame--scrolls");
      const scrolls = table.offsetWidth > frame.clientWidth + 1;
      frame.classList.toggle("table-frame--scrolls", scrolls);
      if (scrolls) {
        frame.setAttribute("tabindex", "0");
        frame.setAttribute("role", "region");
        frame.setAttribute("aria-label", tableLabel(table) + " (scrolls sideways)");
      } else {
        frame.removeAttribute("tabindex");
        frame.removeAttribute("role");
        frame.removeAttribute("aria-label");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { fitMenu(); fitTables(); });
  PHONE.addEventListener("change", fitMenu);
  let resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(fitTables, 100);
  });
  document.addEventListener("htmx:afterSettle", fitTables);

  // ---------------------------------------------------------------- focus after a swap
  // A swap that replaces the control a person used must not drop focus to the page: htmx keeps focus on an element
  // with an id that comes back; otherwise focus goes to the first field the server marked invalid (after a post), else to the
  // control with the same label in the new content, else to the swapped element itself.
  let focusBefore = null;

  document.addEventListener("htmx:beforeSwap", function (event) {
    const active = document.activeElement;
    focusBefore = active && active !== document.body ? {
      label: active.getAttribute("aria-label"), text: active.textContent.trim(), tag: active.tagName,
      targetId: event.detail.target && event.detail.target.id,
      posted: !!event.detail.requestConfig && event.detail.requestConfig.verb === "post",
    } : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const was = focusBefore;
    focusBefore = null;
    if (!was || !was.targetId) return;
    const swapped = document.getElementById(was.targetId);
    if (!swapped) return;
    const invalid = was.posted && swapped.querySelector('[aria-invalid="true"]');
    if (invalid) { invalid.focus(); return; }
    const active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return;
    const same = Array.prototype.find.call(swapped.querySelectorAll(was.tag), function (each) {
      return was.label ? each.getAttribute("aria-label") === was.label : each.textContent.trim() === was.text;
    });
    if (same) { same.focus(); return; }
    if (!swapped.hasAttribute("tabindex")) swapped.setAttribute("tabindex", "-1");
    swapped.focus();
  });

  // ---------------------------------------------------------------- code combobox (ARIA 1.2)
  // The input keeps focus; htmx fills its listbox from /codes/search. Arrow keys move
  // aria-activedescendant, Enter picks, Escape closes. A pick copies the option's data-* into the
  // fields the input names with data-fill-<key>="<selector>"; those fields stay editable.

  function listboxOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function options(listbox) {
    return Array.prototype.slice.call(listbox.querySelectorAll('[role="option"]'));
  }

  function setActive(input, option) {
    const listbox = listboxOf(input);
    options(listbox).forEach(function (each) { each.setAttribute("aria-selected", each === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  // The combobox's live region says how many matched (to screen readers only) and what a pick or a removal did
  // (shown beneath the input too: a sighted person needs "not billable" as much as anyone).
  function say(input, message, shown) {
    const status = document.getElementById(listboxOf(input).id + "-status");
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("visually-hidden", !shown);
    status.classList.toggle("combobox-note", !!shown);
  }

  function openListbox(input) {
    const listbox = listboxOf(input);
    const found = options(listbox);
    listbox.hidden = found.length === 0;
    input.setAttribute("aria-expanded", found.length ? "true" : "false");
    setActive(input, null);
    const count = listbox.querySelector(".listbox-count");
    if (count) say(input, count.textContent, false);
  }

  function closeListbox(input) {
    const listbox = listboxOf(input);
    if (!listbox) return;
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    setActive(input, null);
  }

  function addChip(input, option) {
    // Multi-pick comboboxes (diagnoses) add a removable chip holding a hidden input per code.
    const list = document.querySelector(input.dataset.addTo);
    const code = option.dataset.code;
    const already = Array.prototype.some.call(list.querySelectorAll('input[type="hidden"]'), function (hidden) {
      return hidden.value === code;
    });
    const limit = parseInt(list.dataset.limit || "12", 10);
    if (already || list.querySelectorAll("li").length >= limit) {
      say(input, already ? code + " is already chosen." : "At most " + limit + " can be chosen.", true);
      return;
    }
    const chip = document.createElement("li");
    chip.className = "chip";
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = list.dataset.name;
    hidden.value = code;
    const label = document.createElement("span");
    label.textContent = code + " " + (option.dataset.description || "");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-remove";
    remove.setAttribute("data-remove-chip", "");
    remove.setAttribute("aria-label", "Remove " + code);
    remove.textContent = "×";
    chip.append(hidden, label, remove);
    list.appendChild(chip);
    say(input, code + " added.", true);
  }

  function pick(input, option) {
    if (option.getAttribute("aria-disabled") === "true") {
      say(input, option.dataset.code + " is a category and cannot be billed: pick a more specific code.", true);
      return;
    }
    if (input.dataset.addTo) {
      addChip(input, option);
      input.value = "";
      closeListbox(input);
      return;
    }
    input.value = option.dataset.code;
    Array.prototype.forEach.call(input.attributes, function (attribute) {
      if (attribute.name.indexOf("data-fill-") !== 0) return;
      const key = attribute.name.slice("data-fill-".length);
      const target = document.querySelector(attribute.value);
      const value = option.dataset[key];
      if (target && value !== undefined) {
        target.value = value;
        target.dispatchEvent(new Event("input", { bubbles: true }));
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    closeListbox(input);
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.dispatchEvent(new CustomEvent("code:picked", { bubbles: true, detail: Object.assign({}, option.dataset) }));
  }

  // The search takes ?q=; the input itself is named after its form field (code, lines-0-code …).
  document.addEventListener("htmx:configRequest", function (event) {
    const input = event.detail.elt;
    if (!input.matches || !input.matches("[data-combobox]")) return;
    delete event.detail.parameters[input.name];
    event.detail.parameters.q = input.value;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const listbox = event.detail.target;
    if (!listbox || listbox.getAttribute("role") !== "listbox") return;
    const input = document.querySelector('[aria-controls="' + listbox.id + '"]');
    if (input && document.activeElement === input) openListbox(input);
  });

  document.addEventListener("keydown", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches("[data-combobox]")) return;
    const listbox = listboxOf(input);
    const found = options(listbox);
    const active = document.getElementById(input.getAttribute("aria-activedescendant") || "");
    const index = found.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!found.length) return;
      event.preventDefault();
      if (listbox.hidden) { openListbox(input); }
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = index === -1 ? (step === 1 ? 0 : found.length - 1) : (index + step + found.length) % found.length;
      setActive(input, found[next]);
    } else if (event.key === "Enter") {
      if (!listbox.hidden && active) {
        event.preventDefault();  // a pick, not a form submission
        pick(input, active);
      }
    } else if (event.key === "Escape") {
      if (!listbox.hidden) { event.preventDefault(); closeListbox(input); }
    } else if (event.key === "Tab") {
      closeListbox(input);
    }
  });

  // Mouse and touch: mousedown keeps focus in the input, so the pick happens before blur closes the list.
  document.addEventListener("mousedown", function (event) {
    const option = event.target.closest && event.target.closest('[role="listbox"] [role="option"]');
    if (!option) return;
    const input = document.querySelector('[aria-controls="' + option.parentElement.id + '"]');
    if (!input) return;
    event.preventDefault();
    pick(input, option);
  });

  // Service line tables: add a row from the server, remove a row here.
  document.addEventListener("click", function (event) {
    const add = event.target.closest && event.target.closest("[data-add-line]");
    if (add) {
      const table = document.getElementById("service-lines");
      const index = parseInt(table.dataset.nextIndex || "0", 10);
      table.dataset.nextIndex = String(index + 1);
      htmx.ajax("GET", add.dataset.url + "&index=" + index, { target: "#service-lines-body", swap: "beforeend" })
        .then(function () {
          const input = document.getElementById("lines-" + index + "-code");
          if (input) input.focus();
        });
      return;
    }
    const removeRow = event.target.closest && event.target.closest("[data-remove-row]");
    if (removeRow) {
      const rows = document.querySelectorAll("#service-lines-body tr");
      if (rows.length > 1) removeRow.closest("tr").remove();
      return;
    }
    const removeChip = event.target.closest && event.target.closest("[data-remove-chip]");
    if (removeChip) removeChipOf(removeChip);
  });

  // Removing a chip says so, and moves focus to the next chip's remove button (or the one before, or the search).
  function removeChipOf(button) {
    const chip = button.closest("li");
    const list = chip.parentElement;
    const code = chip.querySelector('input[type="hidden"]').value;
    const next = chip.nextElementSibling || chip.previousElementSibling;
    const input = document.querySelector('[data-add-to="#' + list.id + '"]');
    chip.remove();
    const focusTo = (next && next.querySelector("[data-remove-chip]")) || input;
    if (focusTo) focusTo.focus();
    if (input) say(input, code + " removed.", true);
  }

  document.addEventListener("focusout", function (event) {
    const input = event.target;
    if (input.matches && input.matches("[data-combobox]")) closeListbox(input);
  });
})();
