/**
 * Running an Argo CD health script with the real Lua 5.1 interpreter (Debian's lua5.1; Argo CD
 * runs gopher-lua, a Lua 5.1) the way Argo CD runs it (util/lua/lua.go, argoproj/argo-cd
 * 37ee0097): the resource as the global `obj`, the chunk's return value read as
 * `{status, message}`, and for argocd-cm scripts only the libraries Argo CD opens for them (base,
 * table, package, and an os with time and date): no string library, and no string methods,
 * since gopher-lua gives strings their metatable only with that library. Built-in scripts run
 * with every library (`openLibs`).
 */
import { spawnSync } from 'node:child_process';

/** The health status names Argo CD accepts from a script (any other becomes Unknown). */
export const HEALTH_STATUSES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'] as const;
export type HealthStatusCode = (typeof HEALTH_STATUSES)[number];

export interface HealthResult {
  readonly status: HealthStatusCode;
  /** Argo CD drops a nil message: '' then. */
  readonly message: string;
}

/** Lua's own escapes for the bytes a quoted string cannot hold; other bytes go in as they are. */
function luaString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    // Three digits always, so a digit after the escape cannot extend it.
    else if (code < 0x20 || code === 0x7f) out += `\\${String(code).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A JSON-like value as a Lua table constructor, as Argo CD hands it to a script: objects become
 * tables keyed by string, arrays 1-based sequences, numbers Lua numbers, and a null member is
 * absent (gopher-lua stores nil, which is no entry). A null array item has no faithful form.
 */
export function toLuaLiteral(value: unknown, path = 'obj'): string {
  if (value === null || value === undefined) throw new Error(`${path}: no Lua value for ${String(value)}`);
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path}: ${value} is not a JSON number`);
    return String(value);
  }
  if (Array.isArray(value)) return `{${value.map((item, i) => toLuaLiteral(item, `${path}[${i}]`)).join(', ')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${toLuaLiteral(v, `${path}.${k}`)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new Error(`${path}: no Lua value for a ${typeof value}`);
}

/** The script as a long string whose closing bracket it does not contain. */
function longString(s: string): string {
  let level = '';
  while (s.includes(`]${level}]`)) level += '=';
  // A long string drops a newline right after its opening bracket: give it one to drop.
  return `[${level}[\n${s}]${level}]`;
}

// The globals gopher-lua's OpenBase defines (yuin/gopher-lua v1.1.2 baselib.go, the version
// Argo CD's go.mod pins), all of which PUC Lua 5.1 also has; OpenPackage adds `package`.
const BASE = [
  'assert', 'collectgarbage', 'dofile', 'error', 'getfenv', 'getmetatable', 'ipairs', 'load', 'loadfile',
  'loadstring', 'module', 'newproxy', 'next', 'pairs', 'pcall', 'print', 'rawequal', 'rawget', 'rawset',
  'require', 'select', 'setfenv', 'setmetatable', 'tonumber', 'tostring', 'type', 'unpack', 'xpcall', '_VERSION',
];

function program(script: string, obj: unknown, name: string, openLibs: boolean): string {
  return `
local script = ${longString(script)}
local obj = ${toLuaLiteral(obj)}
local write, fail, type_, tostring_ = io.write, function(code, m) io.stderr:write(m) os.exit(code) end, type, tostring
local env
if ${openLibs} then
  env = setmetatable({}, { __index = _G })
else
  env = {}
  for _, name in ipairs({ ${BASE.map((n) => luaString(n)).join(', ')} }) do env[name] = _G[name] end
  env.table, env.package, env.os, env._G = table, package, { time = os.time, date = os.date }, env
  getmetatable("").__index = nil
end
env.obj = obj
local chunk, err = loadstring(script, ${luaString(`=${name}`)})
if chunk == nil then fail(2, err) end
setfenv(chunk, env)
local ok, hs = pcall(chunk)
if not ok then fail(3, tostring_(hs)) end
if type_(hs) ~= "table" then fail(4, "returned " .. type_(hs) .. ", not a table") end
write(type_(hs.status), "\\n", tostring_(hs.status), "\\n", type_(hs.message), "\\n", tostring_(hs.message))
`;
}

/**
 * What Argo CD makes of the script's answer for `obj`. Throws where Argo CD would report an
 * error (syntax, runtime error, a return value that is not a table, a message that is not a
 * string) or would replace the answer with Unknown (a status name it does not know).
 */
export function runHealthScript(script: string, obj: unknown, options: { name?: string; openLibs?: boolean } = {}): HealthResult {
  const name = options.name ?? 'health.lua';
  const r = spawnSync('lua5.1', ['-'], { input: program(script, obj, name, options.openLibs ?? false), encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${name}: lua5.1 exited ${r.status ?? r.signal}: ${r.stderr}`);
  const [statusType, status, messageType, ...rest] = r.stdout.split('\n');
  const message = rest.join('\n');
  if (statusType !== 'string' || !(HEALTH_STATUSES as readonly string[]).includes(status)) {
    throw new Error(`${name}: status ${status} (${statusType}) is not one of ${HEALTH_STATUSES.join(', ')}`);
  }
  if (messageType !== 'string' && messageType !== 'nil') throw new Error(`${name}: message is a ${messageType}, not a string`);
  return { status: status as HealthStatusCode, message: messageType === 'nil' ? '' : message };
}
