export * from './schema.js';
export { ResultsWriter, type OpenOptions } from './writer.js';
export { readResults, readManifest, readSampleIds, shardFiles, metricsOf, MANIFEST_FILE, type ReadOptions, type ResultsDataset } from './reader.js';
export { profilesOf, rowFeatures, labelValues, DERIVED_LABELS, type Profiles } from './features.js';
