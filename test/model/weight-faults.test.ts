// design.md "Formats": a corrupt, truncated or mismatched file is a clear
// error naming the file and tensor, and nothing is half-loaded. One test per fault.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend, type CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { loadWeights } from '../../src/model/load-weights.ts';
import { memorySource } from '../../src/model/source.ts';
import { GOLDEN_DIR } from '../support/golden.ts';

const config = readFileSync(`${GOLDEN_DIR}/config.json`);
const safetensors = new Uint8Array(readFileSync(`${GOLDEN_DIR}/model.safetensors`));
const gguf = new Uint8Array(readFileSync(`${GOLDEN_DIR}/model.gguf`));

let backend: CpuBackend;
beforeAll(async () => { backend = await createCpuBackend(await loadWasmModuleFromDisk()); });

/** Loads a model from in-memory files and returns the error message, checking nothing stayed allocated. */
async function loadError(files: Record<string, Uint8Array>): Promise<string> {
  const before = backend.allocatedBytes;
  try {
    const checkpoint = await openCheckpoint(memorySource(files, 'test-model'));
    await loadWeights(checkpoint, backend);
  } catch (error) {
    expect(backend.allocatedBytes, 'memory of a failed load is released').toBe(before);
    return (error as Error).message;
  }
  throw new Error('the faulty model loaded without an error');
}

function safetensorsHeader(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

function withHeader(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function hf(weights: Uint8Array, configJson: Uint8Array = config): Record<string, Uint8Array> {
  return { 'config.json': configJson, 'model.safetensors': weights };
}

describe('safetensors faults', () => {
  it('the intact model loads (the baseline the faults differ from)', async () => {
    const checkpoint = await openCheckpoint(memorySource(hf(safetensors), 'test-model'));
    const weights = await loadWeights(checkpoint, backend);
    for (const w of weights.all) backend.release(w);
  });

  it('truncated file: names the file and the tensor that runs past the end', async () => {
    const message = await loadError(hf(safetensors.subarray(0, safetensors.length - 1000)));
    expect(message).toMatch(/model\.safetensors: tensor \S+ ends at byte \d+ but the file has \d+ bytes/);
  });

  it('header length that lies: rejected before reading', async () => {
    const bad = safetensors.slice();
    new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
    expect(await loadError(hf(bad))).toMatch(/model\.safetensors: header length \d+ does not fit/);
  });

  it('header that is not JSON', async () => {
    const bad = safetensors.slice();
    bad[9] = 0x7b; bad[10] = 0x7b;
    expect(await loadError(hf(bad))).toMatch(/model\.safetensors: header is not valid JSON/);
  });

  it('byte range that disagrees with shape × dtype: names the tensor', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    const name = 'model.layers.1.self_attn.o_proj.weight';
    header[name].data_offsets = [header[name].data_offsets[0], header[name].data_offsets[1] - 4];
    expect(await loadError(hf(withHeader(header, data)))).toContain(`tensor ${name} has`);
  });

  it('wrong shape: names the tensor, found and expected shapes', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    const name = 'model.layers.0.self_attn.q_a_proj.weight';
    header[name].shape = [...header[name].shape].reverse();
    expect(await loadError(hf(withHeader(header, data)))).toMatch(/tensor model\.layers\.0\.self_attn\.q_a_proj\.weight has shape \[64, 32\], expected \[32, 64\]/);
  });

  it('missing tensor: names it', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    const name = 'model.layers.2.mlp.experts.5.down_proj.weight';
    header['renamed.tensor'] = header[name];
    delete header[name];
    expect(await loadError(hf(withHeader(header, data)))).toContain(`tensor ${name} is missing`);
  });

  it('unknown dtype: names the tensor and the dtype', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    header['model.norm.weight'].dtype = 'I8';
    expect(await loadError(hf(withHeader(header, data)))).toMatch(/tensor model\.norm\.weight has unsupported dtype "I8"/);
  });

  it('unsupported config value: names the field', async () => {
    const json = JSON.parse(config.toString());
    json.scoring_func = 'sigmoid';
    expect(await loadError(hf(safetensors, new TextEncoder().encode(JSON.stringify(json))))).toMatch(/config\.json: scoring_func "sigmoid" is not supported/);
  });

  it('a tensor listed twice in the header (JSON keeps only the last): names it', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    const name = 'model.norm.weight';
    const json = JSON.stringify(header).replace('{', `{${JSON.stringify(name)}:${JSON.stringify(header[name])},`);
    const bytes = new TextEncoder().encode(json);
    const file = new Uint8Array(8 + bytes.length + data.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(bytes.length), true);
    file.set(bytes, 8);
    file.set(data, 8 + bytes.length);
    expect(await loadError(hf(file))).toBe(`model.safetensors: tensor ${name} is listed twice in the header`);
  });

  it('two tensors sharing bytes: names both', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    const [a, b] = ['model.layers.0.input_layernorm.weight', 'model.layers.0.post_attention_layernorm.weight'];
    header[b].data_offsets = [...header[a].data_offsets];
    expect(await loadError(hf(withHeader(header, data)))).toMatch(/model\.safetensors: tensors \S+ \(bytes \d+\.\.\d+\) and \S+ \(from byte \d+\) overlap/);
  });

  it('a NaN weight with checkTensors: names the tensor and the element; without it the load succeeds', async () => {
    const { header, data } = safetensorsHeader(safetensors);
    const name = 'model.layers.1.self_attn.o_proj.weight';
    const bad = data.slice();
    new DataView(bad.buffer).setFloat32(header[name].data_offsets[0] + 4 * 7, NaN, true);
    const files = hf(withHeader(header, bad));
    const before = backend.allocatedBytes;
    const error = await loadWeights(await openCheckpoint(memorySource(files, 'test-model')), backend, { checkTensors: true }).catch((e: Error) => e);
    expect((error as Error).message).toBe(`test-model/model.safetensors: tensor ${name} holds NaN at element 7 (--check-tensors / checkTensors)`);
    expect(backend.allocatedBytes, 'memory of a failed load is released').toBe(before);
    const weights = await loadWeights(await openCheckpoint(memorySource(files, 'test-model')), backend);
    for (const w of weights.all) backend.release(w);
  });

  it('missing config field: names the field', async () => {
    const json = JSON.parse(config.toString());
    delete json.kv_lora_rank;
    expect(await loadError(hf(safetensors, new TextEncoder().encode(JSON.stringify(json))))).toMatch(/kv_lora_rank is missing/);
  });
});

/** Offset of the first occurrence of `text` within the first `limit` bytes (-1 if absent). */
function findText(bytes: Uint8Array, text: string, limit: number): number {
  const needle = new TextEncoder().encode(text);
  for (let i = 0; i < limit; i++) if (needle.every((b, j) => bytes[i + j] === b)) return i;
  return -1;
}

/** Offset of the ggml type field of a tensor's entry in the GGUF tensor directory. */
function ggufTypeOffset(bytes: Uint8Array, name: string): number {
  const needle = new TextEncoder().encode(name);
  outer: for (let i = 0; i < bytes.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const dims = view.getUint32(i + needle.length, true);
    return i + needle.length + 4 + dims * 8;
  }
  throw new Error(`${name} not found in the GGUF header`);
}

describe('GGUF faults', () => {
  const file = (bytes: Uint8Array) => ({ 'model.gguf': bytes });

  it('the intact GGUF files load (F32 and Q8_0)', async () => {
    for (const name of ['model.gguf', 'model-q8_0.gguf']) {
      const checkpoint = await openCheckpoint(memorySource({ [name]: new Uint8Array(readFileSync(`${GOLDEN_DIR}/${name}`)) }, 'test-model'));
      const weights = await loadWeights(checkpoint, backend);
      expect(weights.layers.length).toBe(3);
      for (const w of weights.all) backend.release(w);
    }
  });

  it('bad magic', async () => {
    const bad = gguf.slice();
    bad.set([0x47, 0x47, 0x4d, 0x4c]);
    expect(await loadError(file(bad))).toMatch(/model\.gguf: bad magic "GGML"/);
  });

  it('truncated file: names the tensor that runs past the end', async () => {
    expect(await loadError(file(gguf.subarray(0, gguf.length - 5000)))).toMatch(/model\.gguf: tensor \S+ ends at byte \d+ but the file has \d+ bytes/);
  });

  it('header cut inside the tensor directory: says so, naming no phantom tensor', async () => {
    for (const cut of [600, 900, 1200]) {
      const message = await loadError(file(gguf.subarray(0, cut)));
      expect(message, `cut at ${cut}`).toMatch(/^model\.gguf: .*truncated/);
      expect(message, `cut at ${cut}`).not.toMatch(/tensor {2}/);
    }
  });

  it('a tensor listed twice: names it', async () => {
    const bad = gguf.slice();
    const from = new TextEncoder().encode('blk.1.attn_output.weight');
    const to = new TextEncoder().encode('blk.0.attn_output.weight');
    const at = ggufTypeOffset(bad, 'blk.1.attn_output.weight');
    // The name sits before its dims: find it again to overwrite it in place (same length).
    const nameAt = bad.subarray(0, at).findLastIndex((_, i) => from.every((b, j) => bad[i + j] === b));
    bad.set(to, nameAt);
    expect(await loadError(file(bad))).toBe('model.gguf: tensor blk.0.attn_output.weight is listed twice');
  });

  it('tensor data not aligned to general.alignment: names the tensor', async () => {
    const bad = gguf.slice();
    const offsetAt = ggufTypeOffset(bad, 'blk.0.attn_norm.weight') + 4;
    const view = new DataView(bad.buffer);
    view.setBigUint64(offsetAt, view.getBigUint64(offsetAt, true) + 4n, true);
    expect(await loadError(file(bad))).toMatch(/model\.gguf: tensor blk\.0\.attn_norm\.weight starts at byte \d+, not aligned to the file's 32-byte alignment/);
  });

  it('two tensors sharing bytes: names both', async () => {
    const bad = gguf.slice();
    const view = new DataView(bad.buffer);
    const a = ggufTypeOffset(bad, 'blk.0.attn_norm.weight') + 4;
    const b = ggufTypeOffset(bad, 'blk.0.ffn_norm.weight') + 4;
    view.setBigUint64(b, view.getBigUint64(a, true), true);
    expect(await loadError(file(bad))).toMatch(/model\.gguf: tensors blk\.0\.(attn|ffn)_norm\.weight \(bytes \d+\.\.\d+\) and blk\.0\.(attn|ffn)_norm\.weight \(from byte \d+\) overlap/);
  });

  it('unsupported tensor type: names the tensor and the type, before anything is uploaded', async () => {
    const bad = gguf.slice();
    // IQ2_XXS (16) on a tensor of the last layer: no earlier tensor may have been uploaded (loadError checks).
    new DataView(bad.buffer).setUint32(ggufTypeOffset(bad, 'blk.2.ffn_down_exps.weight'), 16, true);
    expect(await loadError(file(bad))).toMatch(/tensor blk\.2\.ffn_down_exps\.weight has unsupported type IQ2_XXS; supported: F32, .*Q4_K.*IQ4_XS/);
  });

  it('a block type whose rows are not whole blocks: names the tensor, the type and the row length', async () => {
    const bad = gguf.slice();
    // Q4_K (12) needs rows of 256; this tensor's rows are 64 long.
    new DataView(bad.buffer).setUint32(ggufTypeOffset(bad, 'blk.1.attn_output.weight'), 12, true);
    expect(await loadError(file(bad))).toMatch(/tensor blk\.1\.attn_output\.weight is Q4_K but its row length \d+ is not a multiple of 256/);
  });

  it('wrong shape (dimensions that lie): names the tensor', async () => {
    const bad = gguf.slice();
    const typeAt = ggufTypeOffset(bad, 'blk.0.attn_q_a.weight');
    // ne0 (K) of the 2-D tensor sits 16 bytes before its type field.
    const view = new DataView(bad.buffer);
    view.setBigUint64(typeAt - 16, 32n, true);
    view.setBigUint64(typeAt - 8, 64n, true);
    expect(await loadError(file(bad))).toMatch(/blk\.0\.attn_q_a\.weight has shape \[64, 32\], expected \[32, 64\]/);
  });

  it('wrong architecture: names the key', async () => {
    const bad = gguf.slice();
    // general.architecture is the first key-value pair: its value is the first "deepseek2" in the file.
    const found = findText(bad, 'deepseek2', 512);
    expect(found).toBeGreaterThan(0);
    bad.set(new TextEncoder().encode('deepseek3'), found);
    expect(await loadError(file(bad))).toMatch(/general\.architecture must be "deepseek2", got "deepseek3"/);
  });
});

describe('DeepSeek-V3 router faults (test/fixtures/models/v3-*)', () => {
  const FIXTURES = new URL('../fixtures/models/', import.meta.url).pathname;
  const v3Config = readFileSync(`${FIXTURES}/v3-noaux/config.json`);
  const v3Safetensors = new Uint8Array(readFileSync(`${FIXTURES}/v3-noaux/model.safetensors`));
  const v3Gguf = new Uint8Array(readFileSync(`${FIXTURES}/v3-noaux/model-f32.gguf`));

  it('a missing e_score_correction_bias (safetensors): names the tensor', async () => {
    const { header, data } = safetensorsHeader(v3Safetensors);
    const name = 'model.layers.2.mlp.gate.e_score_correction_bias';
    header['renamed.tensor'] = header[name];
    delete header[name];
    expect(await loadError(hf(withHeader(header, data), v3Config))).toContain(`tensor ${name} is missing`);
  });

  it('a missing blk.N.exp_probs_b.bias (GGUF): names the tensor', async () => {
    const bad = v3Gguf.slice();
    const at = ggufTypeOffset(bad, 'blk.1.exp_probs_b.bias');
    // Rename it in the tensor directory (same length): name, then u32 n_dims = 1 and one u64 dimension.
    bad.set(new TextEncoder().encode('blk.1.exp_probs_x.bias'), at - 4 - 8 - 'blk.1.exp_probs_b.bias'.length);
    expect(await loadError({ 'model.gguf': bad })).toMatch(/model\.gguf: tensor blk\.1\.exp_probs_b\.bias is missing/);
  });

  it('an unknown expert_gating_func (GGUF): names the key and the value', async () => {
    const bad = v3Gguf.slice();
    const key = 'deepseek2.expert_gating_func';
    // The key, its u32 value type, then the u32 value.
    const value = findText(bad, key, 4096) + key.length + 4;
    expect(value).toBeGreaterThan(key.length + 4);
    const view = new DataView(bad.buffer);
    expect(view.getUint32(value, true), 'the value written: 2 = sigmoid').toBe(2);
    view.setUint32(value, 3, true);
    expect(await loadError({ 'model.gguf': bad })).toMatch(/deepseek2\.expert_gating_func 3 is not supported \(1 = softmax, 2 = sigmoid\)/);
  });

  it('the multi-token-prediction layer of v3-grouped is in the file but not loaded', async () => {
    const files = {
      'config.json': new Uint8Array(readFileSync(`${FIXTURES}/v3-grouped/config.json`)),
      'model.safetensors': new Uint8Array(readFileSync(`${FIXTURES}/v3-grouped/model.safetensors`)),
    };
    expect(Object.keys(safetensorsHeader(files['model.safetensors']).header)).toContain('model.layers.3.eh_proj.weight');
    const weights = await loadWeights(await openCheckpoint(memorySource(files, 'v3-grouped')), backend);
    expect(weights.layers.length, 'num_hidden_layers, not num_hidden_layers + num_nextn_predict_layers').toBe(3);
    expect(weights.all.some((w) => w.name.startsWith('model.layers.3.')), 'no tensor of layer 3 uploaded').toBe(false);
    for (const w of weights.all) backend.release(w);
  });
});
