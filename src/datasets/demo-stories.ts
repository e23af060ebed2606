/**
 * Simple stories written by a program, with questions and programmatic answers for the three task
 * groups of the task-identification experiment (PROTOCOL §3). They exist so that the project can
 * train its own tiny demo model (tools/demo/) and so that the demo can draw fresh stories at run
 * time with a seed of its own: no data or checkpoint from elsewhere is needed.
 *
 * A story is a plot (lost toy, sharing, bravery, not giving up, kindness, saying sorry, an
 * adventure) told in 3–8 sentences and 40–120 words, with a main character, a friend or helper,
 * places, objects, and at least one line of dialogue (in double quotes). The vocabulary is a few hundred words.
 * Everything is drawn from a seeded PRNG, so (seed, index) fixes a story exactly.
 */
import { Rng } from '../util/rng.js';

export type DemoTaskGroup = 'continuation' | 'counting' | 'semantic';

export interface DemoTask {
  /** The protocol's task key; the prompt type label is `${key}_${variant}`. */
  readonly key: string;
  readonly group: DemoTaskGroup;
  /** Exactly the protocol's task string. */
  readonly prompt: string;
}

/** The six task prompts of PROTOCOL §3, verbatim. */
export const DEMO_TASKS: readonly DemoTask[] = [
  { key: 'continuation_prompt_1', group: 'continuation', prompt: 'How can the story be continued?' },
  { key: 'continuation_prompt_2', group: 'continuation', prompt: 'Which could be a continuation of the story?' },
  { key: 'counting_prompt_1', group: 'counting', prompt: 'How many words are in the story?' },
  { key: 'counting_prompt_2', group: 'counting', prompt: 'Count the number of words in the story.' },
  { key: 'semantic_prompt_1', group: 'semantic', prompt: 'What is the main idea of the story?' },
  { key: 'semantic_prompt_2', group: 'semantic', prompt: 'Who is the subject of the story?' },
];

export type PromptVariant = 'base' | 'rev' | 'scramble' | 'scramble_rev';
export const PROMPT_VARIANTS: readonly PromptVariant[] = ['base', 'rev', 'scramble', 'scramble_rev'];

export interface DemoStory {
  /** The story as one paragraph: sentences joined by single spaces. */
  readonly text: string;
  readonly sentences: readonly string[];
  /** A sentence that plausibly comes next (the answer to the continuation tasks). */
  readonly next: string;
  /** The main character's name (the answer to "Who is the subject of the story?"). */
  readonly protagonist: string;
  /** What the main character is, with an adjective, e.g. "a little girl". */
  readonly description: string;
  readonly plot: PlotKind;
  /** The moral, completing "The main idea is that ...". */
  readonly theme: string;
}

export type PlotKind = 'lost' | 'share' | 'brave' | 'try' | 'kind' | 'sorry' | 'adventure';

// --- word lists ----------------------------------------------------------------------------

interface Person {
  name: string;
  he: string;
  his: string;
  him: string;
  himself: string;
}

const GIRLS = ['Lily', 'Mia', 'Anna', 'Lucy', 'Emma', 'Zoe', 'Sara', 'Ella', 'Rosie', 'Daisy', 'Ruby', 'Molly', 'Amy', 'Kate'];
const BOYS = ['Tom', 'Ben', 'Sam', 'Max', 'Jack', 'Leo', 'Tim', 'Noah', 'Jake', 'Finn', 'Oliver', 'Pip', 'Bob', 'Joe'];
const HUMAN_KINDS = { girl: ['girl'], boy: ['boy'] } as const;
const ANIMALS = ['cat', 'dog', 'bunny', 'bird', 'bear', 'fox', 'mouse', 'frog', 'duck', 'puppy', 'kitten', 'squirrel', 'owl', 'turtle'];
const CHARACTER_ADJECTIVES = ['little', 'happy', 'kind', 'brave', 'curious', 'shy', 'small', 'friendly', 'funny', 'gentle', 'clever', 'young'];
const PLACES = ['park', 'forest', 'garden', 'farm', 'beach', 'town', 'village', 'meadow', 'yard', 'woods'];
const HOMES = ['a small house', 'a big tree', 'a cozy home', 'a little hole', 'a blue house', 'a nest'];
const ACTIVITIES = ['play', 'run', 'sing', 'dance', 'read books', 'draw pictures', 'jump', 'swim', 'climb trees', 'pick flowers'];
const COLORS = ['red', 'blue', 'green', 'yellow', 'pink', 'purple', 'orange', 'shiny', 'white', 'brown'];
const TOYS = ['ball', 'kite', 'doll', 'car', 'teddy bear', 'boat', 'truck', 'drum', 'hat', 'toy train'];
const FOUND = ['ball', 'box', 'shell', 'feather', 'stone', 'flower', 'key', 'coin', 'ring', 'book'];
const HIDING = ['under a big tree', 'behind the rocks', 'near the pond', 'in the tall grass', 'under a bush', 'next to the fence'];
const ROLL = ['rolled away', 'flew away in the wind', 'fell into the tall grass', 'rolled down the hill', 'went over the fence'];
const FEELINGS_GOOD = ['happy', 'glad', 'proud', 'excited'];
const SCARY = [
  { sees: 'a dark cave near the', thing: 'cave', inside: 'Inside the cave' },
  { sees: 'an old house near the', thing: 'house', inside: 'Inside the house' },
  { sees: 'a deep hole near the', thing: 'hole', inside: 'At the bottom of the hole' },
];
const LOST_ANIMALS = ['bird', 'bunny', 'kitten', 'puppy', 'duck', 'mouse'];
const GOALS = [
  { want: 'climb the big tree', fail: 'slipped and fell down', win: 'reached the top of the tree', again: 'climbed the big tree' },
  { want: 'fly a kite', fail: 'watched the kite fall to the ground', win: 'made the kite fly high in the sky', again: 'flew the kite' },
  { want: 'build a tall tower of blocks', fail: 'saw the tower fall down', win: 'built a tower taller than a chair', again: 'built towers' },
  { want: 'ride a bike', fail: 'fell off the bike', win: 'rode the bike all the way to the park', again: 'rode the bike' },
  { want: 'catch a fish', fail: 'watched the fish swim away', win: 'caught a big fish', again: 'went fishing' },
  { want: 'jump over the puddle', fail: 'landed in the water with a splash', win: 'jumped over the puddle', again: 'jumped over puddles' },
];
const TROUBLES = [
  { why: 'had hurt a leg', says: 'I hurt my leg and I cannot walk home.', help: 'helped {F} walk home slowly' },
  { why: 'had no one to play with', says: 'Nobody wants to play with me.', help: 'asked {F} to play a game' },
  { why: 'was cold', says: 'I am so cold and I lost my hat.', help: 'gave {F} a warm {color} hat' },
  { why: 'was hungry', says: 'I am hungry and I have no food.', help: 'shared an apple with {F}' },
  { why: 'had lost the way home', says: 'I do not know how to get home.', help: 'showed {F} the way home' },
];
const TREASURES = ['shiny stones', 'old coins', 'toys', 'cookies', 'pretty shells', 'gold stars'];
const HELPERS = ['mom', 'dad', 'grandma', 'grandpa'];

const THEMES: Record<PlotKind, string> = {
  lost: 'friends help each other',
  share: 'sharing makes everyone happy',
  brave: 'being brave can help others',
  try: 'you should never give up',
  kind: 'it is good to be kind to others',
  sorry: 'it is good to say sorry',
  adventure: 'being curious can lead to fun adventures',
};
const PLOTS = Object.keys(THEMES) as PlotKind[];

// --- helpers -------------------------------------------------------------------------------

function article(phrase: string): string {
  return /^[aeiou]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function person(name: string, girl: boolean): Person {
  return girl
    ? { name, he: 'she', his: 'her', him: 'her', himself: 'herself' }
    : { name, he: 'he', his: 'his', him: 'him', himself: 'himself' };
}

interface Cast {
  p: Person;
  kind: string;
  adj: string;
  f: Person;
  fKind: string;
  place: string;
}

function drawCast(rng: Rng): Cast {
  const pGirl = rng.chance(0.5);
  const pName = rng.pick(pGirl ? GIRLS : BOYS);
  const fGirl = rng.chance(0.5);
  let fName = rng.pick(fGirl ? GIRLS : BOYS);
  while (fName === pName) fName = rng.pick(fGirl ? GIRLS : BOYS);
  const kindOf = (girl: boolean): string =>
    rng.chance(0.5) ? rng.pick(girl ? HUMAN_KINDS.girl : HUMAN_KINDS.boy) : rng.pick(ANIMALS);
  return {
    p: person(pName, pGirl),
    kind: kindOf(pGirl),
    adj: rng.pick(CHARACTER_ADJECTIVES),
    f: person(fName, fGirl),
    fKind: kindOf(fGirl),
    place: rng.pick(PLACES),
  };
}

/** A beat is one sentence; optional beats may be left out to vary the length. */
interface Beat {
  text: string;
  optional?: boolean;
}

function introBeats(rng: Rng, c: Cast): Beat[] {
  const who = article(`${c.adj} ${c.kind}`);
  const intro = rng.pick([
    `Once upon a time, there was ${who} named ${c.p.name}.`,
    `There once was ${who} called ${c.p.name}.`,
    `${c.p.name} was ${who} who lived in ${rng.pick(HOMES)} near the ${c.place}.`,
    `Once upon a time, in a ${rng.pick(['small', 'quiet', 'sunny', 'green'])} ${c.place}, there lived ${who} named ${c.p.name}.`,
  ]);
  const habit = rng.pick([
    `${cap(c.p.he)} loved to ${rng.pick(ACTIVITIES)} every day.`,
    `Every morning, ${c.p.he} went to the ${c.place} to ${rng.pick(ACTIVITIES)}.`,
    c.fKind === 'girl' || c.fKind === 'boy'
      ? `${c.p.name} had a good friend named ${c.f.name}.`
      : `${c.p.name} had a good friend named ${c.f.name}, who was ${article(c.fKind)}.`,
    `${cap(c.p.he)} liked the ${c.place} because it was full of ${rng.pick(['flowers', 'trees', 'birds', 'friends'])}.`,
  ]);
  return [{ text: intro }, { text: habit, optional: true }];
}

function plotBeats(kind: PlotKind, rng: Rng, c: Cast): { beats: Beat[]; epilogue: string } {
  const { p, f } = c;
  const P = p.name;
  const F = f.name;
  const color = rng.pick(COLORS);
  switch (kind) {
    case 'lost': {
      const toy = rng.pick(TOYS);
      const where = rng.pick(HIDING);
      return {
        beats: [
          { text: `One day, ${P} was playing with ${p.his} ${color} ${toy} in the ${c.place}.` },
          { text: `Suddenly, the ${toy} ${rng.pick(ROLL)}.` },
          { text: `${P} looked everywhere, but ${p.he} could not find it.` },
          { text: `${cap(p.he)} felt very sad and sat down.`, optional: true },
          { text: `Then ${F} came by and asked, "Why are you sad, ${P}?"` },
          { text: `${F} said, "Do not worry, I will help you find it!"` },
          { text: `They looked together, and at last ${F} found the ${toy} ${where}.` },
          { text: `${P} smiled and said, "Thank you, ${F}!"`, optional: true },
        ],
        epilogue: rng.pick([
          `From that day on, ${P} and ${F} were best friends.`,
          `The next day, they played with the ${toy} together in the ${c.place}.`,
        ]),
      };
    }
    case 'share': {
      const thing = rng.pick(FOUND);
      return {
        beats: [
          { text: `One day, ${P} found ${article(`${color} ${thing}`)} ${rng.pick(HIDING)}.` },
          { text: `${cap(p.he)} wanted to keep it all for ${p.himself}.`, optional: true },
          { text: `Then ${F} saw the ${thing} and said, "Wow, can I look at it too?"` },
          { text: `At first, ${P} did not want to share.` },
          { text: `But then ${p.he} saw that ${F} looked sad.`, optional: true },
          { text: `${P} said, "Okay, we can play with it together."` },
          { text: `They took turns and had lots of fun.` },
        ],
        epilogue: rng.pick([
          `${P} learned that sharing is more fun than playing alone.`,
          `After that, ${P} always shared ${p.his} toys with ${p.his} friends.`,
        ]),
      };
    }
    case 'brave': {
      const s = rng.pick(SCARY);
      const animal = rng.pick(LOST_ANIMALS);
      return {
        beats: [
          { text: `One day, ${P} saw ${s.sees} ${c.place}.` },
          { text: `${cap(p.he)} was very scared.`, optional: true },
          { text: `Then ${p.he} heard a small voice say, "Help me, please!"` },
          { text: `${P} took a deep breath and walked slowly to the ${s.thing}.` },
          { text: `${s.inside}, ${p.he} found a little ${animal} that could not find its mom.` },
          { text: `${P} was brave and carried the ${animal} back to its home.` },
          { text: `The ${animal}'s mom said, "Thank you, you are very brave!"`, optional: true },
        ],
        epilogue: rng.pick([
          `${P} felt proud of ${p.himself} all the way home.`,
          `After that day, ${P} was not scared of the ${s.thing} anymore.`,
        ]),
      };
    }
    case 'try': {
      const g = rng.pick(GOALS);
      const helper = rng.chance(0.5) ? `${p.his} ${rng.pick(HELPERS)}` : F;
      return {
        beats: [
          { text: `One day, ${P} wanted to ${g.want}.` },
          { text: `${cap(p.he)} tried, but ${p.he} ${g.fail}.` },
          { text: `${P} felt sad and wanted to stop.`, optional: true },
          { text: `Then ${helper} said, "Do not give up, ${P}. Try again!"` },
          { text: `So ${P} tried again and again.` },
          { text: `At last, ${p.he} ${g.win}.` },
          { text: `${P} shouted, "I did it!"`, optional: true },
        ],
        epilogue: rng.pick([
          `${cap(p.he)} was very ${rng.pick(FEELINGS_GOOD)} and gave ${helper} a big hug.`,
          `Every day after that, ${P} ${g.again} with a big smile.`,
        ]),
      };
    }
    case 'kind': {
      const t = rng.pick(TROUBLES);
      return {
        beats: [
          { text: `One day, ${P} saw ${F} sitting alone in the ${c.place}.` },
          { text: `${F} was sad because ${f.he} ${t.why}.` },
          { text: `${P} walked over and asked, "What is wrong, ${F}?"` },
          { text: `${F} said, "${t.says}"`, optional: true },
          { text: `${P} ${t.help.replace('{F}', F).replace('{color}', color)}.` },
          { text: `${F} smiled and said, "You are so kind, ${P}!"` },
          { text: `They played together until the sun went down.`, optional: true },
        ],
        epilogue: rng.pick([
          `${P} felt warm and happy inside.`,
          `The next morning, ${F} brought ${P} ${article(`${color} flower`)} to say thank you.`,
        ]),
      };
    }
    case 'sorry': {
      const toy = rng.pick(TOYS);
      return {
        beats: [
          { text: `One day, ${P} and ${F} were playing with ${F}'s ${color} ${toy} in the ${c.place}.` },
          { text: `${P} wanted to play with it alone, so ${p.he} pulled it hard.` },
          { text: `Oh no! The ${toy} broke.` },
          { text: `${F} was very sad and began to cry.`, optional: true },
          { text: `${P} said, "I am sorry, ${F}. I did not mean to break it."` },
          { text: `Together they fixed the ${toy} with some tape.` },
          { text: `${F} hugged ${P} and said, "It is okay, we are still friends."`, optional: true },
        ],
        epilogue: rng.pick([
          `After that, they always played gently with their toys.`,
          `${P} never pulled a toy from a friend again.`,
        ]),
      };
    }
    case 'adventure': {
      const spot = rng.pick(PLACES.filter((x) => x !== c.place));
      return {
        beats: [
          { text: `One day, ${P} found an old map in ${p.his} ${rng.pick(HELPERS)}'s house.` },
          { text: `The map showed a big red X near the ${spot}.` },
          { text: `${P} was very curious, so ${p.he} asked ${F} to come along.` },
          { text: `${F} said, "Yes, let us go on an adventure!"` },
          { text: `They walked past the ${c.place} and over a small bridge.`, optional: true },
          { text: `Near the ${spot}, they dug a hole under a big tree.` },
          { text: `Inside, they found a box full of ${rng.pick(TREASURES)}.` },
        ],
        epilogue: rng.pick([
          `${P} and ${F} laughed and shared the treasure.`,
          `They could not wait to go on another adventure.`,
        ]),
      };
    }
  }
}

/** Words as the protocol counts them: split on single spaces. */
export function countWords(text: string): number {
  return text.split(' ').length;
}

const MIN_SENTENCES = 3;
const MAX_SENTENCES = 8;
const MIN_WORDS = 40;
const MAX_WORDS = 120;

/** One story drawn from `rng`. */
export function generateStory(rng: Rng): DemoStory {
  for (;;) {
    const r = rng.fork();
    const plot = r.pick(PLOTS);
    const cast = drawCast(r);
    const { beats, epilogue } = plotBeats(plot, r, cast);
    const all = [...introBeats(r, cast), ...beats].filter((b) => !b.optional || r.chance(0.6));
    const sentences = [...all.map((b) => b.text), epilogue];
    // The story may stop early; the continuation answer is then the sentence that came next.
    const minCut = Math.min(MIN_SENTENCES + 1, sentences.length - 1);
    const cut = r.chance(0.5) ? sentences.length - 1 : r.range(minCut, sentences.length - 1);
    const story = sentences.slice(0, cut);
    const text = story.join(' ');
    const words = countWords(text);
    if (story.length < MIN_SENTENCES || story.length > MAX_SENTENCES) continue;
    if (words < MIN_WORDS || words > MAX_WORDS) continue;
    if (!text.includes('"')) continue; // every story has a line of dialogue
    return {
      text,
      sentences: story,
      next: sentences[cut] as string,
      protagonist: cast.p.name,
      description: article(`${cast.adj} ${cast.kind}`),
      plot,
      theme: THEMES[plot],
    };
  }
}

/** `n` stories, fixed by `seed`. */
export function generateStories(seed: number, n: number): DemoStory[] {
  const rng = new Rng(seed);
  const out: DemoStory[] = [];
  for (let i = 0; i < n; i++) out.push(generateStory(rng));
  return out;
}

/** The programmatic answer to one of the six tasks. */
export function answerFor(story: DemoStory, task: DemoTask): string {
  switch (task.group) {
    case 'continuation':
      return story.next;
    case 'counting':
      return String(countWords(story.text));
    case 'semantic':
      return task.key === 'semantic_prompt_2'
        ? `The story is about ${story.protagonist}, ${story.description}.`
        : `The main idea is that ${story.theme}.`;
  }
}

/** The story's words (split on single spaces) in a shuffled order, as the protocol's scramble. */
export function scrambleWords(text: string, rng: Rng): string {
  return rng.shuffle(text.split(' ')).join(' ');
}

/**
 * A protocol prompt: `base` = `{story}\n\n{task}\n\n`, `rev` = `{task}\n\n{story}\n\n`; the
 * scrambled variants take the already scrambled story (see scrambleWords).
 */
export function taskPrompt(story: string, task: string, variant: PromptVariant): string {
  return variant === 'base' || variant === 'scramble'
    ? `${story}\n\n${task}\n\n`
    : `${task}\n\n${story}\n\n`;
}

export interface TrainingMix {
  /** Share of documents that are a plain story (with its next sentence). */
  plain: number;
  /** Relative weights of the four prompt variants among task documents. */
  variants: Record<PromptVariant, number>;
}

export const DEFAULT_TRAINING_MIX: TrainingMix = {
  plain: 0.25,
  variants: { base: 0.35, rev: 0.35, scramble: 0.15, scramble_rev: 0.15 },
};

/**
 * Training documents, one per story: a plain story, or a protocol prompt followed by its
 * answer (`{story}\n\n{task}\n\n{answer}` and the other variants), so that the model has seen
 * every prompt shape the task-identification experiment uses.
 */
export function trainingDocuments(seed: number, n: number, mix: TrainingMix = DEFAULT_TRAINING_MIX): string[] {
  const rng = new Rng(seed);
  const variantWeights = PROMPT_VARIANTS.map((v) => mix.variants[v]);
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const story = generateStory(rng);
    if (rng.chance(mix.plain)) {
      docs.push(`${story.text} ${story.next}`);
      continue;
    }
    const task = rng.pick(DEMO_TASKS);
    const variant = PROMPT_VARIANTS[rng.weighted(variantWeights)] as PromptVariant;
    const shown = variant.startsWith('scramble') ? scrambleWords(story.text, rng) : story.text;
    docs.push(taskPrompt(shown, task.prompt, variant) + answerFor(story, task));
  }
  return docs;
}
