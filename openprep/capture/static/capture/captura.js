// Keyboard-first capture: digits typed directly, I = ILEGIBLE, S = SIN DATO, Enter moves to
// the next field and submits from the last. Without this script the form still works:
// the operator types ILEGIBLE or SIN DATO in full.
(function () {
  "use strict";
  var form = document.getElementById("captura");
  if (!form) { return; }
  var campos = Array.prototype.slice.call(form.querySelectorAll("input[data-campo]"));
  var faltante = document.getElementById("faltante");
  var MARCAS = { i: "ILEGIBLE", s: "SIN DATO" };
  var esMarca = function (valor) { return valor === MARCAS.i || valor === MARCAS.s; };

  function irA(indice) {
    var campo = campos[indice];
    campo.focus();
    campo.select();
  }

  function enviar() {
    for (var i = 0; i < campos.length; i++) {
      if (campos[i].value.trim() === "") {
        var etiqueta = form.querySelector("label[for='" + campos[i].id + "']");
        faltante.textContent = "Falta el campo " + (etiqueta ? etiqueta.textContent : campos[i].name) +
          ": escriba un número, I (ILEGIBLE) o S (SIN DATO).";
        faltante.hidden = false;
        irA(i);
        return;
      }
    }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  campos.forEach(function (campo, indice) {
    campo.addEventListener("focus", function () { campo.select(); });
    campo.addEventListener("keydown", function (evento) {
      if (evento.ctrlKey || evento.altKey || evento.metaKey || evento.key === "Tab") { return; }
      var tecla = evento.key.toLowerCase();
      if (MARCAS[tecla]) {
        evento.preventDefault();
        campo.value = MARCAS[tecla];
        return;
      }
      if (evento.key === "Enter") {
        evento.preventDefault();
        if (indice + 1 < campos.length) { irA(indice + 1); } else { enviar(); }
        return;
      }
      if (evento.key === "Backspace" && esMarca(campo.value)) {
        evento.preventDefault();
        campo.value = "";
        return;
      }
      if (/^[0-9]$/.test(evento.key)) {
        if (esMarca(campo.value)) { campo.value = ""; }
        return;
      }
      if (evento.key.length === 1) { evento.preventDefault(); }
    });
  });
  form.addEventListener("submit", function (evento) {
    if (campos.some(function (c) { return c.value.trim() === ""; })) {
      evento.preventDefault();
      enviar();
    }
  });
})();
