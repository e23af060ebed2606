/** The supported architectures, by config.json `model_type`. Adding one = its file + one line here. */
import { UserError } from '../util/errors.js';
import { bloom } from './bloom.js';
import { falcon } from './falcon.js';
import { gemma } from './gemma.js';
import { gemma2 } from './gemma2.js';
import { gemma3_text } from './gemma3_text.js';
import { gpt2 } from './gpt2.js';
import { gpt_neo } from './gpt_neo.js';
import { granite } from './granite.js';
import { gpt_neox } from './gpt_neox.js';
import { llama } from './llama.js';
import { mistral } from './mistral.js';
import { opt } from './opt.js';
import { phi } from './phi.js';
import { phi3 } from './phi3.js';
import { qwen2 } from './qwen2.js';
import { qwen3 } from './qwen3.js';
import { stablelm } from './stablelm.js';
import type { Architecture } from './types.js';

export const ARCHITECTURES: Architecture[] = [gpt2, gpt_neox, llama, mistral, qwen2, qwen3];
ARCHITECTURES.push(gemma, gemma2, gemma3_text, phi, phi3, opt, bloom, gpt_neo, stablelm, falcon, granite);

export function supportedModelTypes(): string[] {
  return ARCHITECTURES.flatMap((a) => a.modelTypes).sort();
}

/** The architecture of a config.json by its model_type; a UserError naming the file (and the HF classes) otherwise. */
export function architectureFor(config: Record<string, unknown>, configPath: string): Architecture {
  const modelType = config.model_type;
  if (typeof modelType !== 'string') {
    throw new UserError(`${configPath} has no 'model_type', so the architecture is unknown; supported: ${supportedModelTypes().join(', ')}`);
  }
  const arch = ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
  if (!arch) {
    const hf = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
    throw new UserError(
      `${configPath}: model_type '${modelType}'${hf.length ? ` (${hf.join(', ')})` : ''} is not supported by entropylens; ` +
        `supported: ${supportedModelTypes().join(', ')} (see 'entropylens models')`,
    );
  }
  return arch;
}
