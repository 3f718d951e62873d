// The part of Swagger UI's API that docs/docs.ts uses (swagger-ui-dist
// ships no types).
declare module "swagger-ui-dist/swagger-ui-es-bundle.js" {
  interface SwaggerUIOptions {
    url: string;
    dom_id: string;
    deepLinking?: boolean;
    persistAuthorization?: boolean;
    tryItOutEnabled?: boolean;
    displayRequestDuration?: boolean;
    validatorUrl?: string | null;
    onComplete?: () => void;
  }
  interface SwaggerUIInstance {
    preauthorizeApiKey(scheme: string, value: string): void;
  }
  const SwaggerUI: (options: SwaggerUIOptions) => SwaggerUIInstance;
  export default SwaggerUI;
}
