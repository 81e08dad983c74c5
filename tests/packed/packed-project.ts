import { spawn } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * A scratch project outside the workspace with every publishable package installed from its packed
 * tarball, as a consumer would get it: the built `dist`, only the files `pnpm pack` ships, dependencies
 * from the registry. Nothing here resolves through the workspace or the `@peak-oms/source` condition.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const CONSUMER_DIR = join(dirname(fileURLToPath(import.meta.url)), 'consumer')

interface PackageJson {
  name: string
  version: string
  private?: boolean
  main?: string
  module?: string
  types?: string
  exports?: unknown
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

interface WorkspacePackage {
  dir: string
  json: PackageJson
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

const readJson = (file: string): PackageJson => JSON.parse(readFileSync(file, 'utf8')) as PackageJson

/** The environment for child processes: nothing from the test runner or from `pnpm run` leaks in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(VITEST|NODE_OPTIONS$|NODE_ENV$|TSX_|npm_lifecycle_|npm_package_|npm_command$|PNPM_PACKAGE_NAME$)/i.test(
        key,
      )
    )
      continue
    if (/^(npm|pnpm)_config_verify_deps_before_run$/i.test(key)) continue
    env[key] = value
  }
  return env
}

export function run(command: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
  })
}

async function runOrThrow(command: string, args: string[], cwd: string): Promise<RunResult> {
  const result = await run(command, args, cwd)
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(' ')}\` in ${cwd} exited with ${result.code}\n${result.stdout}\n${result.stderr}`,
    )
  }
  return result
}

function workspacePackages(): WorkspacePackage[] {
  const root = join(REPO_ROOT, 'packages')
  return readdirSync(root)
    .map((name) => join(root, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, json: readJson(join(dir, 'package.json')) }))
}

/** Every package under packages/ that is published (not private). */
export function publishablePackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => !p.json.private)
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

function exportTargets(json: PackageJson): string[] {
  const targets = new Set<string>()
  const visit = (value: unknown, condition: string | null) => {
    if (typeof value === 'string') {
      if (condition !== '@peak-oms/source' && value.startsWith('./dist/')) targets.add(value)
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) visit(inner, key.startsWith('.') ? condition : key)
    }
  }
  visit(json.exports, null)
  for (const field of [json.main, json.module, json.types]) if (field) targets.add(field)
  return [...targets]
}

/**
 * True when a file the package exports is missing, or older than its sources: its own src, package.json
 * and tsup config, and those of the private workspace packages bundled into it.
 */
function isStale(pkg: WorkspacePackage, all: WorkspacePackage[]): boolean {
  const bundled = all.filter((p) => p.json.private && pkg.json.devDependencies?.[p.json.name])
  const inputs = [pkg, ...bundled].flatMap((p) => [
    join(p.dir, 'src'),
    join(p.dir, 'package.json'),
    join(p.dir, 'tsup.config.ts'),
  ])
  const newestInput = Math.max(...inputs.map(newestMtime))
  const outputs = exportTargets(pkg.json).map((target) => join(pkg.dir, target))
  if (outputs.some((file) => !existsSync(file))) return true
  return Math.min(...outputs.map((file) => statSync(file).mtimeMs)) < newestInput
}

/** Builds the publishable packages whose dist is missing or stale (none after `pnpm build`). */
export async function buildStalePackages(): Promise<string[]> {
  const all = workspacePackages()
  const stale = publishablePackages().filter((p) => isStale(p, all))
  if (stale.length > 0) {
    const filters = stale.flatMap((p) => ['--filter', p.json.name])
    await runOrThrow('pnpm', ['-r', ...filters, 'run', 'build'], REPO_ROOT)
  }
  return stale.map((p) => p.json.name)
}

/** The version installed in the workspace for `name`, as seen from `fromDir`. */
function installedPackageDir(name: string, fromDir: string): string {
  const dir = join(fromDir, 'node_modules', name)
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`${name} is not installed for ${fromDir}`)
  return realpathSync(dir)
}

/** The node_modules directory that holds a package (pnpm puts its dependencies next to it). */
const containingNodeModules = (pkgDir: string, name: string) =>
  resolve(pkgDir, ...name.split('/').map(() => '..'))

/**
 * Pins every dependency edge under `rootName` to what the workspace has installed, e.g.
 * `"prebuild-install@7.1.3>node-abi": "3.101.0"`. With the same dependency graph, pnpm reuses the native
 * build from the store's side-effects cache instead of compiling better-sqlite3 again.
 */
function pinSubgraph(rootName: string, fromDir: string, pins: Record<string, string>): string {
  const rootDir = installedPackageDir(rootName, fromDir)
  const seen = new Set<string>()
  const walk = (dir: string) => {
    const json = readJson(join(dir, 'package.json'))
    const id = `${json.name}@${json.version}`
    if (seen.has(id)) return
    seen.add(id)
    const siblings = containingNodeModules(dir, json.name)
    for (const dep of Object.keys({ ...json.dependencies, ...json.optionalDependencies })) {
      const depLink = join(siblings, dep)
      if (!existsSync(join(depLink, 'package.json'))) continue
      const depDir = realpathSync(depLink)
      pins[`${id}>${dep}`] = readJson(join(depDir, 'package.json')).version
      walk(depDir)
    }
  }
  walk(rootDir)
  return readJson(join(rootDir, 'package.json')).version
}

export interface PackedProject {
  dir: string
  /** Runs `node <args>` in the scratch project. */
  node(args: string[]): Promise<RunResult>
  /** Runs the workspace's TypeScript compiler on the scratch project's tsconfig.json. */
  typecheck(): Promise<RunResult>
  remove(): void
}

/**
 * Packs every publishable package and installs the tarballs into a fresh project under the OS temp
 * directory, with `better-sqlite3` and `pg` (their peers) and `@types/node`, but neither vitest nor
 * fast-check. Uses the workspace's pnpm store, preferring what it already holds.
 */
export async function createPackedProject(): Promise<PackedProject> {
  const dir = mkdtempSync(join(realpathSync(tmpdir()), 'peak-oms-packed-'))
  if (!relative(REPO_ROOT, dir).startsWith(`..${sep}`)) throw new Error(`${dir} is inside the workspace`)
  try {
    const packages = publishablePackages()
    const tarballs = join(dir, 'tarballs')
    const filters = packages.flatMap((p) => ['--filter', p.json.name])
    await runOrThrow('pnpm', ['-r', ...filters, 'pack', '--pack-destination', tarballs], REPO_ROOT)
    const storeDir = (await runOrThrow('pnpm', ['store', 'path'], REPO_ROOT)).stdout.trim()

    const dependencies: Record<string, string> = {}
    const overrides: Record<string, string> = {}
    for (const { dir: pkgDir, json } of packages) {
      const file = `${json.name.replace(/^@/, '').replace('/', '-')}-${json.version}.tgz`
      if (!existsSync(join(tarballs, file))) throw new Error(`pnpm pack did not write ${file}`)
      dependencies[json.name] = `file:./tarballs/${file}`
      // the same versions the workspace tests run against
      for (const dep of Object.keys(json.dependencies ?? {})) {
        overrides[dep] = readJson(join(installedPackageDir(dep, pkgDir), 'package.json')).version
      }
    }
    const sqliteDir = join(REPO_ROOT, 'packages', 'storage-sqlite')
    dependencies['better-sqlite3'] = pinSubgraph('better-sqlite3', sqliteDir, overrides)
    dependencies.pg = readJson(
      join(installedPackageDir('pg', join(REPO_ROOT, 'packages', 'storage-pg')), 'package.json'),
    ).version
    const typesNode = readJson(join(installedPackageDir('@types/node', REPO_ROOT), 'package.json')).version
    dependencies['@types/node'] = typesNode
    overrides['@types/node'] = typesNode

    await writeFile(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: 'peak-oms-packed-consumer', private: true, dependencies }, null, 2)}\n`,
    )
    // JSON is valid YAML; pnpm 10 reads these settings from pnpm-workspace.yaml
    await writeFile(
      join(dir, 'pnpm-workspace.yaml'),
      `${JSON.stringify({ onlyBuiltDependencies: ['better-sqlite3'], overrides }, null, 2)}\n`,
    )
    cpSync(CONSUMER_DIR, dir, { recursive: true })
    await runOrThrow(
      'pnpm',
      [
        'install',
        '--prefer-offline',
        '--no-frozen-lockfile',
        '--store-dir',
        storeDir,
        '--reporter',
        'append-only',
      ],
      dir,
    )
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  return {
    dir,
    node: (args) => run(process.execPath, args, dir),
    typecheck: () => run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], dir),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
