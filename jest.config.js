/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/functions', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking happens once in `npm run build`; Jest only transpiles.
    // Jest runs CommonJS in its own module system, where a native import() is not available; the build
    // (nodenext) keeps import() for Node itself.
    '^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: { module: 'commonjs', moduleResolution: 'node10' } }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
