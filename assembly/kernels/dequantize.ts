// Weight rows → f32 (embedding gathers, and anywhere a row is needed whole).
// Layouts: see src/backend/cpu/kernel-exports.ts.
import { storeScaledI8x16 } from './block_dot';
import {
  halfToF32, halvesNormal, interleaveHigh, interleaveLow, loadBf16x8High, loadBf16x8Low, loadHalf8High, loadHalf8Low, normalHalvesUpper,
} from './half';

export function dequantize_f16(src: usize, dst: usize, count: i32): void {
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const raw = v128.load(src + (<usize>i << 1));
    if (halvesNormal(raw)) {
      // The integer-only path of normal halves (half.ts): f32 bits assembled by shuffles.
      const lower = i16x8.shl(raw, 13);
      const upper = normalHalvesUpper(raw);
      v128.store(dst + (<usize>i << 2), interleaveLow(lower, upper));
      v128.store(dst + (<usize>i << 2), interleaveHigh(lower, upper), 16);
    } else {
      v128.store(dst + (<usize>i << 2), loadHalf8Low(src + (<usize>i << 1)));
      v128.store(dst + (<usize>i << 2), loadHalf8High(src + (<usize>i << 1)), 16);
    }
  }
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), halfToF32(load<u16>(src + (<usize>i << 1))));
}

export function dequantize_bf16(src: usize, dst: usize, count: i32): void {
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    v128.store(dst + (<usize>i << 2), loadBf16x8Low(src + (<usize>i << 1)));
    v128.store(dst + (<usize>i << 2), loadBf16x8High(src + (<usize>i << 1)), 16);
  }
  for (; i < count; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}

export function dequantize_q8_0(src: usize, dst: usize, count: i32): void {
  const blocks = count >> 5;
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 34;
    const d = f32x4.splat(halfToF32(load<u16>(p)));
    const o = dst + (<usize>b << 7);
    storeScaledI8x16(v128.load(p, 2), d, o);
    storeScaledI8x16(v128.load(p, 18), d, o + 64);
  }
}

export function dequantize_q4_0(src: usize, dst: usize, count: i32): void {
  const blocks = count >> 5;
  const low = i8x16.splat(0x0f);
  const eight = i8x16.splat(8);
  for (let b = 0; b < blocks; b++) {
    const p = src + <usize>b * 18;
    const d = f32x4.splat(halfToF32(load<u16>(p)));
    const q = v128.load(p, 2);
    const o = dst + (<usize>b << 7);
    storeScaledI8x16(i8x16.sub(v128.and(q, low), eight), d, o);
    storeScaledI8x16(i8x16.sub(i8x16.shr_u(q, 4), eight), d, o + 64);
  }
}
