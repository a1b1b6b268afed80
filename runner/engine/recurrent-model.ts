// Drives the three graphs of a checkpoint for one forward step (prefill or decode): prelude once,
// block r times, coda once, with the KV caches of every layer carried between steps. The same code
// runs on onnxruntime-node and onnxruntime-web: the `ort` module is passed in.
import type * as Ort from "onnxruntime-common";
import type { Manifest } from "../../model/manifest.ts";

export type OrtModule = Pick<typeof Ort, "InferenceSession" | "Tensor">;
export type KvStrategy = "full" | "shared";

export interface GraphSessions {
  prelude: Ort.InferenceSession;
  block: Ort.InferenceSession | null;
  coda: Ort.InferenceSession;
}

/** Key/value tensors of every layer, as the graphs name them. */
type LayerCache = { key: Ort.Tensor; value: Ort.Tensor };

/**
 * KV caches for one batch. `full`: one cache per (iteration, block layer) — exact, memory grows
 * with r. `shared`: one cache per block layer, overwritten by every iteration — approximate.
 */
export class KvCache {
  readonly prelude: LayerCache[];
  readonly block: LayerCache[][]; // [iteration or 0][layer]
  readonly coda: LayerCache[];
  length = 0;
  /** Tensors another cache owns (a fork's parent): read, never freed through this cache. */
  readonly borrowed = new Set<Ort.Tensor>();

  constructor(
    readonly strategy: KvStrategy,
    prelude: LayerCache[],
    block: LayerCache[][],
    coda: LayerCache[],
  ) {
    this.prelude = prelude;
    this.block = block;
    this.coda = coda;
  }

  /** Every layer's tensors, in a fixed order. */
  layers(): LayerCache[] {
    return [...this.prelude, ...this.block.flat(), ...this.coda];
  }

  /**
   * A cache that continues from this one without copying it: steps on the fork read these tensors
   * and write their own, so one prefilled context serves several continuations.
   */
  fork(): KvCache {
    const copy = (layers: LayerCache[]) => layers.map((layer) => ({ ...layer }));
    const fork = new KvCache(
      this.strategy,
      copy(this.prelude),
      this.block.map(copy),
      copy(this.coda),
    );
    fork.length = this.length;
    for (const layer of this.layers()) fork.borrowed.add(layer.key).add(layer.value);
    for (const tensor of this.borrowed) fork.borrowed.add(tensor);
    return fork;
  }
}

/** Called with each state and the logits; throws to stop on NaN/Inf (iteration null: not the block). */
export type FiniteCheck = (graph: string, data: Float32Array, iteration: number | null) => void;

export interface StepInputs {
  batch: number;
  /** New tokens this step, [batch, seq] row-major. */
  inputIds: BigInt64Array;
  /** Mask over cache + new tokens, [batch, past + seq]. */
  attentionMask: BigInt64Array;
  positionIds: BigInt64Array;
  /** s_0 for the new positions, [batch, seq, h]; zeros when absent. */
  initialState?: Float32Array;
}

export class RecurrentModel {
  constructor(
    private readonly ort: OrtModule,
    readonly manifest: Manifest,
    readonly sessions: GraphSessions,
  ) {}

  get hiddenSize(): number {
    return this.manifest.architecture.hidden_size;
  }

  get isRecurrent(): boolean {
    return this.manifest.layers.block.length > 0;
  }

  /** Empty caches for a batch that will run `recurrences` iterations per token. */
  newCache(batch: number, strategy: KvStrategy, recurrences: number): KvCache {
    const { layers } = this.manifest;
    const empty = (n: number) => Array.from({ length: n }, () => this.emptyLayer(batch));
    const copies = this.isRecurrent ? (strategy === "full" ? recurrences : 1) : 0;
    return new KvCache(
      strategy,
      empty(layers.prelude.length),
      Array.from({ length: copies }, () => empty(layers.block.length)),
      empty(layers.coda.length),
    );
  }

  /**
   * One step: returns logits [batch, keep or seq, vocab] and advances `cache`.
   * `keepLogits` 0 keeps every position; 1 keeps only the last (decoding).
   */
  async step(
    inputs: StepInputs,
    recurrences: number,
    cache: KvCache,
    keepLogits: number,
    check?: FiniteCheck,
  ): Promise<Ort.Tensor> {
    const { Tensor } = this.ort;
    const seq = inputs.inputIds.length / inputs.batch;
    const total = inputs.attentionMask.length / inputs.batch;
    const h = this.hiddenSize;
    const common = {
      attention_mask: new Tensor("int64", inputs.attentionMask, [inputs.batch, total]),
      position_ids: new Tensor("int64", inputs.positionIds, [inputs.batch, seq]),
    };

    const prelude = await this.run(this.sessions.prelude, {
      ...common,
      input_ids: new Tensor("int64", inputs.inputIds, [inputs.batch, seq]),
      ...feeds(cache.prelude),
    });
    updateCache(cache.prelude, prelude, cache.borrowed);
    const e = prelude.e;
    let state = e;

    if (this.isRecurrent) {
      state = new Tensor(
        "float32",
        inputs.initialState ?? new Float32Array(inputs.batch * seq * h),
        [inputs.batch, seq, h],
      );
      // Shared: every iteration of this step reads the cache as the previous token left it and
      // overwrites it, so the last iteration's keys/values are what later tokens see.
      const sharedPast =
        cache.strategy === "shared" ? cache.block[0].map((layer) => ({ ...layer })) : null;
      const keep = new Set(sharedPast?.flatMap((layer) => [layer.key, layer.value]));
      for (const tensor of cache.borrowed) keep.add(tensor);
      for (let i = 0; i < recurrences; i++) {
        const layers = cache.strategy === "full" ? cache.block[i] : cache.block[0];
        const block = await this.run(this.sessions.block!, {
          ...common,
          e,
          state,
          ...feeds(sharedPast ?? layers),
        });
        updateCache(layers, block, keep);
        release(state);
        state = block.state_out;
        if (state.location === "cpu") check?.("block.onnx", state.data as Float32Array, i);
      }
      for (const tensor of keep) if (!cache.borrowed.has(tensor)) release(tensor);
      release(e);
    }

    const coda = await this.run(this.sessions.coda, {
      ...common,
      state,
      num_logits_to_keep: new Tensor("int64", BigInt64Array.of(BigInt(keepLogits)), []),
      ...feeds(cache.coda),
    });
    updateCache(cache.coda, coda, cache.borrowed);
    release(state);
    check?.("coda.onnx", coda.logits.data as Float32Array, null);
    cache.length = total;
    return coda.logits;
  }

  /**
   * The cache of a smaller batch holding only `rows` (batch indices, in the new order), so rows
   * that finished stop costing graph time. Null when the cache lives on a device (the caller then
   * keeps the whole batch running).
   */
  selectRows(cache: KvCache, rows: readonly number[]): KvCache | null {
    const layers = cache.layers();
    if (layers.some((l) => l.key.location !== "cpu" || l.value.location !== "cpu")) return null;
    const pick = (tensor: Ort.Tensor) => {
      const [batch, ...rest] = tensor.dims;
      const data = tensor.data as Float32Array;
      const size = data.length / batch;
      const out = new (data.constructor as Float32ArrayConstructor)(rows.length * size);
      for (const [i, row] of rows.entries())
        out.set(data.subarray(row * size, (row + 1) * size), i * size);
      return new this.ort.Tensor(tensor.type as "float32", out, [rows.length, ...rest]);
    };
    const select = (list: LayerCache[]) =>
      list.map((layer) => ({ key: pick(layer.key), value: pick(layer.value) }));
    const out = new KvCache(
      cache.strategy,
      select(cache.prelude),
      cache.block.map(select),
      select(cache.coda),
    );
    out.length = cache.length;
    return out;
  }

  /** Frees every cache tensor held on the device (call when a batch is done). */
  releaseCache(cache: KvCache): void {
    for (const layer of cache.layers()) {
      if (!cache.borrowed.has(layer.key)) release(layer.key);
      if (!cache.borrowed.has(layer.value)) release(layer.value);
    }
  }

  private emptyLayer(batch: number): LayerCache {
    const { num_key_value_heads: kv, head_dim: d } = this.manifest.architecture;
    const make = () => new this.ort.Tensor("float32", new Float32Array(0), [batch, kv, 0, d]);
    return { key: make(), value: make() };
  }

  private async run(session: Ort.InferenceSession, inputs: Record<string, Ort.Tensor>) {
    return session.run(inputs);
  }
}

function feeds(layers: LayerCache[]): Record<string, Ort.Tensor> {
  const out: Record<string, Ort.Tensor> = {};
  layers.forEach((layer, i) => {
    out[`past_key_values.${i}.key`] = layer.key;
    out[`past_key_values.${i}.value`] = layer.value;
  });
  return out;
}

/** Device tensors must be freed explicitly; CPU tensors are left to the garbage collector. */
function release(tensor: Ort.Tensor): void {
  if (tensor.location === "gpu-buffer") tensor.dispose();
}

/** Replaces each layer's cache with the graph's presents, freeing the old device tensors. */
function updateCache(
  layers: LayerCache[],
  outputs: Ort.InferenceSession.OnnxValueMapType,
  keep: ReadonlySet<Ort.Tensor> = new Set(),
): void {
  layers.forEach((layer, i) => {
    if (!keep.has(layer.key)) release(layer.key);
    if (!keep.has(layer.value)) release(layer.value);
    layer.key = outputs[`present.${i}.key`] as Ort.Tensor;
    layer.value = outputs[`present.${i}.value`] as Ort.Tensor;
  });
}
