/**
 * The committed demo model (assets/demo-model/, built by tools/demo/build.sh): its tokenizer
 * loads in @huggingface/tokenizers and round-trips fresh stories, and its checkpoint is an HF
 * llama checkpoint with the expected tensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import {
  DEMO_TASKS,
  PROMPT_VARIANTS,
  generateStories,
  scrambleWords,
  taskPrompt,
} from '../../src/datasets/demo-stories.js';
import { Rng } from '../../src/util/rng.js';

const dir = fileURLToPath(new URL('../../../assets/demo-model/', import.meta.url));
const readJson = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(dir + name, 'utf8')) as Record<string, unknown>;

const config = readJson('config.json');
const tokenizerConfig = readJson('tokenizer_config.json');
const tokenizer = new Tokenizer(readJson('tokenizer.json'), tokenizerConfig);

test('tokenizer: BOS <s> = id 1 is prepended, ids match config.json', () => {
  assert.equal(tokenizer.token_to_id('<s>'), 1);
  assert.equal(tokenizerConfig.bos_token, '<s>');
  assert.equal(tokenizerConfig.add_bos_token, true);
  assert.equal(config.bos_token_id, 1);
  assert.equal(config.eos_token_id, tokenizer.token_to_id('</s>'));
  assert.equal(config.pad_token_id, tokenizer.token_to_id('<pad>'));
  assert.equal(config.vocab_size, tokenizer.get_vocab(true).size);
  const withBos = tokenizer.encode('Once upon a time').ids;
  const without = tokenizer.encode('Once upon a time', { add_special_tokens: false }).ids;
  assert.equal(withBos[0], 1);
  assert.deepEqual(withBos.slice(1), without);
  assert.ok(!without.includes(1));
});

test('tokenizer round-trips fresh stories in every prompt shape, digits one per token', () => {
  const rng = new Rng(777);
  let tokens = 0;
  let words = 0;
  for (const s of generateStories(424242, 60)) {
    for (const task of DEMO_TASKS) {
      for (const variant of PROMPT_VARIANTS) {
        const story = variant.startsWith('scramble') ? scrambleWords(s.text, rng) : s.text;
        const text = taskPrompt(story, task.prompt, variant) + '57';
        const ids = tokenizer.encode(text).ids;
        assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), text);
        assert.equal(tokenizer.decode(ids), '<s>' + text);
      }
    }
    tokens += tokenizer.encode(s.text, { add_special_tokens: false }).ids.length;
    words += s.text.split(' ').length;
  }
  // Words of the story vocabulary are whole tokens: about one token per word plus punctuation.
  assert.ok(tokens / words < 1.5, `${(tokens / words).toFixed(2)} tokens per word`);
  const digits = tokenizer.encode('There are 120 words.', { add_special_tokens: false }).tokens;
  assert.deepEqual(digits.filter((t: string) => /\d/.test(t)), ['1', '2', '0']);
  // A prompt ends in "\n\n"; its tokens must be those that precede every kind of answer.
  const tail = (text: string, n: number): number[] => tokenizer.encode(text).ids.slice(-n);
  const nl = tail('Story.\n\nHow many words are in the story?\n\n', 2);
  assert.deepEqual(nl.map((id) => tokenizer.decode([id])), ['\n', '\n']);
  assert.deepEqual(tail('Q?\n\n57', 4).slice(0, 2), nl);
  assert.deepEqual(tail('Q?\n\nThe', 3).slice(0, 2), nl);
  assert.equal(tokenizer.decode(tokenizer.encode('Odd: ü ß 中 \t  x').ids, { skip_special_tokens: true }), 'Odd: ü ß 中 \t  x');
});

test('config.json is an HF llama config', () => {
  assert.equal(config.model_type, 'llama');
  assert.deepEqual(config.architectures, ['LlamaForCausalLM']);
  for (const key of [
    'hidden_size', 'intermediate_size', 'num_attention_heads', 'num_key_value_heads', 'num_hidden_layers',
    'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'vocab_size',
  ]) {
    assert.equal(typeof config[key], 'number', key);
  }
  assert.ok((config.num_hidden_layers as number) >= 4);
  assert.equal(typeof config.tie_word_embeddings, 'boolean');
  assert.ok(['float32', 'bfloat16'].includes(config.torch_dtype as string));
  const gen = readJson('generation_config.json');
  assert.equal(gen.bos_token_id, config.bos_token_id);
  assert.equal(gen.eos_token_id, config.eos_token_id);
});

test('model.safetensors holds exactly the llama tensors, with the shapes config.json implies', () => {
  const path = dir + 'model.safetensors';
  const buf = readFileSync(path);
  assert.ok(statSync(path).size <= 20 * 1024 * 1024, 'checkpoint over 20 MB');
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  delete header.__metadata__;
  const d = config.hidden_size as number;
  const f = config.intermediate_size as number;
  const v = config.vocab_size as number;
  const heads = config.num_attention_heads as number;
  const kv = config.num_key_value_heads as number;
  const hd = (config.head_dim as number | undefined) ?? d / heads;
  const expected: Record<string, number[]> = {
    'model.embed_tokens.weight': [v, d],
    'model.norm.weight': [d],
  };
  if (!config.tie_word_embeddings) expected['lm_head.weight'] = [v, d];
  for (let i = 0; i < (config.num_hidden_layers as number); i++) {
    const p = `model.layers.${i}.`;
    expected[p + 'self_attn.q_proj.weight'] = [heads * hd, d];
    expected[p + 'self_attn.k_proj.weight'] = [kv * hd, d];
    expected[p + 'self_attn.v_proj.weight'] = [kv * hd, d];
    expected[p + 'self_attn.o_proj.weight'] = [d, heads * hd];
    expected[p + 'mlp.gate_proj.weight'] = [f, d];
    expected[p + 'mlp.up_proj.weight'] = [f, d];
    expected[p + 'mlp.down_proj.weight'] = [d, f];
    expected[p + 'input_layernorm.weight'] = [d];
    expected[p + 'post_attention_layernorm.weight'] = [d];
  }
  assert.deepEqual(Object.keys(header).sort(), Object.keys(expected).sort());
  const bytesPer: Record<string, number> = { F32: 4, BF16: 2 };
  const spans: [number, number][] = [];
  for (const [name, info] of Object.entries(header)) {
    assert.deepEqual(info.shape, expected[name], name);
    assert.ok(info.dtype in bytesPer, `${name}: dtype ${info.dtype}`);
    const n = info.shape.reduce((a, b) => a * b, 1);
    assert.equal(info.data_offsets[1] - info.data_offsets[0], n * bytesPer[info.dtype]!, name);
    spans.push(info.data_offsets);
  }
  // The data section is exactly the tensors, back to back, after the header.
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [s, e] of spans) {
    assert.equal(s, at);
    at = e;
  }
  assert.equal(8 + headerLen + at, buf.length);
  // Trained, not freshly initialised: the norms moved away from their initial ones.
  const norm = header['model.norm.weight']!;
  const start = 8 + headerLen + norm.data_offsets[0];
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + d * 4));
  assert.ok(w.some((x) => Math.abs(x - 1) > 0.05));
});

test('training.json records a real training run', () => {
  const t = readJson('training.json');
  assert.equal(t.vocab_size, config.vocab_size);
  assert.ok(Math.abs((t.ln_vocab_size as number) - Math.log(config.vocab_size as number)) < 1e-3);
  assert.ok((t.heldout_loss as number) < (t.ln_vocab_size as number) / 2, `held-out loss ${t.heldout_loss}`);
  const curve = t.train_loss_curve as { step: number; train_loss: number }[];
  assert.ok(curve.length >= 10);
  assert.ok(curve[curve.length - 1]!.train_loss < curve[0]!.train_loss);
  assert.ok(Array.isArray(t.greedy_samples) && (t.greedy_samples as unknown[]).length > 0);
});
