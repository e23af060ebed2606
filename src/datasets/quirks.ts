/**
 * Helpers for the generation-loop quirks of the reference (PROTOCOL §1), for the runs to use when
 * `--reference-quirks` is on.
 *
 * Re-tokenising at every step. The intended loop appends each generated token id to the sequence. The
 * reference instead keeps a string: at step t it tokenises the whole `text` (prompt + decoded tokens so
 * far, with the tokenizer's BOS prepended as always), runs the model on all of it, takes the next token,
 * decodes that single id to text and appends the text (see appendGeneratedText). A run implementing the
 * quirk must therefore: (1) keep `text`, not ids; (2) re-encode `text` before every step, which may
 * merge or split tokens differently from the ids generated (e.g. " the" decoded then re-encoded next to
 * the following piece) and changes the sequence length; (3) not reuse a KV cache across steps, since
 * the prefix ids can change; (4) report the completion as the final `text` minus the prompt.
 */

/**
 * The reference's model name for which it inserts a space before every generated token: TransformerLens'
 * alias `phi-3`, which names microsoft/Phi-3-mini-4k-instruct. The reference compares the name string,
 * so other Phi-3 checkpoints (and model_type "phi3" in general) do not get the space.
 */
const PHI3_NAMES = new Set(['phi-3', 'microsoft/phi-3-mini-4k-instruct']);

/** The text the reference puts between the running text and a newly decoded token: " " for phi-3, else "". */
export function phi3Space(modelName: string): '' | ' ' {
  return PHI3_NAMES.has(modelName.trim().toLowerCase()) ? ' ' : '';
}

/** One step of the re-tokenising loop: the running text with the decoded token appended, as the reference does. */
export function appendGeneratedText(text: string, tokenText: string, modelName: string): string {
  return text + phi3Space(modelName) + tokenText;
}
