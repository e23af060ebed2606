/** How the viewer writes a token: its text, with line breaks and tabs made visible (the page and its tests agree on this). */
export function tokenLabel(token: string | null, id: number): string {
  if (token === null) return `#${id}`;
  if (token === '') return '∅';
  return token.replace(/\n/g, '↵').replace(/\r/g, '␍').replace(/\t/g, '⇥');
}
