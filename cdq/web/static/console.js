// Keyboard shortcuts for the review queue (m / n / s) and postcode + house number completion in the
// customer portal. No frameworks, no external requests: everything talks to this server only.
document.addEventListener("keydown", function (event) {
  if (event.target.matches("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
  if (target) { event.preventDefault(); target.click(); }
});

document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.portal");
  if (!form) return;
  var postcode = form.querySelector('[name="postcode"]'), number = form.querySelector('[name="house_number"]');
  var addition = form.querySelector('[name="house_number_addition"]');
  var letter = form.querySelector('[name="house_letter"]');
  var street = form.querySelector('[name="street"]'), city = form.querySelector('[name="city"]');
  var status = document.getElementById("address-status");
  var timer = null;
  function complete() {
    var pc = postcode.value.replace(/\s/g, ""), nr = number.value.trim();
    if (!/^[1-9][0-9]{3}[A-Za-z]{2}$/.test(pc) || !/^[0-9]{1,5}/.test(nr)) return;
    var url = "/mijn-gegevens/adres?t=" + encodeURIComponent(form.querySelector('[name="t"]').value) +
      "&postcode=" + encodeURIComponent(pc) + "&house_number=" + encodeURIComponent(nr) +
      "&addition=" + encodeURIComponent(addition ? addition.value : "");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (a) {
      if (a.street) { street.value = a.street; }
      if (a.city) { city.value = a.city; }
      if (a.street && letter) { letter.value = a.house_letter || ""; }
      if (a.street && addition && document.activeElement !== addition) {
        addition.value = a.house_number_addition || "";
      }
      var options = (a.existing || []).length > 1 ? " Mogelijke toevoegingen: " + a.existing.join(", ") + "." : "";
      status.textContent = (a.message || "") + options;
    }).catch(function () { status.textContent = ""; });
  }
  [postcode, number].forEach(function (el) {
    if (el) el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(complete, 250); });
  });
});
