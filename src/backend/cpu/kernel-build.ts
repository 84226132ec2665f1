// Which build of the Wasm kernels runs: relaxed SIMD (FMA, int8 dot products)
// where the runtime has it and every relaxed op the kernels use gives the
// portable result, else plain SIMD (Safari, older runtimes). Runtime-neutral:
// it only instantiates modules it is given (Node reads them from disk in
// wasm-module-node.ts; a Worker imports them, src/wasm.ts).
//
// Feature detection alone is not enough: Node 20's V8 compiles
// i32x4.relaxed_dot_i8x16_i7x16_add_s but returns wrong sums, so the relaxed
// build runs its own self-test (assembly/kernels/simd_self_test.ts) first.

/** The module's builds: build/edgeseek{,-relaxed}{,-threads}.wasm. */
export interface KernelModules {
  plain: WebAssembly.Module;
  /** Absent where the runtime cannot compile relaxed SIMD. */
  relaxed?: WebAssembly.Module;
  /** The shared-memory builds, for threads > 1 (Node and Deno). */
  plainThreads?: WebAssembly.Module;
  relaxedThreads?: WebAssembly.Module;
}

export type KernelBuild = 'relaxed' | 'plain';
/** 'auto' picks relaxed when its self-test passes; 'plain' forces the fallback; 'relaxed' fails loudly when it cannot run. */
export type SimdChoice = 'auto' | KernelBuild;
export const SIMD_CHOICES: readonly SimdChoice[] = ['auto', 'relaxed', 'plain'];

/** Bits of simd_self_test, one per relaxed op (assembly/kernels/simd_self_test.ts). */
export const RELAXED_OPS = {
  madd: 1, // f32x4.relaxed_madd
  dotI16: 2, // i16x8.relaxed_dot_i8x16_i7x16_s
  dotAdd: 4, // i32x4.relaxed_dot_i8x16_i7x16_add_s
} as const;
/** Ops every relaxed kernel relies on; dotAdd only selects the int8 kernels' faster twin. */
export const REQUIRED_RELAXED_OPS = RELAXED_OPS.madd | RELAXED_OPS.dotI16;

export interface SelectedKernels {
  /** Undefined when one module was given: it runs as it is (the backend reads its build from it). */
  build?: KernelBuild;
  module: WebAssembly.Module;
  threadsModule?: WebAssembly.Module;
  /** Why this build (for logs and errors). */
  reason: string;
}

interface SelfTestExports {
  heapBase(): number;
  memory?: WebAssembly.Memory;
  simd_relaxed(): number;
  simd_self_test(scratch: number, seed: number): number;
}

const SELF_TEST_SEED = 12345;

/** The relaxed ops of an instance's build that pass the self-test (0 in the plain build). */
export function relaxedOpsOf(exports: object): number {
  const e = exports as SelfTestExports;
  if (typeof e.simd_relaxed !== 'function' || e.simd_relaxed() !== 1) return 0;
  return e.simd_self_test(e.heapBase(), SELF_TEST_SEED);
}

/** Names of the ops in `required` missing from `passed`. */
export function failedOps(passed: number, required = REQUIRED_RELAXED_OPS): string[] {
  const names: Record<string, string> = {
    madd: 'f32x4.relaxed_madd', dotI16: 'i16x8.relaxed_dot_i8x16_i7x16_s', dotAdd: 'i32x4.relaxed_dot_i8x16_i7x16_add_s',
  };
  return Object.entries(RELAXED_OPS).filter(([, bit]) => (required & bit) && !(passed & bit)).map(([name]) => names[name]);
}

/** Runs the relaxed module's self-test in a throwaway instance (its own small memory). */
export async function selfTestModule(module: WebAssembly.Module): Promise<number> {
  const imports = { env: { abort() { throw new Error('edgeseek.wasm aborted in its SIMD self-test'); } } };
  const instance = await WebAssembly.instantiate(module, imports);
  return relaxedOpsOf(instance.exports);
}

/** From the set of builds, the build to run and its threads build; a single module runs as it is. */
export async function selectKernels(
  modules: WebAssembly.Module | KernelModules, choice: SimdChoice = 'auto',
): Promise<SelectedKernels> {
  if (!SIMD_CHOICES.includes(choice)) throw new Error(`simd must be one of ${SIMD_CHOICES.join(', ')}, got '${String(choice)}'`);
  if (modules instanceof WebAssembly.Module) return { module: modules, reason: 'the one module given' };
  const set = modules;
  const plain = (reason: string): SelectedKernels => ({ build: 'plain', module: set.plain, threadsModule: set.plainThreads, reason });
  if (choice === 'plain') return plain('plain SIMD asked for');
  if (!set.relaxed) {
    if (choice === 'relaxed') throw new Error('simd relaxed: this runtime cannot compile the relaxed-SIMD build');
    return plain('this runtime has no relaxed SIMD');
  }
  let passed = 0;
  let failure = '';
  try {
    passed = await selfTestModule(set.relaxed);
  } catch (error) {
    failure = `the relaxed build did not instantiate (${error instanceof Error ? error.message : String(error)})`;
  }
  const missing = failure ? [] : failedOps(passed);
  if (failure || missing.length) {
    const why = failure || `relaxed-SIMD self-test failed for ${missing.join(', ')}`;
    if (choice === 'relaxed') throw new Error(`simd relaxed: ${why}`);
    return plain(why);
  }
  const extra = passed & RELAXED_OPS.dotAdd ? '' : ` (without ${failedOps(passed, RELAXED_OPS.dotAdd).join(', ')}, which gives wrong sums here)`;
  return { build: 'relaxed', module: set.relaxed, threadsModule: set.relaxedThreads, reason: `relaxed SIMD self-test passed${extra}` };
}
