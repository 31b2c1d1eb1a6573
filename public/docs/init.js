// Swagger UI on Promgen-rs' OpenAPI document (/rest/v2/schema). "Try it out" sends the
// browser's session cookie; a token can be set with "Authorize".
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/rest/v2/schema",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Swagger's online validator would send this document's URL to swagger.io (and its badge
    // breaks the page's Content-Security-Policy).
    validatorUrl: null,
    withCredentials: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
