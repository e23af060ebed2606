/** The store room: results datasets (Parquet shards + manifest), written resumably and read back as profiles. */
export * from './schema.js';
export { ResultsWriter, type OpenOptions } from './writer.js';
export { readResults, readManifest, readSampleIds, shardFiles, metricsOf, MANIFEST_FILE, type ReadOptions, type ResultsDataset } from './reader.js';
export { profilesOf, rowFeatures, labelValues, DERIVED_LABELS, type Profiles } from './features.js';
