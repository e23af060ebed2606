/**
 * Step 1 of the demo model's build (tools/demo/build.sh): generate the training and held-out
 * documents, train the tokenizer on the training documents, and tokenize both sets into flat
 * uint16 files (each document = BOS … EOS) that tools/demo/train.py reads without needing any
 * tokenizer library. Also writes a few pre-tokenized prompts for the trainer's greedy samples.
 *
 *   node dist/tools/demo/make-corpus.js --model-dir assets/demo-model --corpus-dir .cache/demo-corpus
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import {
  DEMO_TASKS,
  generateStories,
  taskPrompt,
  trainingDocuments,
  type DemoTask,
} from '../../src/datasets/demo-stories.js';
import { EOS_ID, trainByteLevelBpe } from './build-tokenizer.js';

const { values: args } = parseArgs({
  options: {
    'model-dir': { type: 'string', default: 'assets/demo-model' },
    'corpus-dir': { type: 'string', default: '.cache/demo-corpus' },
    seed: { type: 'string', default: '1' },
    docs: { type: 'string', default: '40000' },
    'heldout-seed': { type: 'string', default: '1000003' },
    'heldout-docs': { type: 'string', default: '1000' },
    'vocab-size': { type: 'string', default: '1024' },
    'max-length': { type: 'string', default: '256' },
  },
});

const modelDir = args['model-dir'] as string;
const corpusDir = args['corpus-dir'] as string;
const seed = Number(args.seed);
const heldoutSeed = Number(args['heldout-seed']);
const nDocs = Number(args.docs);
const nHeldout = Number(args['heldout-docs']);
const maxLength = Number(args['max-length']);
mkdirSync(modelDir, { recursive: true });
mkdirSync(corpusDir, { recursive: true });

const t0 = Date.now();
const train = trainingDocuments(seed, nDocs);
const heldout = trainingDocuments(heldoutSeed, nHeldout);

const { tokenizerJson, tokenizerConfig } = trainByteLevelBpe(train, {
  vocabSize: Number(args['vocab-size']),
  minFrequency: 2,
  maxLength,
});
writeFileSync(join(modelDir, 'tokenizer.json'), JSON.stringify(tokenizerJson, null, 2) + '\n');
writeFileSync(join(modelDir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2) + '\n');
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
const vocabSize = tokenizer.get_vocab(true).size;

function tokenizeDocs(docs: readonly string[]): { ids: Uint16Array; longest: number; roundTripFailures: number } {
  const out: number[] = [];
  let longest = 0;
  let roundTripFailures = 0;
  for (const doc of docs) {
    const ids = tokenizer.encode(doc).ids; // starts with BOS (post-processor)
    if (tokenizer.decode(ids, { skip_special_tokens: true }) !== doc) roundTripFailures++;
    out.push(...ids, EOS_ID);
    longest = Math.max(longest, ids.length + 1);
  }
  return { ids: Uint16Array.from(out), longest, roundTripFailures };
}

const trainIds = tokenizeDocs(train);
const heldoutIds = tokenizeDocs(heldout);
if (trainIds.roundTripFailures + heldoutIds.roundTripFailures > 0) {
  throw new Error(`tokenizer does not round-trip ${trainIds.roundTripFailures + heldoutIds.roundTripFailures} documents`);
}
const writeU16 = (path: string, a: Uint16Array): void =>
  writeFileSync(path, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
writeU16(join(corpusDir, 'train.bin'), trainIds.ids);
writeU16(join(corpusDir, 'heldout.bin'), heldoutIds.ids);

// Prompts for the trainer's greedy samples: stories it has never seen (a third seed).
const fresh = generateStories(heldoutSeed + 1, 4);
const byKey = (key: string): DemoTask => DEMO_TASKS.find((t) => t.key === key) as DemoTask;
const samplePrompts = [
  fresh[0]!.sentences[0] as string,
  fresh[1]!.sentences.slice(0, 2).join(' '),
  taskPrompt(fresh[2]!.text, byKey('semantic_prompt_2').prompt, 'base'),
  taskPrompt(fresh[2]!.text, byKey('continuation_prompt_1').prompt, 'base'),
  taskPrompt(fresh[3]!.text, byKey('counting_prompt_1').prompt, 'rev'),
];
const samples = samplePrompts.map((prompt) => ({ prompt, ids: tokenizer.encode(prompt).ids }));

const vocabById: string[] = [];
for (const [tok, id] of tokenizer.get_vocab(true)) vocabById[id] = tok;
const meta = {
  seed,
  heldout_seed: heldoutSeed,
  docs: nDocs,
  heldout_docs: nHeldout,
  vocab_size: vocabSize,
  train_tokens: trainIds.ids.length,
  heldout_tokens: heldoutIds.ids.length,
  longest_document_tokens: Math.max(trainIds.longest, heldoutIds.longest),
  bos_token_id: tokenizer.token_to_id('<s>'),
  eos_token_id: tokenizer.token_to_id('</s>'),
  pad_token_id: tokenizer.token_to_id('<pad>'),
  samples,
  // The byte-level strings of every id, so the trainer can decode its samples without a tokenizer library.
  id_to_token: vocabById,
};
writeFileSync(join(corpusDir, 'corpus.json'), JSON.stringify(meta) + '\n');
console.log(
  `corpus: ${nDocs} training docs (${trainIds.ids.length} tokens), ${nHeldout} held-out docs ` +
    `(${heldoutIds.ids.length} tokens), vocab ${vocabSize}, longest doc ${meta.longest_document_tokens} tokens, ` +
    `${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
