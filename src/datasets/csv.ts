/** RFC 4180 CSV parsing (quotes, CRLF, BOM) for dataset files. */
import { UserError } from '../util/errors.js';

/**
 * RFC 4180 CSV: fields separated by commas, optionally in double quotes; inside quotes a doubled quote
 * is a quote and newlines are data. Accepts LF or CRLF line ends and a UTF-8 BOM.
 */
export function parseCsv(text: string, file = 'CSV'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let inQuotes = false;
  let line = 1;
  let quoteLine = 0;
  let rowHadQuote = false;
  const n = text.length;
  const endField = (): void => {
    row.push(field);
    field = '';
  };
  const endRow = (): void => {
    endField();
    // A blank line is no row, not a row with one empty field.
    if (!(row.length === 1 && row[0] === '' && !rowHadQuote)) rows.push(row);
    row = [];
    rowHadQuote = false;
  };
  while (i < n) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new UserError(`${file}:${line}: a quote inside an unquoted field; quote the whole field and double inner quotes (RFC 4180).`);
      inQuotes = true;
      rowHadQuote = true;
      quoteLine = line;
      i++;
    } else if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      endRow();
      line++;
      i += 2;
    } else if (c === '\n') {
      endRow();
      line++;
      i++;
    } else {
      field += c;
      i++;
    }
  }
  if (inQuotes) throw new UserError(`${file}:${quoteLine}: a quoted field is never closed.`);
  if (field !== '' || row.length > 0 || rowHadQuote) endRow();
  return rows;
}

/** Rows as objects keyed by the header line. */
export function csvRecords(text: string, file = 'CSV'): { header: string[]; records: Record<string, string>[] } {
  const rows = parseCsv(text, file);
  if (rows.length === 0) return { header: [], records: [] };
  const header = rows[0]!;
  const records = rows.slice(1).map((cells, r) => {
    if (cells.length !== header.length) {
      throw new UserError(`${file}: data row ${r + 1} has ${cells.length} fields but the header has ${header.length} (${header.join(', ')}).`);
    }
    const obj: Record<string, string> = {};
    header.forEach((h, k) => (obj[h] = cells[k]!));
    return obj;
  });
  return { header, records };
}
