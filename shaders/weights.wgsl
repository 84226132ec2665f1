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
    default: {
      let k = 4u * g;
      let j = k % 32u;
      let d = bitcast<f32>(w[row * (K / 32u) + k / 32u]);
      let q = w[qBase + row * (K / 8u) + (k / 32u) * 4u + (j % 16u) / 4u] >> select(0u, 4u, j >= 16u);
      let n = vec4<u32>(q & 15u, (q >> 8u) & 15u, (q >> 16u) & 15u, (q >> 24u) & 15u);
      return (vec4<f32>(n) - 8.0) * d;
    }
  }
}
