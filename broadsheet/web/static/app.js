// Progressive enhancements; every page works without JavaScript (forms post and redirect back, cards expanded).
// Loaded in <head> without `defer` so the remembered card density applies before the first paint.
"use strict";

// -- card density: compact or expanded, remembered per browser -------------------------------------------
const DENSITY_KEY = "broadsheet.cards";

function storedDensity() {
  try {
    return window.localStorage.getItem(DENSITY_KEY) === "compact" ? "compact" : "expanded";
  } catch (error) {
    return "expanded";  // storage blocked: the default
  }
}

function applyDensity(density) {
  document.documentElement.dataset.cards = density;
}

applyDensity(storedDensity());

function densityToggle() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "density";
  const show = () => {
    const compact = document.documentElement.dataset.cards === "compact";
    button.textContent = compact ? "Expanded view" : "Compact view";
    button.setAttribute("aria-pressed", String(compact));
    button.title = compact ? "Show summaries and snippets again" : "Titles only: more papers on a screen";
  };
  button.addEventListener("click", () => {
    const next = document.documentElement.dataset.cards === "compact" ? "expanded" : "compact";
    applyDensity(next);
    try {
      window.localStorage.setItem(DENSITY_KEY, next);
    } catch (error) {
      // not remembered: fine
    }
    show();
  });
  show();
  return button;
}

// -- the sticky header's real height, so that anchors (#comments) land below it --------------------------
function trackHeader() {
  const header = document.querySelector("header.site");
  if (!header || !("ResizeObserver" in window)) return;
  const set = () => document.documentElement.style.setProperty("--header-h", `${header.offsetHeight}px`);
  new ResizeObserver(set).observe(header);
  set();
}

document.addEventListener("DOMContentLoaded", () => {
  trackHeader();
  const cards = document.querySelector(".cards");
  if (cards && cards.querySelector(".card")) {
    const bar = document.createElement("div");
    bar.className = "view-options";
    bar.append(densityToggle());
    cards.before(bar);
  }
});

// -- upvotes without a page reload ------------------------------------------------------------------------
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("vote")) return;
  event.preventDefault();
  const up = form.elements.up.value === "true";
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(`/api/papers/${form.dataset.paper}/vote`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ up }),
      credentials: "same-origin",
    });
    if (response.status === 401) {
      window.location.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
      return;
    }
    if (!response.ok) throw new Error((await response.json()).error || response.statusText);
    const result = await response.json();
    form.querySelector(".count").textContent = result.upvotes;
    form.elements.up.value = result.upvoted ? "false" : "true";
    button.setAttribute("aria-pressed", String(result.upvoted));
    button.setAttribute("aria-label", `${result.upvoted ? "Remove your upvote" : "Upvote"} (${result.upvotes} upvotes)`);
  } catch (error) {
    form.submit();  // fall back to the plain form post
  } finally {
    button.disabled = false;
  }
});
