/**
 * The Node.js entry of deepprob (`import ... from 'deepprob/node'`): everything of the main
 * entry plus Node-only pieces (file IO handlers, dataset loaders that read files, the CLI).
 *
 * @packageDocumentation
 */
export * from './index.js';
