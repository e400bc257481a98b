/**
 * Writes the wire constants of each protobuf format we walk by hand, from its
 * .proto files, read with protobufjs, so no walker types a tag by hand:
 *
 *   core/otlp/wire-fields.gen.ts        OTLP (core/otlp/proto/**) and google.rpc.Status
 *   receivers/jaeger/wire-fields.gen.ts jaeger api_v2 (receivers/jaeger/testdata/*.proto)
 *   receivers/zipkin/wire-fields.gen.ts zipkin proto3 (receivers/zipkin/testdata/zipkin.proto)
 *
 *   npm run gen:wire            (re)write them
 *   npm run gen:wire -- --check exit 1 if one is stale
 *
 * core/otlp/wire-fields.test.ts regenerates them in memory and compares, so a
 * .proto change without a regeneration fails the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { REFERENCE_FILES } from '../core/otlp/proto/reference.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface WireTarget {
  /** The generated module, from the repository root. */
  output: string;
  /** Folder the .proto imports resolve in, from the repository root. */
  protoDir: string;
  /** Files loaded (with what they import), relative to protoDir. */
  files: readonly string[];
  /** Messages of this package (and below) get bare names; others are prefixed with their package. */
  ownPackage: string;
  /** Name of the exported known-field masks. */
  known: string;
}

export const TARGETS: readonly WireTarget[] = [
  { output: 'core/otlp/wire-fields.gen.ts', protoDir: 'core/otlp/proto', files: REFERENCE_FILES, ownPackage: 'opentelemetry.proto', known: 'otlpKnown' },
  { output: 'receivers/jaeger/wire-fields.gen.ts', protoDir: 'receivers/jaeger/testdata', files: ['collector.proto'], ownPackage: 'jaeger.api_v2', known: 'jaegerKnown' },
  { output: 'receivers/zipkin/wire-fields.gen.ts', protoDir: 'receivers/zipkin/testdata', files: ['zipkin.proto'], ownPackage: 'zipkin.proto3', known: 'zipkinKnown' },
];

/** A target's .proto files, resolved, with the files' own snake_case field names. */
export function loadTarget(target: WireTarget): protobuf.Root {
  const root = new protobuf.Root();
  const dir = path.join(repo, target.protoDir);
  root.resolvePath = (_origin, file) => path.join(dir, file);
  root.loadSync([...target.files], { keepCase: true });
  root.resolveAll();
  return root;
}

const WIRE_TYPE: Record<string, number> = {
  int32: 0, int64: 0, uint32: 0, uint64: 0, sint32: 0, sint64: 0, bool: 0,
  fixed64: 1, sfixed64: 1, double: 1,
  string: 2, bytes: 2,
  fixed32: 5, sfixed32: 5, float: 5,
};

/** The wire type protobuf uses for a field: scalars by type, enums as varints, messages, maps and packed repeated scalars length-delimited. */
export function wireTypeOf(field: protobuf.Field): number {
  if (field instanceof protobuf.MapField) return 2;
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Type) return 2;
  const scalar = resolved instanceof protobuf.Enum ? 0 : WIRE_TYPE[field.type];
  if (scalar === undefined) throw new Error(`${field.fullName}: no wire type for ${field.type}`);
  // proto3 packs repeated scalars (never in OTLP today, but the tag would differ).
  if (field.repeated && scalar !== 2 && field.packed) return 2;
  return scalar;
}

export interface WireField {
  name: string;
  no: number;
  wireType: number;
  tag: number;
  /** The field's type as the .proto writes it (for the generated comment). */
  proto: string;
}

export interface WireMessage {
  /**
   * Name in the generated module: the message name, nested names joined
   * (Span.Event -> SpanEvent), a map field's entry named after it
   * (Span.tags -> SpanTagsEntry), prefixed by the package outside the
   * target's own (google.rpc.Status -> GoogleRpcStatus).
   */
  key: string;
  fullName: string;
  /** The .proto file it is declared in, as protobufjs loaded it. */
  filename: string;
  /** The message; for a map entry, the message holding the map. */
  type: protobuf.Type;
  /** For a map entry: the map field. */
  map?: protobuf.MapField;
  /** Fields by number. */
  fields: WireField[];
}

function wireField(name: string, no: number, wireType: number, proto: string): WireField {
  return { name, no, wireType, tag: ((no << 3) | wireType) >>> 0, proto };
}

/** Every message of a target's files (and the entries of their map fields), in file and declaration order. */
export function wireMessages(target: WireTarget, root: protobuf.Root = loadTarget(target)): WireMessage[] {
  const out: WireMessage[] = [];
  const seen = new Map<string, string>();
  const add = (m: WireMessage): void => {
    const other = seen.get(m.key);
    if (other !== undefined) throw new Error(`${m.fullName} and ${other} would share the name ${m.key}`);
    seen.set(m.key, m.fullName);
    out.push(m);
  };
  const visit = (ns: protobuf.NamespaceBase, prefix: string, pkg: string): void => {
    for (const child of ns.nestedArray) {
      if (child instanceof protobuf.Type) {
        const key = prefix + child.name;
        const fullName = child.fullName.replace(/^\./, '');
        const filename = child.filename ?? '';
        const fields = child.fieldsArray
          .map((f) => {
            const type = f instanceof protobuf.MapField ? `map<${f.keyType}, ${f.type}>` : (f.resolvedType?.name ?? f.type);
            return wireField(f.name, f.id, wireTypeOf(f), `${f.repeated ? 'repeated ' : ''}${type}`);
          })
          .sort((a, b) => a.no - b.no);
        add({ key, fullName, filename, type: child, fields });
        for (const f of child.fieldsArray) {
          if (!(f instanceof protobuf.MapField)) continue;
          // A map is a repeated entry message { key = 1; value = 2; } (the protobuf encoding spec).
          const value = f.resolvedType instanceof protobuf.Type ? 2 : f.resolvedType instanceof protobuf.Enum ? 0 : WIRE_TYPE[f.type];
          const keyWt = WIRE_TYPE[f.keyType];
          if (value === undefined || keyWt === undefined) throw new Error(`${f.fullName}: no wire type for its entries`);
          add({
            key: `${key}${pascal(f.name)}Entry`,
            fullName: `${fullName}.${f.name} (map entry)`,
            filename,
            type: child,
            map: f,
            fields: [wireField('key', 1, keyWt, f.keyType), wireField('value', 2, value, f.resolvedType?.name ?? f.type)],
          });
        }
        visit(child, key, pkg);
      } else if (child instanceof protobuf.Namespace) {
        const sub = pkg === '' ? child.name : `${pkg}.${child.name}`;
        const own = sub === target.ownPackage || sub.startsWith(`${target.ownPackage}.`) || target.ownPackage.startsWith(`${sub}.`);
        visit(child, own ? '' : pascal(sub), sub);
      }
    }
  };
  visit(root, '', '');
  return out;
}

/** snake_case or dotted names in PascalCase: google.rpc -> GoogleRpc, api_v2 -> ApiV2. */
function pascal(name: string): string {
  return name.split(/[._]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const KNOWN_LIMIT = 32;

/** Where a message's file is, for the generated header (google/protobuf's well-known types come with protobufjs). */
function sourceOf(m: WireMessage): string {
  if (path.isAbsolute(m.filename)) return path.relative(repo, m.filename);
  const wellKnown = /^google\.protobuf\.(\w+)/.exec(m.fullName);
  if (wellKnown) return `google/protobuf/${wellKnown[1]!.toLowerCase()}.proto (protobufjs' bundled copy)`;
  return m.filename;
}

/** The generated module's text. */
export function generateWireFields(target: WireTarget): string {
  const messages = wireMessages(target);
  const lines: string[] = [];
  const sources = [...new Set(messages.map(sourceOf))].sort();
  const example = messages.find((m) => m.fields.length > 0)!;
  lines.push(
    '// GENERATED by scripts/gen-otlp-wire.ts from these .proto files; do not edit.',
    '// Regenerate with `npm run gen:wire` (core/otlp/wire-fields.test.ts fails while it is stale).',
    ...sources.map((f) => `//   ${f}`),
    '//',
    '// Per message (nested names joined, map entries named after their field, other packages prefixed):',
    '//   <Message>Tag    field number << 3 | wire type, as the tag varint reads (Reader.uint32())',
    '//   <Message>Field  field numbers (Writer.startMessage, write*Field)',
    `// and ${target.known}: each message's field numbers as a bitmask (Reader.other: a known number`,
    '// with the wrong wire type is corrupt input, an unknown one is skipped).',
    '//',
    `// Enums, referenced directly (\`case ${example.key}Tag.${example.fields[0]!.name}:\`, never through an alias):`,
    '// the bundle (scripts/build.mjs, esbuild) inlines enum members as literals; see core/otlp/README.md.',
    '',
  );
  for (const m of messages) {
    lines.push(`/** ${m.fullName}: tags. */`, `export enum ${m.key}Tag {`);
    for (const f of m.fields) lines.push(`  ${f.name} = ${hex(f.tag)}, // ${f.no} ${f.proto}`);
    lines.push('}', '', `/** ${m.fullName}: field numbers. */`, `export enum ${m.key}Field {`);
    for (const f of m.fields) lines.push(`  ${f.name} = ${f.no},`);
    lines.push('}', '');
  }
  lines.push('/** Field-number bitmasks by message (bit n set for field n). */', `export const ${target.known} = {`);
  for (const m of messages) {
    let mask = 0;
    for (const f of m.fields) {
      if (f.no >= KNOWN_LIMIT) throw new Error(`${m.fullName}.${f.name}: field ${f.no} does not fit Reader.other's mask`);
      mask = (mask | (1 << f.no)) >>> 0;
    }
    lines.push(`  ${m.key}: ${hex(mask)}, // ${m.fields.map((f) => f.no).join(' ') || 'no fields'}`);
  }
  lines.push('} as const;', '');
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = false;
  for (const target of TARGETS) {
    const file = path.join(repo, target.output);
    const text = generateWireFields(target);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current === text) {
      console.log(`${target.output} is up to date`);
    } else if (check) {
      console.error(`${target.output} is stale: run npm run gen:wire`);
      stale = true;
    } else {
      fs.writeFileSync(file, text);
      console.log(`wrote ${target.output}`);
    }
  }
  if (stale) process.exit(1);
}
