// Weight decoding shared by matmul.wgsl, embed.wgsl and moe.wgsl (prepended to
// them: WGSL has no includes). The including kernel declares the weight part
// binding `w: array<u32>`. One call decodes 4 consecutive elements of a row.
//
// Layouts of one weight part (src/backend/webgpu/weight-layout.ts), rows
// local to the part, K the row length:
//   WDTYPE 0 f32   row r at word r·KP (KP = K rounded up to 4, zero-padded)
//   WDTYPE 1 f16   row r at word r·KP/2, two halves per word (unpack2x16float:
//                  core WGSL, so no shader-f16 is needed to read f16 weights)
//   WDTYPE 2 bf16  row r at word r·KP/2, two bf16 per word (low half first)
//   WDTYPE 3 q8_0  f32 scales [rows·K/32] at word 0, then from word qBase the
//                  int8 quants, K/4 words per row (ggml order, 4 per word)
//   WDTYPE 4 q4_0  f32 scales as q8_0, then from qBase the ggml nibble bytes,
//                  K/8 words per row: in each 16-byte block, element j < 16 is
//                  the low nibble of byte j and element j + 16 its high nibble
//   WDTYPE 5..14   the file's blocks, each padded to whole words (blockWords
//                  W), K/BLOCK blocks per row: block b of row r at word
//                  (r·K/BLOCK + b)·W; byte layouts in src/model/quant/ (Q5_0
//                  and IQ4_NL with d moved behind the quants). Decoded by
//                  blockWeight4 below, f16 fields by half() (exact for
//                  subnormals, which unpack2x16float may flush).
//                  5 q4_1 (32, W 5)   6 q5_0 (32, 6)    7 q5_1 (32, 6)   8 iq4_nl (32, 5)
//                  9 q2_k (256, 21)  10 q3_k (256, 28) 11 q4_k (256, 36) 12 q5_k (256, 44)
//                 13 q6_k (256, 53)  14 iq4_xs (256, 34)
override WDTYPE: u32 = 0u;

fn sext8(v: u32) -> f32 {
  return f32(bitcast<i32>(v << 24u) >> 24u);
}

// Elements [4g, 4g + 4) of row `row`.
fn weight4(row: u32, g: u32, K: u32, qBase: u32) -> vec4<f32> {
  let KP = (K + 3u) & ~3u;
  switch WDTYPE {
    case 0u: {
      let b = row * KP + 4u * g;
      return vec4<f32>(bitcast<f32>(w[b]), bitcast<f32>(w[b + 1u]), bitcast<f32>(w[b + 2u]), bitcast<f32>(w[b + 3u]));
    }
    case 1u: {
      let b = row * (KP / 2u) + 2u * g;
      return vec4<f32>(unpack2x16float(w[b]), unpack2x16float(w[b + 1u]));
    }
    case 2u: {
      let b = row * (KP / 2u) + 2u * g;
      let a = w[b];
      let c = w[b + 1u];
      return vec4<f32>(bitcast<f32>(a << 16u), bitcast<f32>(a & 0xffff0000u), bitcast<f32>(c << 16u), bitcast<f32>(c & 0xffff0000u));
    }
    case 3u: {
      let k = 4u * g;
      let d = bitcast<f32>(w[row * (K / 32u) + k / 32u]);
      let q = w[qBase + row * (K / 4u) + g];
      return vec4<f32>(sext8(q), sext8(q >> 8u), sext8(q >> 16u), sext8(q >> 24u)) * d;
    }
    case 4u: {
      let k = 4u * g;
      let j = k % 32u;
      let d = bitcast<f32>(w[row * (K / 32u) + k / 32u]);
      let q = w[qBase + row * (K / 8u) + (k / 32u) * 4u + (j % 16u) / 4u] >> select(0u, 4u, j >= 16u);
      let n = vec4<u32>(q & 15u, (q >> 8u) & 15u, (q >> 16u) & 15u, (q >> 24u) & 15u);
      return (vec4<f32>(n) - 8.0) * d;
    }
    default: {
      return blockWeight4(row, 4u * g, K);
    }
  }
}

// ---- the padded-block types (WDTYPE 5..14) ----

/** An f16 (low 16 bits of h) → f32, exact for zero, subnormal and normal halves. */
fn half(h: u32) -> f32 {
  let e = (h >> 10u) & 31u;
  let m = h & 1023u;
  var v = bitcast<f32>(((e + 112u) << 23u) | (m << 13u));
  if (e == 0u) { v = f32(m) * 5.9604645e-8; } // m·2^-24
  return select(v, -v, (h & 0x8000u) != 0u);
}

/** Byte i of the block at word bw. */
fn blockByte(bw: u32, i: u32) -> u32 {
  return (w[bw + i / 4u] >> (8u * (i % 4u))) & 255u;
}

/** The f16 at byte i (even) of the block at word bw. */
fn blockHalf(bw: u32, i: u32) -> f32 {
  return half(w[bw + i / 4u] >> (8u * (i % 4u)));
}

/** Byte t (0..3) of a word as a u32, for four consecutive elements. */
fn bytes4(word: u32) -> vec4<u32> {
  return vec4<u32>(word & 255u, (word >> 8u) & 255u, (word >> 16u) & 255u, word >> 24u);
}

/** ggml's kvalues_iq4nl[i], packed four signed bytes to a word. */
fn iq4Value(i: u32) -> f32 {
  var words = array<u32, 4>(0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u);
  return f32(bitcast<i32>(words[i / 4u] << (24u - 8u * (i % 4u))) >> 24u);
}

fn iq4Values(n: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(iq4Value(n.x), iq4Value(n.y), iq4Value(n.z), iq4Value(n.w));
}

/** The 6-bit scale (sc, m) pair j of a Q4_K/Q5_K block (get_scale_min_k4), scale bytes at 4. */
fn scaleMinK4(bw: u32, j: u32) -> vec2<f32> {
  if (j < 4u) { return vec2<f32>(f32(blockByte(bw, 4u + j) & 63u), f32(blockByte(bw, 8u + j) & 63u)); }
  let b = blockByte(bw, 8u + j);
  return vec2<f32>(f32((b & 15u) | ((blockByte(bw, j) >> 6u) << 4u)), f32((b >> 4u) | ((blockByte(bw, 4u + j) >> 6u) << 4u)));
}

/** Words per padded block of WDTYPE 5..14 (the table's gpu.layout.blockWords). */
fn blockWords() -> u32 {
  switch WDTYPE {
    case 5u, 8u: { return 5u; }
    case 6u, 7u: { return 6u; }
    case 9u: { return 21u; }
    case 10u: { return 28u; }
    case 11u: { return 36u; }
    case 12u: { return 44u; }
    case 13u: { return 53u; }
    default: { return 34u; }
  }
}

/** Elements [k, k + 4) of row `row` (k a multiple of 4) for WDTYPE 5..14. */
fn blockWeight4(row: u32, k: u32, K: u32) -> vec4<f32> {
  let QK = select(32u, 256u, WDTYPE >= 9u);
  let W = blockWords();
  let bw = (row * (K / QK) + k / QK) * W;
  let i = k % QK;
  // 32-element blocks: element i < 16 in byte i's low nibble, i + 16 in its high one.
  let j = i % 16u;
  let hi = select(0u, 4u, i >= 16u);
  switch WDTYPE {
    case 5u: { // q4_1: d, m, qs[16]
      let d = blockHalf(bw, 0u);
      let m = blockHalf(bw, 2u);
      let n = (bytes4(w[bw + 1u + j / 4u]) >> vec4<u32>(hi)) & vec4<u32>(15u);
      return vec4<f32>(n) * d + m;
    }
    case 6u: { // q5_0 (moved): qh, qs[16], d
      let n = (bytes4(w[bw + 1u + j / 4u]) >> vec4<u32>(hi)) & vec4<u32>(15u);
      let h = (vec4<u32>(w[bw]) >> (vec4<u32>(i) + vec4<u32>(0u, 1u, 2u, 3u))) & vec4<u32>(1u);
      return (vec4<f32>(n | (h << vec4<u32>(4u))) - 16.0) * blockHalf(bw, 20u);
    }
    case 7u: { // q5_1: d, m, qh, qs[16]
      let n = (bytes4(w[bw + 2u + j / 4u]) >> vec4<u32>(hi)) & vec4<u32>(15u);
      let h = (vec4<u32>(w[bw + 1u]) >> (vec4<u32>(i) + vec4<u32>(0u, 1u, 2u, 3u))) & vec4<u32>(1u);
      return vec4<f32>(n | (h << vec4<u32>(4u))) * blockHalf(bw, 0u) + blockHalf(bw, 2u);
    }
    case 8u: { // iq4_nl (moved): qs[16], d
      let n = (bytes4(w[bw + j / 4u]) >> vec4<u32>(hi)) & vec4<u32>(15u);
      return blockHalf(bw, 16u) * iq4Values(n);
    }
    case 9u: { // q2_k: scales[16], qs[64], d, dmin
      let n = i / 128u;
      let jj = (i % 128u) / 32u;
      let l = i % 32u;
      let q = (bytes4(w[bw + 4u + 8u * n + l / 4u]) >> vec4<u32>(2u * jj)) & vec4<u32>(3u);
      let sc = blockByte(bw, 8u * n + 2u * jj + l / 16u);
      return vec4<f32>(q) * (blockHalf(bw, 80u) * f32(sc & 15u)) - blockHalf(bw, 82u) * f32(sc >> 4u);
    }
    case 10u: { // q3_k: hmask[32], qs[64], scales[12], d
      let n = i / 128u;
      let jj = (i % 128u) / 32u;
      let l = i % 32u;
      let low = (bytes4(w[bw + 8u + 8u * n + l / 4u]) >> vec4<u32>(2u * jj)) & vec4<u32>(3u);
      let h = (bytes4(w[bw + l / 4u]) >> vec4<u32>(4u * n + jj)) & vec4<u32>(1u);
      let s = 8u * n + 2u * jj + l / 16u;
      let lo4 = select(blockByte(bw, 96u + s) & 15u, blockByte(bw, 88u + s) >> 4u, s >= 8u);
      let sc = i32(lo4 | (((blockByte(bw, 104u + s % 4u) >> (2u * (s / 4u))) & 3u) << 4u)) - 32;
      return (vec4<f32>(low) - 4.0 * (1.0 - vec4<f32>(h))) * (blockHalf(bw, 108u) * f32(sc));
    }
    case 11u, 12u: { // q4_k: d, dmin, scales[12], qs[128]; q5_k: ..., qh[32], qs[128]
      let sub = i / 32u;
      let l = i % 32u;
      let qs = select(4u, 12u, WDTYPE == 12u);
      var n = (bytes4(w[bw + qs + 8u * (sub / 2u) + l / 4u]) >> vec4<u32>(4u * (sub % 2u))) & vec4<u32>(15u);
      if (WDTYPE == 12u) { n += ((bytes4(w[bw + 4u + l / 4u]) >> vec4<u32>(sub)) & vec4<u32>(1u)) * 16u; }
      let sm = scaleMinK4(bw, sub);
      return vec4<f32>(n) * (blockHalf(bw, 0u) * sm.x) - blockHalf(bw, 2u) * sm.y;
    }
    case 13u: { // q6_k: ql[128], qh[64], scales[16] (i8), d
      let n = i / 128u;
      let kk = (i % 128u) / 32u;
      let l = i % 32u;
      let low = (bytes4(w[bw + 16u * n + 8u * (kk % 2u) + l / 4u]) >> vec4<u32>(4u * (kk / 2u))) & vec4<u32>(15u);
      let h = (bytes4(w[bw + 32u + 8u * n + l / 4u]) >> vec4<u32>(2u * kk)) & vec4<u32>(3u);
      let sc = bitcast<i32>(blockByte(bw, 192u + 8u * n + 2u * kk + l / 16u) << 24u) >> 24u;
      return (vec4<f32>(low | (h << vec4<u32>(4u))) - 32.0) * (blockHalf(bw, 208u) * f32(sc));
    }
    default: { // iq4_xs: d, scales_h, scales_l[4], qs[128]
      let ib = i / 32u;
      let l = i % 32u;
      let n = (bytes4(w[bw + 2u + 4u * ib + (l % 16u) / 4u]) >> vec4<u32>(select(0u, 4u, l >= 16u))) & vec4<u32>(15u);
      let ls = ((blockByte(bw, 4u + ib / 2u) >> (4u * (ib % 2u))) & 15u) | (((w[bw] >> (16u + 2u * ib)) & 3u) << 4u);
      return (blockHalf(bw, 0u) * f32(i32(ls) - 32)) * iq4Values(n);
    }
  }
}
