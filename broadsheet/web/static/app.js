// Upvotes without a page reload. Without JavaScript the same forms post and redirect back.
"use strict";
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
