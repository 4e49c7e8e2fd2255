// Swagger UI for /openapi.json, from the fastapi-offline package's local files (works offline, no inline script).
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
