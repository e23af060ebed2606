/** entropylens: entropy profiles of transformer LMs (the logit lens at every generated token and block). */
export { UserError } from './util/errors.js';
export { LensModel, type LoadOptions, type ProfileOptions, type ProfileResult, type PromptInput } from './lens/model.js';
export type { LensPositions } from './lens/options.js';
export type { PositionsResult } from './lens/generate.js';
export { readVectorFile } from './lens/vector-file.js';
export { windowMeans, features } from './lens/windows.js';
export { parseMetric, parseMetrics, type Metric } from './graph/metric-names.js';
export type { Intervention, LensOptions } from './graph/lens-options.js';
export { supportedModelTypes, ARCHITECTURES } from './models/registry.js';
export type { DecoderSpec, Architecture } from './models/types.js';
export { openCheckpoint } from './models/checkpoint.js';
export { resolveModelDir } from './hub/index.js';
