/**
 * entropylens/analysis: scikit-learn/SciPy-equivalent analyses for entropy profiles.
 * Same inputs, same numbers as the Python reference (see PROTOCOL.md §6).
 */
export { RandomState, MT19937, checkRandomState, type RandomStateLike } from './random.js';
export { npSum, npMean, npVar, npStd, toDense, takeRows, uniqueLabels, type Label, type MatrixLike, type Dense } from './numeric.js';
export { LabelEncoder } from './preprocessing.js';
export {
  KFold,
  StratifiedKFold,
  trainTestSplit,
  crossValScore,
  type Split,
  type Splitter,
  type KFoldOptions,
  type TrainTestSplitOptions,
  type Estimator,
  type CrossValOptions,
} from './model-selection.js';
export { KNeighborsClassifier, kNeighbors, type KNeighborsOptions, type KNeighborsWeights, type Neighbors } from './neighbors.js';
export { DummyClassifier, type DummyOptions } from './dummy.js';
export {
  rocAucScore,
  binaryRocAuc,
  accuracyScore,
  f1Score,
  precisionRecallFscoreSupport,
  classificationReport,
  pyFixed,
  type RocAucOptions,
  type ClassificationReportDict,
  type ClassificationReportOptions,
  type ReportRow,
  type PrfSupport,
} from './metrics.js';
export { ttestRel, type TTestResult } from './stats.js';
export { PCA, symmetricEigen, type PCAOptions } from './decomposition.js';
export { TSNE, trustworthiness, type TSNEOptions } from './manifold.js';
export {
  evaluateProfiles,
  evaluateByGroup,
  classifyFormats,
  formatEvaluation,
  formatGroupEvaluation,
  formatClassification,
  formatLabelBalance,
  formatPValue,
  type EvaluateOptions,
  type EvaluationResult,
  type GroupEvaluation,
  type ClassifyOptions,
  type ClassificationResult,
} from './protocol.js';
