/** The figures' font list, in a module of its own so the browser bundle can use the specs without the renderer. */

/**
 * The fonts the figures name. The first is installed on most Linux machines (fonts-dejavu-core);
 * the SVG keeps the whole list so a browser picks what it has.
 */
export const FONT_FAMILY = 'DejaVu Sans, Helvetica, Arial, sans-serif';
