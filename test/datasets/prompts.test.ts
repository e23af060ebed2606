import assert from 'node:assert/strict';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  appendGeneratedText,
  formatPrompts,
  mmluPrompt,
  mmluPrompts,
  phi3Space,
  scrambleStory,
  tinystoriesPrompts,
  type MmluRow,
} from '../../src/datasets/index.js';
import { mulberry32, shuffled } from '../../src/util/rng.js';
import { UserError } from '../../src/util/errors.js';

// Synthetic stories, written for these tests.
const STORY_A = 'Pip the frog found a red kite. He flew it over the pond. The wind was kind.';
const STORY_B = 'Mara baked  bread with her grandpa. They laughed when the dough rose too high!';

const TASKS: [string, string][] = [
  ['continuation_prompt_1', 'How can the story be continued?'],
  ['continuation_prompt_2', 'Which could be a continuation of the story?'],
  ['counting_prompt_1', 'How many words are in the story?'],
  ['counting_prompt_2', 'Count the number of words in the story.'],
  ['semantic_prompt_1', 'What is the main idea of the story?'],
  ['semantic_prompt_2', 'Who is the subject of the story?'],
];

const sortedWords = (s: string): string[] => s.split(' ').sort();

describe('rng', () => {
  it('is reproducible by seed and shuffles into a permutation', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    for (let i = 0; i < 5; i++) assert.equal(a.next(), b.next());
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s = shuffled(items, mulberry32(1));
    assert.notDeepEqual(s, items);
    assert.deepEqual([...s].sort((x, y) => x - y), items);
    assert.deepEqual(items, Array.from({ length: 50 }, (_, i) => i));
  });

  it('gives uniform-looking draws in [0, 1)', () => {
    const r = mulberry32(123);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      assert.ok(x >= 0 && x < 1);
      sum += x;
    }
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
  });
});

describe('tinystoriesPrompts (intended)', () => {
  const rows = tinystoriesPrompts([STORY_A, { text: STORY_B }], { seed: 3 });

  it('gives 24 prompts per story in task order, base/rev/scramble/scramble_rev', () => {
    assert.equal(rows.length, 48);
    const expectedTypes = TASKS.flatMap(([k]) => ['base', 'rev', 'scramble', 'scramble_rev'].map((v) => `${k}_${v}`));
    assert.deepEqual(rows.slice(0, 24).map((r) => r.promptType), expectedTypes);
    assert.deepEqual(rows.slice(24).map((r) => r.promptType), expectedTypes);
    assert.deepEqual(rows.map((r) => r.storyIndex), [...Array(24).fill(0), ...Array(24).fill(1)]);
    assert.deepEqual(
      [...new Set(rows.map((r) => r.task))],
      ['continuation', 'counting', 'semantic'],
    );
    assert.equal(rows.find((r) => r.promptType === 'counting_prompt_2_rev')!.task, 'counting');
  });

  it('writes base and rev exactly, always with the original story', () => {
    for (const [key, task] of TASKS) {
      const base = rows.find((r) => r.storyIndex === 0 && r.promptType === `${key}_base`)!;
      const rev = rows.find((r) => r.storyIndex === 0 && r.promptType === `${key}_rev`)!;
      assert.equal(base.prompt, STORY_A + '\n\n' + task + '\n\n');
      assert.equal(rev.prompt, task + '\n\n' + STORY_A + '\n\n');
    }
  });

  it('scrambles a permutation of the words split on single spaces, shared by scramble and scramble_rev', () => {
    for (const [key, task] of TASKS) {
      const sc = rows.find((r) => r.storyIndex === 1 && r.promptType === `${key}_scramble`)!;
      const scRev = rows.find((r) => r.storyIndex === 1 && r.promptType === `${key}_scramble_rev`)!;
      const suffix = '\n\n' + task + '\n\n';
      assert.ok(sc.prompt.endsWith(suffix));
      const scrambled = sc.prompt.slice(0, -suffix.length);
      assert.equal(scRev.prompt, task + '\n\n' + scrambled + '\n\n');
      // The double space in STORY_B yields an empty word that survives the shuffle.
      assert.deepEqual(sortedWords(scrambled), sortedWords(STORY_B));
      assert.notEqual(scrambled, STORY_B);
    }
  });

  it('is reproducible for a seed and changes with it', () => {
    assert.deepEqual(tinystoriesPrompts([STORY_A], { seed: 3 }), tinystoriesPrompts([STORY_A], { seed: 3 }));
    assert.notDeepEqual(tinystoriesPrompts([STORY_A], { seed: 3 }), tinystoriesPrompts([STORY_A], { seed: 4 }));
  });

  it('skips prompts over the character limit, counted in code points', () => {
    const long = 'word '.repeat(300).trim(); // 1499 characters
    const kept = tinystoriesPrompts([long], { seed: 1 });
    assert.equal(kept.length, 0);
    const fits = 'x'.repeat(1500 - '\n\nHow can the story be continued?\n\n'.length);
    const out = tinystoriesPrompts([fits], { seed: 1 });
    assert.ok(out.some((r) => r.promptType === 'continuation_prompt_1_base'));
    assert.ok(!out.some((r) => r.promptType === 'continuation_prompt_2_base')); // a longer task text
    // An emoji is one character to Python but two UTF-16 units.
    const emoji = '🐸'.repeat(1500 - '\n\nHow can the story be continued?\n\n'.length);
    assert.ok(tinystoriesPrompts([emoji], { seed: 1 }).some((r) => r.promptType === 'continuation_prompt_1_base'));
  });

  it('skipping does not change the scrambles of the prompts kept', () => {
    const all = tinystoriesPrompts([STORY_A, STORY_B], { seed: 9 });
    const tight = tinystoriesPrompts([STORY_A, STORY_B], { seed: 9, maxChars: STORY_A.length + 40 });
    assert.ok(tight.length < all.length && tight.length > 0);
    for (const r of tight) assert.equal(r.prompt, all.find((a) => a.storyIndex === r.storyIndex && a.promptType === r.promptType)!.prompt);
  });
});

describe('tinystoriesPrompts (reference quirk: accumulating scramble)', () => {
  it('uses the previous scramble as the story from the second task on', () => {
    const rng = mulberry32(5);
    const rows = tinystoriesPrompts([STORY_A], { rng, referenceQuirks: true });
    assert.equal(rows.length, 24);
    // Rebuild the expected sequence independently: each task scrambles the previous story.
    const check = mulberry32(5);
    let story = STORY_A;
    for (const [key, task] of TASKS) {
      const get = (v: string) => rows.find((r) => r.promptType === `${key}_${v}`)!.prompt;
      assert.equal(get('base'), `${story}\n\n${task}\n\n`);
      assert.equal(get('rev'), `${task}\n\n${story}\n\n`);
      story = shuffled(story.split(' '), check).join(' ');
      assert.equal(get('scramble'), `${story}\n\n${task}\n\n`);
      assert.equal(get('scramble_rev'), `${task}\n\n${story}\n\n`);
    }
    // From the second task on base is no longer the original story…
    assert.notEqual(rows.find((r) => r.promptType === 'continuation_prompt_2_base')!.prompt, `${STORY_A}\n\n${TASKS[1]![1]}\n\n`);
    // …but each is still a permutation of its words.
    for (const r of rows) {
      const task = TASKS.find(([k]) => k === r.taskKey)![1];
      const story = r.variant === 'base' || r.variant === 'scramble' ? r.prompt.slice(0, -(task.length + 4)) : r.prompt.slice(task.length + 2, -2);
      assert.deepEqual(sortedWords(story), sortedWords(STORY_A));
    }
  });

  it('differs from the intended prompts only where the quirk acts', () => {
    const on = tinystoriesPrompts([STORY_A], { seed: 11, referenceQuirks: true });
    const off = tinystoriesPrompts([STORY_A], { seed: 11 });
    const same = on.filter((r, i) => r.prompt === off[i]!.prompt).map((r) => r.promptType);
    // Identical: the first task's four prompts (same first scramble), nothing after.
    assert.deepEqual(same, ['continuation_prompt_1_base', 'continuation_prompt_1_rev', 'continuation_prompt_1_scramble', 'continuation_prompt_1_scramble_rev']);
    // The intended scramble of every task comes from the original story with the same stream position.
    const rng = mulberry32(11);
    for (const [key] of TASKS) assert.equal(off.find((r) => r.promptType === `${key}_scramble`)!.prompt.split('\n\n')[0], scrambleStory(STORY_A, rng));
  });
});

describe('MMLU prompts', () => {
  const row: MmluRow = {
    question: 'Which planet in the invented Zorb system has two moons?',
    subject: 'synthetic_astronomy',
    choices: ['Alpha', 'Beta', 'Gamma', 'Delta'],
    answer: 2,
  };
  const choices = 'A. Alpha\nB. Beta\nC. Gamma\nD. Delta\n';
  const q = 'Question: Which planet in the invented Zorb system has two moons?\n\n';

  it('base', () => {
    assert.equal(mmluPrompt(row, 'base'), 'Subject: synthetic_astronomy.\n\n' + q + 'Choices:\n' + choices + '\nAnswer: ');
  });
  it('instruct', () => {
    assert.equal(
      mmluPrompt(row, 'instruct'),
      'The following is a multiple choice question about synthetic_astronomy. Reply only with the correct option.\n\n' + q + 'Choices:\n' + choices + '\nAnswer: ',
    );
  });
  it('thinking (no blank line before "Explaination: ")', () => {
    assert.equal(
      mmluPrompt(row, 'thinking'),
      'The following is a multiple choice question about synthetic_astronomy. Reply with a short 1 phrase explaination THEN the correct option.\n\n' +
        q + 'Choices:\n' + choices + 'Explaination: ',
    );
  });
  it('humble', () => {
    assert.equal(
      mmluPrompt(row, 'humble'),
      'The following is a multiple choice question about synthetic_astronomy. Reply only with the correct option, if you are unsure about the answer, reply with a completly random option.\n\n' +
        q + 'Choices:\n' + choices + '\nAnswer: ',
    );
  });

  it('skips questions over 1000 characters and keeps gold letters', () => {
    const rows: MmluRow[] = [row, { ...row, question: 'q'.repeat(1001), answer: 0 }, { ...row, question: 'q'.repeat(1000), answer: 3 }];
    const out = mmluPrompts(rows, 'instruct');
    assert.deepEqual(out.map((r) => [r.index, r.gold]), [[0, 'C'], [2, 'D']]);
    assert.equal(mmluPrompts(rows, 'base', { maxChars: 2000 }).length, 3);
    assert.throws(() => mmluPrompts(rows, 'chatty' as never), UserError);
  });
});

describe('formatPrompts', () => {
  it('crosses formats with topics, format-major, prompt = format + topic', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'el-fmt-'));
    const file = join(dir, 'topics.json');
    await writeFile(file, JSON.stringify({ formats: ['Sing about ', 'Draw '], topics: ['a kettle', 'an owl', 'a bridge'] }));
    const out = await formatPrompts(file);
    assert.deepEqual(out.map((r) => r.prompt), ['Sing about a kettle', 'Sing about an owl', 'Sing about a bridge', 'Draw a kettle', 'Draw an owl', 'Draw a bridge']);
    assert.deepEqual(out[4], { format: 'Draw ', topic: 'an owl', prompt: 'Draw an owl' });
    await writeFile(file, '{"formats": "x"}');
    await assert.rejects(formatPrompts(file), UserError);
  });

  it('gives the 546 prompts of PROTOCOL §5 from the shipped list', async () => {
    const out = await formatPrompts(join(REPO_ROOT, 'assets', 'protocol', 'format-topics.json'));
    assert.equal(out.length, 546);
    assert.equal(new Set(out.map((r) => r.format)).size, 3);
  });
});

describe('phi-3 space quirk', () => {
  it('inserts a space only for the reference model name phi-3', () => {
    assert.equal(phi3Space('phi-3'), ' ');
    assert.equal(phi3Space('microsoft/Phi-3-mini-4k-instruct'), ' ');
    assert.equal(phi3Space('gpt2'), '');
    assert.equal(phi3Space('microsoft/Phi-3-medium-4k-instruct'), '');
    assert.equal(appendGeneratedText('Hi', ' there', 'phi-3'), 'Hi  there');
    assert.equal(appendGeneratedText('Hi', ' there', 'gpt2'), 'Hi there');
  });
});
