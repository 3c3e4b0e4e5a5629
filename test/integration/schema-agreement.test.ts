// Proves the hand-written migrations build exactly the database schema.prisma
// describes: tables, columns, types, nullability, defaults, enums, indexes
// (names, columns, order, uniqueness, method, opclass, DESC, partial predicates)
// and foreign keys. Expected values come from Prisma's own parser (the DMMF of
// @prisma/prisma-schema-wasm); actual values from the catalogs of a freshly
// migrated database. Both are rendered into the same plain shapes and compared
// with toEqual, so a failure prints a diff of expected vs actual.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, type MigrationConnection } from "../../src/db/migrator.ts";
import { rawTestDrivers, type RawTestDatabase } from "../support/databases.ts";

// SQL-only indexes: things schema.prisma cannot express, written by hand in a
// migration. Anything else in the database that the schema lacks is drift.
const SQL_ONLY_INDEXES: Record<string, IndexShape & { table: string }> = {
  // Case-insensitive lookup of a chat's diff status by PR URL (expression index).
  chat_diff_statuses_lower_url_idx: {
    table: "chat_diff_statuses",
    primary: false,
    unique: false,
    method: "btree",
    columns: ["lower(url)"],
    predicate: null,
  },
};

// ---------------------------------------------------------------------------
// The schema, as Prisma reads it.

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}
interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}
interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string; sortOrder?: "asc" | "desc"; operatorClass?: string; length?: number }[];
}
interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

const require = createRequire(import.meta.url);
const schemaWasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };
const schemaText = readFileSync(fileURLToPath(new URL("../../prisma/schema.prisma", import.meta.url)), "utf8");
const datamodel = (JSON.parse(schemaWasm.get_dmmf(JSON.stringify({ prismaSchema: schemaText }))) as { datamodel: Datamodel }).datamodel;

const tableOf = (m: DmmfModel) => m.dbName ?? m.name;
const columnOf = (f: DmmfField) => f.dbName ?? f.name;
const enumDbName = (name: string) => {
  const e = datamodel.enums.find((x) => x.name === name);
  if (!e) throw new Error(`unknown enum ${name}`);
  return e.dbName ?? e.name;
};
const modelByName = (name: string) => {
  const m = datamodel.models.find((x) => x.name === name);
  if (!m) throw new Error(`unknown model ${name}`);
  return m;
};
const fieldOf = (m: DmmfModel, name: string) => {
  const f = m.fields.find((x) => x.name === name);
  if (!f) throw new Error(`unknown field ${m.name}.${name}`);
  return f;
};
const scalarFields = (m: DmmfModel) => m.fields.filter((f) => f.kind === "scalar" || f.kind === "enum");

/** Prisma's default constraint/index name: `<table>_<cols>_<suffix>`, cut to Postgres' 63 bytes. */
function prismaDefaultName(table: string, columns: string[], suffix: "pkey" | "key" | "idx" | "fkey"): string {
  const stem = suffix === "pkey" ? table : [table, ...columns].join("_");
  return `${stem.slice(0, 63 - suffix.length - 1)}_${suffix}`;
}

// ---------------------------------------------------------------------------
// Partial-index predicates: the DMMF drops `where: raw("...")`, so read them
// from the schema text.

/** The text from `open` (an opening paren) to its matching close, skipping string literals. */
function balancedArgs(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") {
      depth--;
      if (depth === 0) return text.slice(open + 1, i);
    }
  }
  throw new Error(`unbalanced parentheses in schema.prisma at offset ${open}`);
}

/** Splits on commas that are not nested in (), [] or a string. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === "\\") i++;
    } else if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts.filter(Boolean);
}

interface SchemaPredicate {
  table: string;
  index: string;
  firstColumn: string;
  raw: string;
}

function partialIndexPredicates(): SchemaPredicate[] {
  const found: SchemaPredicate[] = [];
  for (const block of schemaText.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const model = modelByName(block[1]!);
    const body = block[2]!;
    for (const attr of body.matchAll(/@@(index|unique)\s*\(/g)) {
      const args = splitTopLevel(balancedArgs(body, attr.index! + attr[0].length - 1));
      const where = args.find((a) => a.startsWith("where:"));
      if (!where) continue;
      const raw = /^where:\s*raw\(\s*("(?:[^"\\]|\\.)*")\s*\)$/.exec(where);
      if (!raw) throw new Error(`test only understands where: raw("..."), found ${where} in model ${model.name}`);
      const fieldList = args.find((a) => a.startsWith("[")) ?? args.find((a) => a.startsWith("fields:"))?.replace(/^fields:\s*/, "");
      if (!fieldList) throw new Error(`no field list in @@${attr[1]} of model ${model.name}`);
      const columns = splitTopLevel(fieldList.slice(1, -1)).map((f) => columnOf(fieldOf(model, f.replace(/\(.*$/s, "").trim())));
      const map = args.map((a) => /^map:\s*"([^"]+)"$/.exec(a)?.[1]).find(Boolean);
      found.push({
        table: tableOf(model),
        index: map ?? prismaDefaultName(tableOf(model), columns, attr[1] === "unique" ? "key" : "idx"),
        firstColumn: columns[0]!,
        raw: JSON.parse(raw[1]!) as string,
      });
    }
  }
  return found;
}

const schemaPredicates = partialIndexPredicates();

// ---------------------------------------------------------------------------
// Shapes both sides are rendered into.

interface ColumnShape {
  type: string;
  nullable: boolean;
  default: string | null;
}
interface IndexShape {
  primary: boolean;
  unique: boolean;
  method: string;
  /** In key order, e.g. "id", "created_at DESC", "labels jsonb_path_ops". */
  columns: string[];
  /** As Postgres prints it (pg_get_expr of indpred). */
  predicate: string | null;
}
interface ForeignKeyShape {
  columns: string[];
  references: string;
  onDelete: string;
  onUpdate: string;
}

// --- expected, from the DMMF ---

function expectedType(f: DmmfField): string {
  if (f.isList) throw new Error(`${f.name}: scalar lists are not covered by this test yet`);
  if (f.kind === "enum") return `USER-DEFINED ${enumDbName(f.type)}`;
  if (f.nativeType) {
    const [native, args] = f.nativeType;
    switch (native) {
      case "Uuid":
        return "uuid";
      case "Text":
        return "text";
      case "Integer":
        return "integer";
      case "BigInt":
        return "bigint";
      case "SmallInt":
        return "smallint";
      case "Boolean":
        return "boolean";
      case "JsonB":
        return "jsonb";
      case "Json":
        return "json";
      case "ByteA":
        return "bytea";
      case "Timestamptz":
        return `timestamp with time zone(${args[0] ?? 6})`;
      case "Timestamp":
        return `timestamp without time zone(${args[0] ?? 6})`;
      case "VarChar":
        return args[0] ? `character varying(${args[0]})` : "character varying";
    }
    throw new Error(`${f.name}: teach expectedType() about @db.${native}`);
  }
  switch (f.type) {
    case "String":
      return "text";
    case "Int":
      return "integer";
    case "BigInt":
      return "bigint";
    case "Boolean":
      return "boolean";
    case "Float":
      return "double precision";
    case "Decimal":
      return "numeric(65,30)";
    case "DateTime":
      return "timestamp without time zone(3)";
    case "Json":
      return "jsonb";
    case "Bytes":
      return "bytea";
  }
  throw new Error(`${f.name}: teach expectedType() about ${f.type}`);
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The column default as information_schema.columns.column_default prints it. */
function expectedDefault(table: string, f: DmmfField): string | null {
  if (!f.hasDefaultValue) return null;
  const d = f.default;
  if (d !== null && typeof d === "object" && !Array.isArray(d) && "name" in d) {
    const fn = d as { name: string; args: unknown[] };
    switch (fn.name) {
      case "dbgenerated":
        return String(fn.args[0]);
      case "now":
        return "CURRENT_TIMESTAMP";
      case "autoincrement":
        return `nextval('${table}_${columnOf(f)}_seq'::regclass)`;
      // Generated by the Prisma client, not the database.
      case "uuid":
      case "cuid":
      case "ulid":
      case "nanoid":
        return null;
    }
    throw new Error(`${f.name}: teach expectedDefault() about ${fn.name}()`);
  }
  if (f.kind === "enum") return `${sqlString(String(d))}::${enumDbName(f.type)}`;
  switch (f.type) {
    case "String":
      return `${sqlString(String(d))}::text`;
    case "Json":
      return `${sqlString(String(d))}::jsonb`;
    case "Boolean":
      return String(d);
    case "Int":
    case "BigInt": {
      const n = String(d);
      return n.startsWith("-") ? `'${n}'::${f.type === "Int" ? "integer" : "bigint"}` : n;
    }
  }
  throw new Error(`${f.name}: teach expectedDefault() about ${f.type} literals`);
}

function expectedColumns(m: DmmfModel): Record<string, ColumnShape> {
  return Object.fromEntries(
    scalarFields(m).map((f) => [columnOf(f), { type: expectedType(f), nullable: !f.isRequired, default: expectedDefault(tableOf(m), f) }]),
  );
}

const METHODS: Record<string, string> = { BTree: "btree", Hash: "hash", Gist: "gist", Gin: "gin", SpGist: "spgist", Brin: "brin" };
// Opclasses that are Postgres' default for their type and method: pg_opclass
// marks them opcdefault, so the database side shows no opclass for them.
const DEFAULT_OPCLASSES = new Set(["jsonb_ops", "array_ops"]);

function opclassName(prismaName: string): string | null {
  const sql = prismaName
    .replace("MinMax", "Minmax")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
  return DEFAULT_OPCLASSES.has(sql) ? null : sql;
}

function expectedIndexes(m: DmmfModel, predicates: Map<string, string>): Record<string, IndexShape> {
  const table = tableOf(m);
  const result: Record<string, IndexShape> = {};
  for (const ix of datamodel.indexes.filter((i) => i.model === m.name)) {
    const columns = ix.fields.map((f) => columnOf(fieldOf(m, f.name)));
    const name =
      ix.dbName ??
      (ix.type === "id"
        ? (m.primaryKey?.name ?? prismaDefaultName(table, columns, "pkey"))
        : prismaDefaultName(table, columns, ix.type === "unique" ? "key" : "idx"));
    result[name] = {
      primary: ix.type === "id",
      unique: ix.type === "id" || ix.type === "unique",
      method: METHODS[ix.algorithm ?? "BTree"] ?? `unknown algorithm ${ix.algorithm}`,
      columns: ix.fields.map((f, i) => {
        const opclass = f.operatorClass ? opclassName(f.operatorClass) : null;
        return [columns[i], opclass, f.sortOrder === "desc" ? "DESC" : null].filter(Boolean).join(" ");
      }),
      predicate: predicates.get(name) ?? null,
    };
  }
  return result;
}

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

function expectedForeignKeys(m: DmmfModel): Record<string, ForeignKeyShape> {
  const table = tableOf(m);
  const result: Record<string, ForeignKeyShape> = {};
  for (const rel of m.fields.filter((f) => f.kind === "object" && (f.relationFromFields?.length ?? 0) > 0)) {
    const from = rel.relationFromFields!.map((n) => fieldOf(m, n));
    const target = modelByName(rel.type);
    const to = rel.relationToFields!.map((n) => columnOf(fieldOf(target, n)));
    // Prisma's defaults when @relation gives no onDelete/onUpdate.
    const onDelete = rel.relationOnDelete ?? (from.every((f) => f.isRequired) ? "Restrict" : "SetNull");
    const onUpdate = rel.relationOnUpdate ?? "Cascade";
    // Note: a `@relation(map: ...)` name is not in the DMMF; this assumes Prisma's default names.
    result[prismaDefaultName(table, from.map(columnOf), "fkey")] = {
      columns: from.map(columnOf),
      references: `${tableOf(target)}(${to.join(", ")})`,
      onDelete: REFERENTIAL_ACTIONS[onDelete] ?? onDelete,
      onUpdate: REFERENTIAL_ACTIONS[onUpdate] ?? onUpdate,
    };
  }
  return result;
}

// --- actual, from the database catalogs ---

interface Actual {
  tables: string[];
  enums: Record<string, string[]>;
  columns: Map<string, Record<string, ColumnShape>>;
  indexes: Map<string, Record<string, IndexShape>>;
  foreignKeys: Map<string, Record<string, ForeignKeyShape>>;
}

function group<T>(map: Map<string, Record<string, T>>, table: string, key: string, value: T) {
  const entry = map.get(table) ?? {};
  entry[key] = value;
  map.set(table, entry);
}

async function introspect(conn: MigrationConnection): Promise<Actual> {
  const tables = await conn.query<{ name: string }>(
    `SELECT table_name::text AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );

  const enums = await conn.query<{ name: string; labels: string[] }>(
    `SELECT t.typname::text AS name, json_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = current_schema() GROUP BY t.typname`,
  );

  const columns = await conn.query<{
    table: string;
    column: string;
    data_type: string;
    udt_name: string;
    precision: number | null;
    length: number | null;
    nullable: boolean;
    default: string | null;
  }>(
    `SELECT table_name::text AS "table", column_name::text AS "column", data_type::text AS data_type,
            udt_name::text AS udt_name, datetime_precision::int AS precision,
            character_maximum_length::int AS length, is_nullable::text = 'YES' AS nullable,
            column_default::text AS "default"
       FROM information_schema.columns WHERE table_schema = current_schema()`,
  );

  const indexes = await conn.query<{
    table: string;
    name: string;
    method: string;
    unique: boolean;
    primary: boolean;
    predicate: string | null;
    keys: { expr: string; opclass: string | null; desc: boolean }[];
  }>(
    `SELECT t.relname::text AS "table", i.relname::text AS name, am.amname::text AS method,
            x.indisunique AS "unique", x.indisprimary AS "primary",
            pg_get_expr(x.indpred, x.indrelid) AS predicate,
            (SELECT json_agg(json_build_object(
                      'expr', pg_get_indexdef(x.indexrelid, k.ord::int, true),
                      'opclass', CASE WHEN opc.opcdefault THEN NULL ELSE opc.opcname::text END,
                      'desc', (k.opt & 1) = 1) ORDER BY k.ord)
               FROM unnest(x.indclass::oid[], x.indoption::int2[]) WITH ORDINALITY AS k(cls, opt, ord)
               JOIN pg_opclass opc ON opc.oid = k.cls) AS keys
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = current_schema()`,
  );

  const fks = await conn.query<{
    table: string;
    name: string;
    columns: string[];
    ref_table: string;
    ref_columns: string[];
    del: string;
    upd: string;
  }>(
    `SELECT t.relname::text AS "table", c.conname::text AS name, rt.relname::text AS ref_table,
            (SELECT json_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(att, ord)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) AS columns,
            (SELECT json_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY AS k(att, ord)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att) AS ref_columns,
            c.confdeltype::text AS del, c.confupdtype::text AS upd
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_class rt ON rt.oid = c.confrelid
      WHERE c.contype = 'f' AND n.nspname = current_schema()`,
  );

  const actual: Actual = {
    tables: tables.rows.map((r) => r.name),
    enums: Object.fromEntries(enums.rows.map((r) => [r.name, r.labels])),
    columns: new Map(),
    indexes: new Map(),
    foreignKeys: new Map(),
  };
  for (const c of columns.rows) {
    let type = c.data_type === "USER-DEFINED" ? `USER-DEFINED ${c.udt_name}` : c.data_type;
    if (c.data_type.startsWith("timestamp")) type += `(${c.precision})`;
    if (c.length !== null) type += `(${c.length})`;
    // Prisma writes CURRENT_TIMESTAMP; a hand-written now() means the same.
    const dflt = c.default === "now()" ? "CURRENT_TIMESTAMP" : c.default;
    group(actual.columns, c.table, c.column, { type, nullable: c.nullable, default: dflt });
  }
  for (const ix of indexes.rows) {
    group(actual.indexes, ix.table, ix.name, {
      primary: ix.primary,
      unique: ix.unique,
      method: ix.method,
      columns: ix.keys.map((k) => [k.expr, k.opclass, k.desc ? "DESC" : null].filter(Boolean).join(" ")),
      predicate: ix.predicate,
    });
  }
  const actions: Record<string, string> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };
  for (const fk of fks.rows) {
    group(actual.foreignKeys, fk.table, fk.name, {
      columns: fk.columns,
      references: `${fk.ref_table}(${fk.ref_columns.join(", ")})`,
      onDelete: actions[fk.del] ?? fk.del,
      onUpdate: actions[fk.upd] ?? fk.upd,
    });
  }
  return actual;
}

/**
 * Postgres' own rendering of each schema predicate. Comparing text written by
 * hand against pg_get_expr would trip over parentheses and casts; instead the
 * schema's predicate is put on a throwaway index on the same table (rolled
 * back) and Postgres prints both the same way. Semantically different
 * predicates still print differently.
 */
async function normalizedSchemaPredicates(conn: MigrationConnection): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const [i, p] of schemaPredicates.entries()) {
    const probe = `sb_predicate_probe_${i}`;
    await conn.exec("BEGIN");
    try {
      await conn.exec(`CREATE INDEX "${probe}" ON "${p.table}" ("${p.firstColumn}") WHERE ${p.raw}`);
      const { rows } = await conn.query<{ predicate: string }>(
        `SELECT pg_get_expr(indpred, indrelid) AS predicate FROM pg_index WHERE indexrelid = $1::regclass`,
        [probe],
      );
      result.set(p.index, rows[0]!.predicate);
    } finally {
      await conn.exec("ROLLBACK");
    }
  }
  return result;
}

// ---------------------------------------------------------------------------

const models = datamodel.models.map((m) => ({ model: m.name, table: tableOf(m), dmmf: m }));

it("reads the schema: models, enums and the partial-index predicates", () => {
  // Guards the parsing above: an empty result would make every check below vacuous.
  expect(models.length).toBeGreaterThan(0);
  expect(datamodel.enums.length).toBeGreaterThan(0);
  expect(schemaPredicates.length).toBe((schemaText.match(/where:\s*raw\(/g) ?? []).length);
  expect(schemaPredicates.length).toBeGreaterThan(0);
  const named = new Set(datamodel.models.flatMap((m) => Object.keys(expectedIndexes(m, new Map()))));
  for (const p of schemaPredicates) expect([...named], `partial index ${p.index} is not a DMMF index`).toContain(p.index);
});

describe.each(rawTestDrivers())("migrated $name database agrees with schema.prisma", (driver) => {
  let db: RawTestDatabase;
  let actual: Actual;
  let predicates: Map<string, string>;

  beforeAll(async () => {
    db = await driver.open();
    await migrate(db.conn);
    actual = await introspect(db.conn);
    predicates = await normalizedSchemaPredicates(db.conn);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("has exactly the schema's tables (plus _prisma_migrations)", () => {
    const expected = [...models.map((m) => m.table), "_prisma_migrations"].sort();
    expect(actual.tables, "tables in the database vs models in schema.prisma").toEqual(expected);
  });

  it("has every enum with exactly its values, in order", () => {
    const expected = Object.fromEntries(datamodel.enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)]));
    expect(actual.enums, "enum types (name -> values in order)").toEqual(expected);
  });

  it.each(models)("$model ($table): columns, types, nullability and defaults", ({ table, dmmf }) => {
    expect(actual.columns.get(table) ?? {}, `columns of ${table}`).toEqual(expectedColumns(dmmf));
  });

  it.each(models)("$model ($table): primary key, unique constraints and indexes", ({ table, dmmf }) => {
    const inDb = { ...actual.indexes.get(table) };
    for (const name of Object.keys(SQL_ONLY_INDEXES)) delete inDb[name];
    expect(inDb, `indexes on ${table} (name -> shape)`).toEqual(expectedIndexes(dmmf, predicates));
  });

  it.each(models)("$model ($table): foreign keys and their referential actions", ({ table, dmmf }) => {
    expect(actual.foreignKeys.get(table) ?? {}, `foreign keys of ${table}`).toEqual(expectedForeignKeys(dmmf));
  });

  it("has the allowlisted SQL-only indexes, exactly as documented", () => {
    for (const [name, { table, ...shape }] of Object.entries(SQL_ONLY_INDEXES)) {
      expect(actual.indexes.get(table)?.[name], `SQL-only index ${name} on ${table}`).toEqual(shape);
    }
  });
});
