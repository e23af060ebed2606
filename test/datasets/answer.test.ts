import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractAnswer, isCorrect, ANSWER_PATTERN_COUNT, mmluPrompt } from '../../src/datasets/index.js';

// [completion, expected letter] — written for these tests, covering each family of phrasings.
const CASES: [string, string | null][] = [
  ['B', 'B'],
  [' c \n', 'C'],
  ['Answer: D', 'D'],
  ['answer:b', 'B'],
  ['The answer is C.', 'C'],
  ['the answer is (A)', 'A'],
  ['Answer is B because of gravity', 'B'],
  ['The correct answer is D', 'D'],
  ['Correct answer: A', 'A'],
  ['Final answer: C', 'C'],
  ['I think the correct answer would be B.', 'B'],
  ['D is correct, since 4 > 3.', 'D'],
  ['C is the correct answer', 'C'],
  ['B) is the right answer', 'B'],
  ['I choose A', 'A'],
  ["I'd pick option C", 'C'],
  ['I would select D.', 'D'],
  ["Let's go with B.", 'B'],
  ['Option C', 'C'],
  ['option: d', 'D'],
  ['Choice B', 'B'],
  ['The correct option is A.', 'A'],
  ['My answer is D', 'D'],
  ['Response: C', 'C'],
  ['It must be B.', 'B'],
  ['Therefore, D.', 'D'],
  ['Thus C', 'C'],
  ['So, A', 'A'],
  ['x = C', 'C'],
  ['… → B', 'B'],
  ['(D)', 'D'],
  ['pick [B] now', 'B'],
  ['**C** Paris', 'C'],
  ['\\boxed{A}', 'A'],
  ['Paris.\nB. Paris', 'B'],
  ['B) Paris', 'B'],
  // Patterns are tried in list order, not text order: the explicit statement wins over the earlier (A).
  ['(A) looks tempting but the answer is C', 'C'],
  // The letter slot does not take the first letter of a word.
  ['Answer: Because the sun is hot', null],
  ['Therefore, a cat chased a mouse', null],
  // Fallback: one standalone letter.
  ['Mostly D, I guess', 'D'],
  ['the value under d', 'D'],
  // Every standalone letter repeated and no phrasing: undecidable.
  ['A or B, B or A', null],
  // The fallback works on the upper-cased text, so the article "a" counts as a letter (protocol order).
  ['Therefore, a cat would purr', 'A'],
  ['', null],
  ['Paris is the capital of France', null],
  // Two letters each once: the first of A..D wins, as in the protocol's order.
  ['go A then B', 'A'],
];

describe('extractAnswer', () => {
  it('has about fifty patterns', () => {
    assert.ok(ANSWER_PATTERN_COUNT >= 45 && ANSWER_PATTERN_COUNT <= 60, String(ANSWER_PATTERN_COUNT));
  });

  for (const [text, expected] of CASES) {
    it(`${JSON.stringify(text)} -> ${expected}`, () => {
      assert.equal(extractAnswer(text), expected);
    });
  }

  it('quirk fallback counts every occurrence of the character, as the reference', () => {
    // "CAT" holds an A; intended: the standalone D is the only letter; quirk: D occurs twice (D and DOG)…
    assert.equal(extractAnswer('cat D dog'), 'D');
    // …and A (in CAT) occurs once, so the reference's count picks A.
    assert.equal(extractAnswer('cat D dog', { referenceQuirks: true }), 'A');
  });

  it('quirk mode leaves out the choice-layout patterns', () => {
    const text = 'A. red\nB. blue\nthe sky is blue';
    assert.equal(extractAnswer(text), 'A');
    // Without layout patterns and counting characters: A once (in "A."), B twice (B. and BLUE): A; so
    // build a case where they differ.
    const text2 = 'B. red\nA. blue';
    assert.equal(extractAnswer(text2), 'B');
    assert.equal(extractAnswer(text2, { referenceQuirks: true }), 'A');
  });
});

describe('isCorrect', () => {
  const row = { question: 'Which colour is a clear daytime sky?', subject: 'synthetic_facts', choices: ['green', 'blue', 'red', 'black'], answer: 1 };
  const prompt = mmluPrompt(row, 'base');

  it('judges the completion alone by default', () => {
    assert.equal(isCorrect(prompt, ' B', 1), true);
    assert.equal(isCorrect(prompt, ' B', 'B'), true);
    assert.equal(isCorrect(prompt, ' C', 1), false);
    assert.equal(isCorrect(prompt, ' blue sky', 1), false);
  });

  it('quirk: runs the extractor over prompt + completion', () => {
    // The prompt ends in "Answer: ", so the completion's letter is found through the ANSWER: pattern…
    assert.equal(isCorrect(prompt, 'B', 1, { referenceQuirks: true }), true);
    // …and a completion without a letter is judged on the prompt text: differs from the intended mode.
    const p2 = 'Question: the answer is B?\n\nChoices:\nA. x\nB. y\nAnswer: ';
    assert.equal(isCorrect(p2, 'no idea', 1), false);
    assert.equal(isCorrect(p2, 'no idea', 1, { referenceQuirks: true }), true);
  });
});
