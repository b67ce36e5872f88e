// The booking form: picking a modality moves the place of service to one that fits it (in person → 11, video or
// audio → 10), unless the one chosen already fits (02 stays for telehealth, 12 or 53 for in person).
// The server checks the pair either way (app/billing/sessions.py); this only saves a failed save.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    const modality = event.target;
    if (!modality.matches || !modality.matches("select[data-places]")) return;
    const place = document.getElementById(modality.dataset.placesFor);
    if (!place) return;
    const telehealth = modality.dataset.telehealthPlaces.split(" ");
    const wanted = JSON.parse(modality.dataset.places)[modality.value];
    const isTelehealth = modality.value !== "in_person";
    if (wanted && telehealth.includes(place.value) !== isTelehealth) {
      place.value = wanted;
      place.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
