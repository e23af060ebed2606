import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { loadMmlu, loadTinyStories, parseCsv, readDataFile, type MmluRow } from '../../src/datasets/index.js';
import { selectSplitFiles } from '../../src/hub/index.js';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { rejectsUser } from '../helpers/rejects-user.js';

for (const k of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT']) delete process.env[k];

// Synthetic data, written for these tests.
const STORIES = [
  'Tilly the tortoise wanted to see the sea. She walked for "seven" days.',
  'A small robot named Bolt, who loved soup,\ncooked for his friends.',
  'Nina found a blue stone. It hummed, softly — like a song 🎵.',
];
const MMLU: MmluRow[] = [
  { question: 'What colour do you get mixing invented pigments X and Y?', subject: 'synthetic_art', choices: ['Teal', 'Mauve', 'Ochre', 'Umber'], answer: 1 },
  { question: 'How many legs does the fictional "tripod hen" have?', subject: 'synthetic_biology', choices: ['2', '3', '4', 'none, it "hovers"'], answer: 1 },
  { question: 'Which, of these, is a made-up unit?', subject: 'synthetic_physics', choices: ['metre', 'second', 'florp', 'kelvin'], answer: 2 },
];

function storiesParquet(texts: string[], column = 'text'): Buffer {
  return Buffer.from(parquetWriteBuffer({ columnData: [{ name: column, data: texts }] }));
}

/** The columns and types cais/mmlu has: choices as a Parquet LIST of strings, answer as INT64. */
function mmluParquet(rows: MmluRow[]): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'question', data: rows.map((r) => r.question) },
        { name: 'subject', data: rows.map((r) => r.subject) },
        { name: 'choices', data: rows.map((r) => r.choices) },
        { name: 'answer', data: rows.map((r) => BigInt(r.answer)) },
      ],
      schema: [
        { name: 'schema', num_children: 4 },
        { name: 'question', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'subject', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'choices', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'answer', type: 'INT64', repetition_type: 'OPTIONAL' },
      ],
    }),
  );
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'el-data-'));
});


describe('CSV parser (RFC 4180)', () => {
  it('handles quotes, doubled quotes, embedded commas and newlines, CRLF and a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","he said ""hi"""\r\n"multi\nline",,z\n\n';
    assert.deepEqual(parseCsv(text), [
      ['a', 'b', 'c'],
      ['1', 'x, y', 'he said "hi"'],
      ['multi\nline', '', 'z'],
    ]);
    assert.deepEqual(parseCsv('a,b\n1,2'), [['a', 'b'], ['1', '2']]);
    assert.deepEqual(parseCsv('a\n""\n'), [['a'], ['']]);
  });

  it('rejects an unclosed quote and a stray quote with the line', () => {
    assert.throws(() => parseCsv('a\n"open\n', 'f.csv'), /f\.csv:2/);
    assert.throws(() => parseCsv('a\nab"c\n', 'f.csv'), /f\.csv:2/);
  });
});

describe('TinyStories readers', () => {
  it('Parquet', async () => {
    const file = join(dir, 'stories.parquet');
    await writeFile(file, storiesParquet(STORIES));
    assert.deepEqual(await loadTinyStories(file), STORIES.map((text) => ({ text })));
    assert.deepEqual(await loadTinyStories(file, { limit: 2 }), STORIES.slice(0, 2).map((text) => ({ text })));
  });

  it('JSONL and JSON', async () => {
    const jsonl = join(dir, 'stories.jsonl');
    await writeFile(jsonl, STORIES.map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n\n');
    assert.deepEqual(await loadTinyStories(jsonl), STORIES.map((text) => ({ text })));
    const json = join(dir, 'stories.json');
    await writeFile(json, JSON.stringify(STORIES.map((text) => ({ text }))));
    assert.deepEqual(await loadTinyStories(json, { limit: 1 }), [{ text: STORIES[0] }]);
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, '{"text": "ok"}\n{"text": oops}\n');
    await rejectsUser(loadTinyStories(bad), 'bad.jsonl:2');
  });

  it('CSV', async () => {
    const file = join(dir, 'stories.csv');
    await writeFile(file, 'text,n\r\n' + STORIES.map((s, i) => `${csvField(s)},${i}`).join('\r\n') + '\r\n');
    assert.deepEqual(await loadTinyStories(file), STORIES.map((text) => ({ text })));
  });

  it('the .txt dump with <|endoftext|> lines', async () => {
    const file = join(dir, 'TinyStories-valid.txt');
    await writeFile(file, STORIES.map((s) => `${s}\n<|endoftext|>\n`).join(''));
    assert.deepEqual(await loadTinyStories(file), STORIES.map((text) => ({ text })));
    assert.equal((await loadTinyStories(file, { limit: 1 })).length, 1);
  });

  it('a folder in hub layout picks the validation split', async () => {
    const repo = join(dir, 'ts-repo');
    await mkdir(join(repo, 'data'), { recursive: true });
    await writeFile(join(repo, 'data', 'train-00000-of-00001-aa.parquet'), storiesParquet(['train story one.']));
    await writeFile(join(repo, 'data', 'validation-00000-of-00002-bb.parquet'), storiesParquet(STORIES.slice(0, 2)));
    await writeFile(join(repo, 'data', 'validation-00001-of-00002-cc.parquet'), storiesParquet(STORIES.slice(2)));
    await writeFile(join(repo, 'TinyStories-valid.txt'), 'not used\n<|endoftext|>\n');
    await writeFile(join(repo, 'README.md'), '# fake');
    assert.deepEqual(await loadTinyStories(repo), STORIES.map((text) => ({ text })));
    // The limit spans shards.
    assert.deepEqual(await loadTinyStories(repo, { limit: 3 }), STORIES.map((text) => ({ text })));
  });

  it('names the file and the columns found when "text" is missing', async () => {
    const file = join(dir, 'nostory.parquet');
    await writeFile(file, storiesParquet(STORIES, 'story'));
    await rejectsUser(loadTinyStories(file), 'nostory.parquet', '"text"', 'story');
    const csv = join(dir, 'nostory.csv');
    await writeFile(csv, 'body,id\nhello,1\n');
    await rejectsUser(loadTinyStories(csv), 'nostory.csv', 'body, id');
  });

  it('a missing path is a clear error', async () => {
    await rejectsUser(loadTinyStories(join(dir, 'absent.parquet')), 'absent.parquet', 'does not exist');
  });
});

describe('MMLU readers', () => {
  it('Parquet with a LIST choices column and INT64 answers', async () => {
    const file = join(dir, 'mmlu.parquet');
    await writeFile(file, mmluParquet(MMLU));
    assert.deepEqual(await loadMmlu(file), MMLU);
    assert.deepEqual(await loadMmlu(file, { limit: 1 }), MMLU.slice(0, 1));
  });

  it('JSONL', async () => {
    const file = join(dir, 'mmlu.jsonl');
    await writeFile(file, MMLU.map((r) => JSON.stringify(r)).join('\n'));
    assert.deepEqual(await loadMmlu(file), MMLU);
  });

  it('CSV with choices as a JSON list or a Python list literal', async () => {
    const file = join(dir, 'mmlu.csv');
    const py = (c: string[]): string => `[${c.map((x) => (x.includes("'") ? `"${x}"` : `'${x}'`)).join(', ')}]`;
    const lines = ['question,subject,choices,answer'];
    MMLU.forEach((r, i) => lines.push([r.question, r.subject, i % 2 ? py(r.choices) : JSON.stringify(r.choices), String(r.answer)].map(csvField).join(',')));
    await writeFile(file, lines.join('\n') + '\n');
    assert.deepEqual(await loadMmlu(file), MMLU);
  });

  it('a folder in hub layout picks config all, split test', async () => {
    const repo = join(dir, 'mmlu-repo');
    await mkdir(join(repo, 'all'), { recursive: true });
    await mkdir(join(repo, 'synthetic_art'), { recursive: true });
    await writeFile(join(repo, 'all', 'test-00000-of-00001.parquet'), mmluParquet(MMLU));
    await writeFile(join(repo, 'all', 'dev-00000-of-00001.parquet'), mmluParquet(MMLU.slice(0, 1)));
    await writeFile(join(repo, 'synthetic_art', 'test-00000-of-00001.parquet'), mmluParquet(MMLU.slice(0, 1)));
    assert.deepEqual(await loadMmlu(repo), MMLU);
    // The config folder itself works too.
    assert.deepEqual(await loadMmlu(join(repo, 'all')), MMLU);
  });

  it('names the file and columns when one is missing, and rejects bad answers', async () => {
    const file = join(dir, 'mmlu-bad.jsonl');
    await writeFile(file, JSON.stringify({ question: 'q', choices: ['a', 'b'], answer: 0 }) + '\n');
    await rejectsUser(loadMmlu(file), 'mmlu-bad.jsonl', 'subject', 'question, choices, answer');
    const file2 = join(dir, 'mmlu-bad2.jsonl');
    await writeFile(file2, JSON.stringify({ question: 'q', subject: 's', choices: ['a', 'b'], answer: 5 }) + '\n');
    await rejectsUser(loadMmlu(file2), 'mmlu-bad2.jsonl', 'answer 5');
  });
});

describe('readDataFile', () => {
  it('rejects an unknown extension', async () => {
    const file = join(dir, 'x.xlsx');
    await writeFile(file, 'x');
    await rejectsUser(readDataFile(file), 'x.xlsx', 'Parquet');
  });
});

describe('split file selection on the real repo layouts', () => {
  it('roneneldan/TinyStories: the validation parquet, not the .txt dumps', () => {
    const files = [
      '.gitattributes', 'Evaluation prompts.yaml', 'README.md', 'TinyStories-train.txt', 'TinyStories-valid.txt',
      'TinyStoriesV2-GPT4-train.txt', 'TinyStoriesV2-GPT4-valid.txt', 'TinyStories_all_data.tar.gz',
      'data/train-00000-of-00004-2d5a1467fff1081b.parquet', 'data/train-00001-of-00004-5852b56a2bd28fd9.parquet',
      'data/validation-00000-of-00001-869c898b519ad725.parquet',
    ];
    assert.deepEqual(selectSplitFiles(files, { split: 'validation' }), ['data/validation-00000-of-00001-869c898b519ad725.parquet']);
    // Without the parquet conversion, the txt dumps are the validation split (synonym "valid").
    assert.deepEqual(selectSplitFiles(files.filter((f) => !f.endsWith('.parquet')), { split: 'validation' }), [
      'TinyStories-valid.txt', 'TinyStoriesV2-GPT4-valid.txt',
    ]);
  });

  it('cais/mmlu: all/test only, dev is not validation when validation exists', () => {
    const files = [
      'README.md', 'abstract_algebra/test-00000-of-00001.parquet', 'all/auxiliary_train-00000-of-00001.parquet',
      'all/dev-00000-of-00001.parquet', 'all/test-00000-of-00001.parquet', 'all/validation-00000-of-00001.parquet',
    ];
    assert.deepEqual(selectSplitFiles(files, { config: 'all', split: 'test' }), ['all/test-00000-of-00001.parquet']);
    assert.deepEqual(selectSplitFiles(files, { config: 'all', split: 'validation' }), ['all/validation-00000-of-00001.parquet']);
    assert.deepEqual(selectSplitFiles(files, { config: 'all', split: 'dev' }), ['all/dev-00000-of-00001.parquet']);
  });

  it('the refs/convert/parquet layout', () => {
    assert.deepEqual(selectSplitFiles(['default/train/0000.parquet', 'default/validation/0000.parquet'], { config: 'default', split: 'validation' }), [
      'default/validation/0000.parquet',
    ]);
  });
});

describe('loading from the (fake) hub', () => {
  let hub: FakeHub;
  let cacheDir: string;
  before(async () => {
    hub = await startFakeHub([
      {
        type: 'dataset',
        id: 'fake-org/stories',
        files: [
          { path: 'data/validation-00000-of-00001-zz.parquet', content: storiesParquet(STORIES), lfs: true },
          { path: 'data/train-00000-of-00001-zz.parquet', content: storiesParquet(['x']), lfs: true },
        ],
      },
      {
        type: 'dataset',
        id: 'fake-org/mmlu',
        files: [
          { path: 'all/test-00000-of-00001.parquet', content: mmluParquet(MMLU), lfs: true },
          { path: 'synthetic_art/test-00000-of-00001.parquet', content: mmluParquet(MMLU.slice(0, 1)), lfs: true },
        ],
      },
    ]);
    cacheDir = await mkdtemp(join(tmpdir(), 'el-dcache-'));
  });
  after(async () => {
    await hub.close();
  });

  it('loads TinyStories and MMLU by hub id into the HF cache, then from it offline', async () => {
    const o = { cacheDir, endpoint: hub.url };
    assert.deepEqual(await loadTinyStories('fake-org/stories', { ...o, limit: 2 }), STORIES.slice(0, 2).map((text) => ({ text })));
    assert.deepEqual(await loadMmlu('fake-org/mmlu', o), MMLU);
    const n = hub.requests.length;
    assert.deepEqual(await loadMmlu('fake-org/mmlu', { ...o, offline: true }), MMLU);
    assert.equal(hub.requests.length, n);
  });

  it('an unknown hub dataset names the id', async () => {
    await rejectsUser(loadTinyStories('fake-org/unknown', { cacheDir, endpoint: hub.url }), 'fake-org/unknown', 'check the id');
  });
});
