/** Load a model, profile prompts, and close it again: every result, in order (tests that compare whole runs). */
import { LensModel, type LoadOptions, type ProfileOptions, type ProfileResult, type PromptInput } from '../../src/lens/model.js';

export async function profileAll(dir: string, load: LoadOptions, prompts: PromptInput[], opts: ProfileOptions): Promise<ProfileResult[]> {
  const m = await LensModel.load(dir, load);
  try {
    const out: ProfileResult[] = [];
    for await (const r of m.profile(prompts, opts)) out.push(r);
    return out;
  } finally {
    await m.close();
  }
}
