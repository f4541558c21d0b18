// The checkout page: confirm the plan the link names; the backend calls set_plan.
const $ = (selector) => document.querySelector(selector);
const plan = new URLSearchParams(location.search).get("plan") || "team";
const name = plan.charAt(0).toUpperCase() + plan.slice(1);

$("#checkout-title").textContent = `Upgrade to ${name}`;
$("#checkout-text").textContent = `Move this workspace to the ${name} plan: more seats and dashboards for the whole team.`;
$("#confirm").textContent = `Confirm upgrade to ${name}`;

$("#confirm").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  $("#status").textContent = "Upgrading…";
  const response = await fetch("/api/plan", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ plan }),
  }).catch((error) => ({ ok: false, json: async () => ({ error: { message: error.message } }) }));
  if (response.ok) {
    location.assign("/"); // back to the view the user came from
    return;
  }
  const data = await response.json().catch(() => ({}));
  $("#status").textContent = (data.error && data.error.message) || "The upgrade failed; try again.";
  button.disabled = false;
});
