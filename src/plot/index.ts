/** The plot room: Vega-Lite figure specs and their rendering to SVG and PNG. */
export { renderSpec, compileSpec, specToSvg, svgToPng, FONT_FAMILY } from './render.js';
export type { VegaLiteSpec, CompiledSpec, RenderedFigure } from './render.js';
export { depthCurves, heatmap, sharedDomain, modelLabel, scatter, labelProfiles, bandFigure, metricAxisTitle, meanBand, Z95, DEPTH_AXIS_TITLE, LAYER_AXIS_TITLE } from './figures.js';
export type { Spec, ProfileRow, BandPoint, MeanBand, ScatterPoint, SeriesBand, FigureSize } from './figures.js';
