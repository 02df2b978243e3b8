// Reload the dashboard every 30 s while the box is checked (WCAG 2.2.1: the person
// can stop it). The choice survives the reload in this tab.
(function () {
  "use strict";
  var casilla = document.getElementById("actualizar");
  if (!casilla) { return; }
  var clave = "openprep.coordinacion.actualizar";
  casilla.checked = sessionStorage.getItem(clave) !== "no";
  var temporizador = null;
  function programar() {
    clearTimeout(temporizador);
    if (casilla.checked) {
      temporizador = setTimeout(function () { location.reload(); }, 30000);
    }
  }
  casilla.addEventListener("change", function () {
    sessionStorage.setItem(clave, casilla.checked ? "si" : "no");
    programar();
  });
  programar();
})();
