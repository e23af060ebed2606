/** The datasets room: prompt sources of the protocol experiments (TinyStories, MMLU, formats, demo stories) and file readers. */
export { parseCsv, csvRecords } from './csv.js';
export {
  readDataFile,
  readDataFiles,
  readParquet,
  readJsonl,
  readJson,
  readCsv,
  readTinyStoriesTxt,
  localSplitFiles,
  END_OF_TEXT,
  type FileRows,
  type ReadOptions,
  type Row,
} from './readers.js';
export { resolveSourceFiles, type DatasetSpec, type LoadOptions } from './source.js';
export {
  loadTinyStories,
  tinystoriesPrompts,
  scrambleStory,
  pythonLength,
  TINYSTORIES,
  TINYSTORIES_TASKS,
  type TinyStory,
  type TinyStoriesPrompt,
  type TinyStoriesPromptOptions,
  type TinyStoriesVariant,
} from './tinystories.js';
export {
  loadMmlu,
  mmluPrompt,
  mmluPrompts,
  formatChoices,
  letterOf,
  MMLU,
  MMLU_PROMPT_TYPES,
  type MmluPrompt,
  type MmluPromptType,
  type MmluRow,
} from './mmlu.js';
export { formatPrompts, type FormatPrompt, type FormatTopics } from './formats.js';
export { extractAnswer, isCorrect, ANSWER_PATTERN_COUNT, type AnswerLetter, type ExtractOptions, type CorrectnessOptions } from './answer.js';
export { phi3Space, appendGeneratedText } from './quirks.js';
