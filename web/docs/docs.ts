// /docs: Swagger UI (the swagger-ui-dist package, bundled by Vite and
// served by the gateway: nothing comes from the internet) over the
// gateway's /openapi.json. "Authorize" takes a bearer token; when the
// visitor is signed in to the console, its token is filled in already, so
// "Try it out" works at once.
import "swagger-ui-dist/swagger-ui.css";
import "./docs.css";
import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import { storedToken } from "../src/api/token";

const ui = SwaggerUI({
  url: "/openapi.json",
  dom_id: "#swagger",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  // the validator badge would ask validator.swagger.io
  validatorUrl: null,
  onComplete: () => {
    const token = storedToken();
    if (token) ui.preauthorizeApiKey("bearer", token);
  },
});
