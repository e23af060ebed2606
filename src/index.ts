export { UserError } from './util/errors.js';
