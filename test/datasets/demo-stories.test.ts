import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO_TASKS,
  answerFor,
  countWords,
  generateStories,
  scrambleWords,
  taskPrompt,
  trainingDocuments,
} from '../../src/datasets/demo-stories.js';
import { Rng } from '../../src/util/rng.js';

// PROTOCOL §3, copied from the spec.
const PROTOCOL_TASKS: Record<string, string[]> = {
  continuation: ['How can the story be continued?', 'Which could be a continuation of the story?'],
  counting: ['How many words are in the story?', 'Count the number of words in the story.'],
  semantic: ['What is the main idea of the story?', 'Who is the subject of the story?'],
};

test('the six task prompts are exactly the protocol strings, grouped as the protocol groups them', () => {
  assert.equal(DEMO_TASKS.length, 6);
  for (const [group, prompts] of Object.entries(PROTOCOL_TASKS)) {
    assert.deepEqual(DEMO_TASKS.filter((t) => t.group === group).map((t) => t.prompt).sort(), [...prompts].sort());
  }
  for (const t of DEMO_TASKS) {
    assert.match(t.key, /^(continuation|counting|semantic)_prompt_[12]$/);
    assert.equal(t.key.split('_')[0], t.group);
  }
});

test('stories are deterministic per seed and differ across seeds', () => {
  assert.deepEqual(generateStories(5, 40), generateStories(5, 40));
  const a = generateStories(5, 40).map((s) => s.text);
  const b = generateStories(6, 40).map((s) => s.text);
  assert.ok(a.filter((t, i) => t === b[i]).length < 3);
  assert.ok(new Set(a).size > 35, 'stories of one seed repeat');
});

test('stories have the promised shape', () => {
  const stories = generateStories(20240611, 400);
  const plots = new Set<string>();
  const words = new Set<string>();
  for (const s of stories) {
    assert.equal(s.text, s.sentences.join(' '));
    assert.ok(s.sentences.length >= 3 && s.sentences.length <= 8, `${s.sentences.length} sentences`);
    const n = s.text.split(/\s+/).length;
    assert.ok(n >= 40 && n <= 120, `${n} words: ${s.text}`);
    assert.ok(!/\s\s|\n/.test(s.text), 'story with double spaces or newlines');
    assert.ok(s.text.includes(s.protagonist));
    assert.match(s.text, /"[^"]+"/, 'story without dialogue');
    for (const sentence of [...s.sentences, s.next]) assert.match(sentence, /^[A-Z].*[.!?"]$/);
    assert.ok(!s.sentences.includes(s.next));
    plots.add(s.plot);
    for (const w of s.text.toLowerCase().match(/[a-z']+/g) ?? []) words.add(w);
  }
  assert.equal(plots.size, 7);
  assert.ok(words.size >= 200 && words.size <= 800, `vocabulary of ${words.size} words`);
});

test('answers: word counts are right, subjects and continuations fit the story', () => {
  const byGroup = (g: string, i = 0) => DEMO_TASKS.filter((t) => t.group === g)[i]!;
  for (const s of generateStories(99, 200)) {
    // Count independently: runs of non-space characters (the text has single spaces only).
    let count = 0;
    let inWord = false;
    for (const ch of s.text) {
      if (ch === ' ') inWord = false;
      else if (!inWord) {
        inWord = true;
        count++;
      }
    }
    assert.equal(answerFor(s, byGroup('counting', 0)), String(count));
    assert.equal(answerFor(s, byGroup('counting', 1)), String(count));
    assert.equal(countWords(s.text), count);
    const who = DEMO_TASKS.find((t) => t.prompt === 'Who is the subject of the story?')!;
    assert.ok(answerFor(s, who).startsWith(`The story is about ${s.protagonist}, `));
    const idea = DEMO_TASKS.find((t) => t.prompt === 'What is the main idea of the story?')!;
    assert.match(answerFor(s, idea), /^The main idea is that .+\.$/);
    assert.equal(answerFor(s, byGroup('continuation', 1)), s.next);
  }
});

test('scrambling keeps the words and protocol prompts have the protocol layout', () => {
  const s = generateStories(3, 1)[0]!;
  const scrambled = scrambleWords(s.text, new Rng(1));
  assert.notEqual(scrambled, s.text);
  assert.deepEqual(scrambled.split(' ').sort(), s.text.split(' ').sort());
  assert.equal(taskPrompt('S', 'T', 'base'), 'S\n\nT\n\n');
  assert.equal(taskPrompt('S', 'T', 'scramble'), 'S\n\nT\n\n');
  assert.equal(taskPrompt('S', 'T', 'rev'), 'T\n\nS\n\n');
  assert.equal(taskPrompt('S', 'T', 'scramble_rev'), 'T\n\nS\n\n');
});

test('training documents: deterministic, every prompt shape present, answers after the prompt', () => {
  const docs = trainingDocuments(8, 600);
  assert.deepEqual(docs, trainingDocuments(8, 600));
  const prompts = DEMO_TASKS.map((t) => t.prompt);
  let plain = 0;
  let taskFirst = 0;
  let storyFirst = 0;
  for (const d of docs) {
    const parts = d.split('\n\n');
    if (parts.length === 1) {
      plain++;
      continue;
    }
    assert.equal(parts.length, 3, d);
    if (prompts.includes(parts[0]!)) taskFirst++;
    else if (prompts.includes(parts[1]!)) storyFirst++;
    else assert.fail(`no protocol task in ${d}`);
    assert.ok(parts[2]!.length > 0);
  }
  for (const n of [plain, taskFirst, storyFirst]) assert.ok(n > 60, `${plain} ${taskFirst} ${storyFirst}`);
});
