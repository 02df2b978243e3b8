// openprep public site: optional navigation. Every figure is in the HTML without this file.
"use strict";
(function () {
  // A CLAVE_CASILLA (230085B0100) names its sección in characters 3 to 6.
  function seccionDe(texto) {
    var t = texto.trim().toUpperCase();
    var m = /^\d{2}(\d{4})[BCESVM]\d{4}/.exec(t);
    if (m) return { seccion: parseInt(m[1], 10), casilla: t.slice(0, 11) };
    if (/^\d{1,5}$/.test(t)) return { seccion: parseInt(t, 10), casilla: "" };
    return null;
  }

  // Territory and actas pages: show only the secciones (and casillas) that match.
  function filtro(form) {
    var input = form.querySelector("input");
    var mensaje = form.querySelector(".mensaje");
    var filas = document.querySelectorAll("[data-s]");
    function aplicar() {
      var q = input.value.trim().toUpperCase();
      var buscada = seccionDe(q);
      var visibles = {};
      var n = 0;
      filas.forEach(function (el) {
        var s = el.getAttribute("data-s");
        var ok = q === "" || (buscada && !buscada.casilla ? s.indexOf(q.replace(/^0+/, "")) === 0 : buscada && String(buscada.seccion) === s);
        el.hidden = !ok;
        if (ok && !visibles[s]) { visibles[s] = true; n++; }
        if (ok && buscada && buscada.casilla && el.tagName === "TBODY") {
          el.querySelectorAll("tr:not(.sec)").forEach(function (tr) {
            var th = tr.querySelector("th");
            tr.hidden = !(th && th.textContent.indexOf(buscada.casilla) === 0);
          });
        } else if (el.tagName === "TBODY") {
          el.querySelectorAll("tr").forEach(function (tr) { tr.hidden = false; });
        }
      });
      mensaje.textContent = q === "" ? "" : (n === 0 ? "Ninguna sección coincide con «" + input.value + "»." : n + (n === 1 ? " sección coincide." : " secciones coinciden."));
    }
    form.hidden = false;
    form.addEventListener("submit", function (ev) { ev.preventDefault(); aplicar(); });
    input.addEventListener("input", aplicar);
    var hash = /^#s(\d+)$/.exec(location.hash);
    if (hash && !document.getElementById("s" + hash[1])) { input.value = hash[1]; aplicar(); }
  }

  // Election page: find the page that holds a sección (secciones.json) and go there.
  function irSeccion(form) {
    var input = form.querySelector("input");
    var mensaje = form.querySelector(".mensaje");
    var indice = null;
    function buscar(datos, s) {
      for (var i = 0; i < datos.paginas.length; i++) {
        var p = datos.paginas[i];
        for (var j = 0; j < p.rangos.length; j++) {
          if (s >= p.rangos[j][0] && s <= p.rangos[j][1]) return p.pagina;
        }
      }
      return null;
    }
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var b = seccionDe(input.value);
      if (!b) { mensaje.textContent = "Escriba un número de sección (ej. 85) o una clave de casilla (ej. 230085B0100)."; return; }
      mensaje.textContent = "Buscando…";
      (indice || (indice = fetch(form.getAttribute("data-secciones")).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }))).then(function (datos) {
        var pagina = buscar(datos, b.seccion);
        if (!pagina) { mensaje.textContent = "La sección " + b.seccion + " no tiene actas en esta elección."; return; }
        location.href = pagina + "#s" + b.seccion;
      }).catch(function () {
        indice = null;
        mensaje.textContent = "No se pudo cargar el índice de secciones; use la tabla.";
      });
    });
  }

  // Acta tables: the image of an acta, shown inside its «Ver» when opened (fetched only
  // then). Without this file the link and the hash are there; the image file has no
  // extension, so a server may offer it as a download instead of showing it.
  function verImagen(ev) {
    var details = ev.target;
    if (!details.open || details.querySelector("img")) return;
    var enlace = details.querySelector("a");
    if (!enlace) return;
    var clave = details.closest("tr").querySelector("th");
    var img = document.createElement("img");
    img.src = enlace.href;
    img.alt = "Imagen del acta " + (clave ? clave.textContent : "");
    img.width = 320;
    var salto = document.createElement("br");
    details.insertBefore(salto, enlace);
    details.insertBefore(img, salto);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.filtro").forEach(filtro);
    document.querySelectorAll("form.ir-seccion").forEach(irSeccion);
    document.querySelectorAll("table.actas").forEach(function (tabla) {
      tabla.addEventListener("toggle", verImagen, true);  // toggle does not bubble
    });
  });
})();
