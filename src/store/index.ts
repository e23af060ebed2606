/** The results store: Parquet part files plus manifest.json, safe under concurrent and sharded writers. */
export * from './schema.js';
export { ResultsWriter, optionDifferences, type OpenOptions } from './writer.js';
export { readResults, readShardTokens, readManifest, readSampleIds, shardFiles, metricsOf, missingShardsMessage, MANIFEST_FILE, type ReadOptions, type ResultsDataset } from './reader.js';
export { duplicateRows, mergeDataset, type MergeResult } from './merge.js';
export { datasetStatus, formatStatus, type DatasetStatus, type ShardStatus } from './status.js';
export { sameModel } from './layout.js';
export { DamagedPartError } from './parquet.js';
export { profilesOf, rowFeatures, isFiniteRow, labelValues, defaultLabel, EXPERIMENT_LABEL, DERIVED_LABELS, type Profiles } from './features.js';
