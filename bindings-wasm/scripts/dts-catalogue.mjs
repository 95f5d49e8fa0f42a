// The two catalogue unions of index.d.ts (EventType, ErrorCode), between their BEGIN/END marker lines.
export const UNIONS = { EventType: 'eventTypes', ErrorCode: 'errorCodes' };

export function renderUnion(name, values) {
  return `export type ${name} =\n${values.map((value) => `  | '${value}'`).join('\n')};`;
}

function markers(text, name) {
  const begin = text.indexOf(`// BEGIN ${name} `);
  const end = text.indexOf(`// END ${name}\n`);
  if (begin < 0 || end < begin) throw new Error(`index.d.ts: no "// BEGIN ${name} ..." / "// END ${name}" markers`);
  return [text.indexOf('\n', begin) + 1, end];
}

export function readUnion(text, name) {
  const [start, end] = markers(text, name);
  return text.slice(start, end).trimEnd();
}

export function replaceUnion(text, name, values) {
  const [start, end] = markers(text, name);
  return `${text.slice(0, start)}${renderUnion(name, values)}\n${text.slice(end)}`;
}
