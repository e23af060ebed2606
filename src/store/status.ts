/** Where a results folder stands: per run shard (or for the whole run) what is done, by whom, when. */
import { missingShards, partFiles, processAlive, hostName, readManifest, readWriterRecords } from './layout.js';
import type { Manifest, WriterRecord } from './schema.js';

export interface ShardStatus {
  /** Shard index, or null for an unsharded run. */
  index: number | null;
  state: 'complete' | 'running' | 'stopped' | 'not started';
  samplesDone: number;
  samplesTotal: number | null;
  /** The latest write of any writer of this shard (ISO time), if any. */
  lastWrite: string | null;
  /** Writers of this shard: host:pid, newest first. */
  writers: string[];
}

export interface DatasetStatus {
  dir: string;
  manifest: Manifest;
  parts: number;
  shards: ShardStatus[];
  complete: boolean;
}

/** A running record of a process on this host that is gone: the writer died (killed, crashed). */
function isDead(r: WriterRecord): boolean {
  return r.state === 'running' && r.host === hostName() && !processAlive(r.pid);
}

function summarise(index: number | null, records: WriterRecord[]): ShardStatus {
  const sorted = [...records].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const complete = sorted.find((r) => r.state === 'complete');
  const live = sorted.filter((r) => r.state === 'running' && !isDead(r));
  const best = complete ?? sorted.reduce<WriterRecord | undefined>((a, r) => (!a || r.samplesDone > a.samplesDone ? r : a), undefined);
  return {
    index,
    state: complete ? 'complete' : live.length > 0 ? 'running' : sorted.length > 0 ? 'stopped' : 'not started',
    samplesDone: best?.samplesDone ?? 0,
    samplesTotal: best?.samplesTotal ?? null,
    lastWrite: sorted[0]?.updatedAt ?? null,
    writers: sorted.map((r) => `${r.host}:${r.pid}${r.state === 'complete' ? ' (complete)' : isDead(r) ? ' (gone)' : ''}`),
  };
}

export async function datasetStatus(dir: string): Promise<DatasetStatus> {
  const manifest = await readManifest(dir);
  const records = await readWriterRecords(dir);
  const parts = (await partFiles(dir)).length;
  let shards: ShardStatus[];
  if (manifest.sharding) {
    const n = manifest.sharding.count;
    shards = Array.from({ length: n }, (_, i) => summarise(i, records.filter((r) => r.shard?.count === n && r.shard.index === i)));
    return { dir, manifest, parts, shards, complete: missingShards(n, records).length === 0 };
  }
  shards = [summarise(null, records.filter((r) => r.shard === null))];
  return { dir, manifest, parts, shards, complete: shards[0].state === 'complete' };
}

function ago(iso: string | null, now: number): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
}

/** The status as the `status` command prints it. */
export function formatStatus(st: DatasetStatus, now = Date.now()): string {
  const m = st.manifest;
  const lines = [`${st.dir}: ${m.experiment} of ${m.model} (${m.codeVersion}), ${st.parts} part file${st.parts === 1 ? '' : 's'}`];
  const count = (s: ShardStatus['state']): number => st.shards.filter((x) => x.state === s).length;
  if (m.sharding) {
    const parts = (['complete', 'running', 'stopped', 'not started'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
    lines.push(`${m.sharding.count} shards: ${parts.join(', ')}`);
  }
  for (const s of st.shards) {
    const name = s.index === null ? 'run' : `shard ${s.index}`;
    const done = `${s.samplesDone}${s.samplesTotal !== null ? ` / ${s.samplesTotal}` : ''} samples`;
    const when = s.lastWrite ? `, last write ${ago(s.lastWrite, now)}` : '';
    const who = s.writers.length ? ` [${s.writers.slice(0, 3).join(', ')}${s.writers.length > 3 ? ', …' : ''}]` : '';
    lines.push(`  ${name.padEnd(10)} ${s.state.padEnd(11)} ${done}${when}${who}`);
  }
  lines.push(st.complete ? 'complete' : 'not complete: a stopped shard resumes when its task runs again (same command, same --out)');
  return lines.join('\n');
}
