// The TypeScript heap starts past the module's static data (__heap_base). The
// module is built with the stub runtime and must not allocate at run time.
export function heapBase(): usize {
  return __heap_base;
}
