// The field with autofocus gets the focus and, if it holds text, has it selected: a
// barcode scanner typing the next CLAVE_ACTA replaces what is there instead of appending.
document.addEventListener("DOMContentLoaded", function () {
  var campo = document.querySelector("[autofocus]");
  if (!campo) return;
  campo.focus();
  if (campo.type === "text" || campo.type === "") campo.select();
});
