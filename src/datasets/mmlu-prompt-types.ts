/** The MMLU prompt framings of PROTOCOL §4 (a module of its own, so the CLI can list them cheaply). */
export const MMLU_PROMPT_TYPES = ['base', 'instruct', 'thinking', 'humble'] as const;
export type MmluPromptType = (typeof MMLU_PROMPT_TYPES)[number];
