/** Types of scripts/crd-schemas.mjs, for the tests that use it. */
import type { CompiledSchema, JsonSchema } from '../charts/common/schema-validation';

export function strictSchema(schema: JsonSchema, root?: boolean): JsonSchema;
export function hoisted(schema: JsonSchema): JsonSchema;
export function compileStrict(schema: JsonSchema): CompiledSchema;
export function baseName(group: string, version: string, kind: string): string;
export function extractSchemas(crdsDir: string): Map<string, string>;
export function validatorModule(jsonFile: string, jsonText: string): string;
export function generate(crdsDir: string): Map<string, string>;
