import { Controller, type DynamicModule, Get, Header, Inject, Module, NotFoundException, Optional, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DOCS_PATH, OPENAPI_PATH, type OpenApiDocument, openApiDocument, type OpenApiOptions } from './openapi.document.js';

export const DOCS_ASSETS_PATH = `${DOCS_PATH}/assets`;
const OPENAPI_OPTIONS = Symbol('OPENAPI_OPTIONS');

/** Files of swagger-ui-dist the page needs, with their media types; nothing else of the package is served. */
const packageAssets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};
/** The package's files are versioned with it; a day keeps reloads cheap and an upgrade visible soon enough. */
const ASSET_CACHE_SECONDS = 86_400;

/**
 * Starts Swagger UI on the document. A file of its own rather than an inline script, so a
 * Content-Security-Policy without 'unsafe-inline' does not break the page.
 */
const initializer = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const page = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>CX platform API</title>
    <link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
    <link rel="stylesheet" href="${DOCS_ASSETS_PATH}/index.css">
    <link rel="icon" type="image/png" href="${DOCS_ASSETS_PATH}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${DOCS_ASSETS_PATH}/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <noscript>This page needs JavaScript. The API description itself is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</noscript>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js" charset="utf-8"></script>
    <script src="${DOCS_ASSETS_PATH}/swagger-initializer.js" charset="utf-8"></script>
  </body>
</html>
`;

let assetFolder: string | undefined;

/** swagger-ui-dist's folder, found the way Node resolves the package (it has no `exports` map). */
function swaggerUiFolder(): string {
  assetFolder ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return assetFolder;
}

/**
 * `GET /openapi.json`: the OpenAPI document. `GET /docs`: a page that browses it, with Swagger UI
 * served from the app itself (no CDN: it works offline). Public routes: no scopes needed.
 */
@Controller()
export class OpenApiController {
  private readonly document: OpenApiDocument;

  constructor(@Optional() @Inject(OPENAPI_OPTIONS) options?: OpenApiOptions) {
    this.document = openApiDocument(options);
  }

  @Get(OPENAPI_PATH.slice(1))
  @Header('Cache-Control', 'no-cache')
  openApi(): OpenApiDocument {
    return this.document;
  }

  @Get(DOCS_PATH.slice(1))
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  docs(): string {
    return page;
  }

  @Get(`${DOCS_ASSETS_PATH.slice(1)}/swagger-initializer.js`)
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('X-Content-Type-Options', 'nosniff')
  initializer(): string {
    return initializer;
  }

  /** Only the listed files: the name is looked up, never joined into a path as sent. */
  @Get(`${DOCS_ASSETS_PATH.slice(1)}/:file`)
  asset(@Param('file') file: string, @Res() response: Response): void {
    const contentType = Object.hasOwn(packageAssets, file) ? packageAssets[file] : undefined;
    if (contentType === undefined) throw new NotFoundException();
    response.setHeader('Content-Type', contentType);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.sendFile(
      join(swaggerUiFolder(), file),
      { maxAge: ASSET_CACHE_SECONDS * 1000, dotfiles: 'deny' },
      (error?: Error) => {
        if (error && !response.headersSent) {
          response.removeHeader('Content-Type');
          response.status(404).json({ statusCode: 404, message: 'Not Found' });
        }
      },
    );
  }
}

/** The OpenAPI document and its page. `forRoot({ serverUrl })` names the public base URL in the document. */
@Module({ controllers: [OpenApiController] })
export class OpenApiModule {
  static forRoot(options: OpenApiOptions = {}): DynamicModule {
    return { module: OpenApiModule, providers: [{ provide: OPENAPI_OPTIONS, useValue: options }] };
  }
}
