// Swagger UI on Promgen-rs' OpenAPI document (/rest/v2/schema). "Try it out" sends the
// browser's session cookie; a token can be set with "Authorize".
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/rest/v2/schema",
    dom_id: "#swagger-ui",
    deepLinking: true,
    withCredentials: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
