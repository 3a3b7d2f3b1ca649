// One set of swc options for the build and for jest, so tests run the code as it ships.
export const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6', resolveFully: true },
  sourceMaps: true,
};
